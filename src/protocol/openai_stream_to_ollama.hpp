// The state machine that turns an OpenAI chat stream (each chunk's JSON, in order) into Ollama NDJSON
// lines for /api/chat or /api/generate: one line per content delta ({"model","created_at","message":
// {"role":"assistant","content":...},"done":false} or {"response":...}); tool call fragments are
// gathered and sent whole in one line, arguments as a JSON object, as Ollama does; the last line has
// done true, done_reason, prompt_eval_count and eval_count from the usage chunk (whenever it came),
// and the durations. An error chunk ends the stream with an {"error":"..."} line.
// One per stream; not thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "protocol/ollama_request_to_openai.hpp"
#include "protocol/openai_response_to_ollama.hpp"

namespace switchyard {

class OpenAiToOllamaStream {
 public:
  // `endpoint` is chat or generate; `model` what each line reports (the client's alias).
  OpenAiToOllamaStream(OllamaEndpoint endpoint, std::string model);

  // Appends to `out` the lines one chunk produces (each ending with '\n').
  void on_chunk(const boost::json::object& chunk, std::string& out);
  // The upstream stream ended in order: pending tool calls and the done line.
  void on_done(const OllamaTimings& timings, std::string& out);
  bool finished() const;

  // {"error":"..."}\n: how an Ollama stream reports a failure once its 200 went out.
  static void append_error_line(std::string_view message, std::string& out);
};

}  // namespace switchyard

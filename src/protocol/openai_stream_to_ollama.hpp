// The state machine that turns an OpenAI chat stream (each chunk's JSON, in order) into Ollama NDJSON
// lines for /api/chat or /api/generate: one line per content delta ({"model","created_at","message":
// {"role":"assistant","content":...},"done":false} or {"response":...}); tool call fragments are
// gathered and sent whole in one line, arguments as a JSON object, as Ollama does; the last line has
// done true, done_reason, prompt_eval_count and eval_count from the usage chunk (whenever it came),
// and the durations. An error chunk ends the stream with an {"error":"..."} line. reasoning_content
// goes out as message.thinking (generate: thinking); tool calls keep the upstream's id, get
// function.index, and are sent at the finish_reason chunk or at the end; fragments with no index
// continue the last call unless they bring a new id.
// One per stream; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

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

 private:
  struct PendingCall {
    std::string id;
    std::string name;
    std::string arguments;  // the fragments, concatenated
  };

  // {"model","created_at",...} with the text under message or response, as the endpoint wants.
  void append_line(std::string_view content, std::string_view thinking, std::string& out) const;
  void gather(const boost::json::object& call);
  void flush_tool_calls(std::string& out);

  OllamaEndpoint endpoint_;
  std::string model_;
  bool finished_ = false;
  std::string finish_reason_;
  std::int64_t prompt_tokens_ = 0;
  std::int64_t completion_tokens_ = 0;
  std::vector<PendingCall> calls_;           // in order of arrival
  std::map<std::int64_t, std::size_t> slots_;  // upstream tool index -> position in calls_
};

}  // namespace switchyard

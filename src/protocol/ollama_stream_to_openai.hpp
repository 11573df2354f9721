// The state machine that turns an Ollama NDJSON stream (/api/chat or /api/generate lines, each
// parsed) into OpenAI chunk objects: chat.completion.chunk for chat (role first, content deltas, a
// tool call that arrives whole becomes one tool_calls delta with id, name and string arguments),
// text_completion chunks for generate; the done:true line gives the finish chunk (finish_reason from
// done_reason, tool_calls when tools were called) and a usage chunk (choices []) from
// prompt_eval_count and eval_count. A line {"error":"..."} becomes {"error":{"message":...}}.
// One per stream; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace switchyard {

class OllamaToOpenAiStream {
 public:
  // `chat`: /api/chat lines, else /api/generate lines. `id` and `created` go into every chunk; the
  // model comes from the lines (the caller rewrites it).
  OllamaToOpenAiStream(bool chat, std::string id, std::int64_t created);

  void on_line(const boost::json::object& line, std::vector<boost::json::object>& chunks);
  // done:true (or an error line) was seen.
  bool finished() const;
};

}  // namespace switchyard

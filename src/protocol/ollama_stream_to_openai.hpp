// The state machine that turns an Ollama NDJSON stream (/api/chat or /api/generate lines, each
// parsed) into OpenAI chunk objects: chat.completion.chunk for chat (role first, content deltas, a
// tool call that arrives whole becomes one tool_calls delta with id, name and string arguments),
// text_completion chunks for generate; the done:true line gives the finish chunk (finish_reason from
// done_reason, tool_calls when tools were called) and a usage chunk (choices []) from
// prompt_eval_count and eval_count. A line {"error":"..."} becomes {"error":{"message":...}}.
// Thinking arrives as reasoning_content deltas, in a chunk of its own before the line's content.
// The usage chunk is always made (the caller drops it unless the client asked for include_usage).
// Lines after the end are ignored.
// One per stream; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
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

 private:
  boost::json::object chunk(boost::json::array choices) const;
  // A chat chunk with one choice; the first one of the stream also carries the role.
  void chat_delta(boost::json::object delta, std::vector<boost::json::object>& chunks);
  void finish(const boost::json::object& line, std::vector<boost::json::object>& chunks);

  bool chat_;
  std::string id_;
  std::int64_t created_;
  std::string model_;
  bool role_sent_ = false;
  bool saw_tool_call_ = false;  // tool calls come on earlier lines than done, whose reason says stop
  std::size_t next_tool_index_ = 0;
  bool finished_ = false;
};

}  // namespace switchyard

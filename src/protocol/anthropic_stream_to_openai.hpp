// The state machine that turns an Anthropic Messages stream (named SSE events, each with its parsed
// data) into OpenAI chat.completion.chunk objects: a first chunk with the assistant role, text and
// thinking deltas, tool_use blocks as tool_calls with their own dense index (id and name in the first
// fragment, input_json_delta fragments passed on as argument fragments), the finish chunk from
// message_delta's stop_reason, and a final usage chunk (choices []) at message_stop with input
// tokens from message_start and output tokens from message_delta. An `error` event becomes the
// chunk {"error":{"message":...,"type":...}}. ping and unknown events produce nothing.
// One per stream; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace switchyard {

class AnthropicToOpenAiStream {
 public:
  // `id` and `created` go into every chunk (chatcmpl-..., Unix seconds); the model comes from
  // message_start (the caller rewrites it).
  AnthropicToOpenAiStream(std::string id, std::int64_t created);

  // One event: `name` is its SSE event name (or data.type when the event line is missing).
  // Appends the chunks it produces to `chunks`.
  void on_event(std::string_view name, const boost::json::object& data, std::vector<boost::json::object>& chunks);
  // message_stop (or an error event) was seen: nothing more will come.
  bool finished() const;
};

}  // namespace switchyard

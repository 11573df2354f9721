// The state machine that turns an Anthropic Messages stream (named SSE events, each with its parsed
// data) into OpenAI chat.completion.chunk objects: a first chunk with the assistant role, text and
// thinking deltas, tool_use blocks as tool_calls with their own dense index (id and name in the first
// fragment, input_json_delta fragments passed on as argument fragments), the finish chunk from
// message_delta's stop_reason, and a final usage chunk (choices []) at message_stop with input
// tokens from message_start and output tokens from message_delta. An `error` event becomes the
// chunk {"error":{"message":...,"type":...,"param":null,"code":null}}. ping and unknown events produce
// nothing. Out-of-order input never throws: a content event before message_start gets the role chunk
// first, deltas for a tool block that never started are dropped, a stream without stop_reason still
// gets a finish chunk ("stop") at message_stop, and nothing is produced once finished.
// One per stream; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
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

 private:
  // {"id","object","created","model","choices":[{"index":0,"delta":...,"finish_reason":...}]}
  boost::json::object chunk(boost::json::object delta, std::string_view finish_reason = {}) const;
  // The first chunk (role assistant), once, before anything else.
  void start(std::vector<boost::json::object>& chunks);
  void read_usage(const boost::json::object& usage);
  void on_block_start(const boost::json::object& data, std::vector<boost::json::object>& chunks);
  void on_block_delta(const boost::json::object& data, std::vector<boost::json::object>& chunks);
  void finish(std::string_view finish_reason, std::vector<boost::json::object>& chunks);

  std::string id_;
  std::int64_t created_;
  std::string model_;
  bool started_ = false;
  bool finish_sent_ = false;
  bool finished_ = false;
  int tool_count_ = 0;                            // OpenAI tool indices are dense, from 0
  std::vector<std::pair<std::int64_t, int>> tool_blocks_;  // Anthropic block index -> OpenAI tool index
  std::int64_t input_tokens_ = 0;                 // without the cached part, as Anthropic counts
  std::int64_t cache_read_tokens_ = 0;
  std::int64_t cache_creation_tokens_ = 0;
  std::int64_t output_tokens_ = 0;
};

}  // namespace switchyard

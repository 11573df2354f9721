// The state machine that turns an OpenAI Chat Completions stream (each chunk's JSON, in order) into
// the named events of an Anthropic Messages stream: exactly one message_start; text, thinking and
// tool_use blocks opened and closed one at a time with dense indices of their own (never OpenAI's
// tool index); tool argument fragments passed on as input_json_delta, concatenated, never
// re-sliced; message_delta held back until the usage chunk or [DONE], with stop_reason tool_use
// whenever a tool was called; cached tokens reported as cache_read_input_tokens. Used by the
// /v1/messages route (server/anthropic_adapter). One per stream; not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace switchyard {

class OpenAiToAnthropicStream {
 public:
  // `model` is what message_start reports; `message_id` its id (msg_...).
  OpenAiToAnthropicStream(std::string model, std::string message_id);

  // Appends to `out` (SSE text) the events that one upstream chunk produces.
  void on_chunk(const boost::json::object& chunk, std::string& out);
  // The upstream's [DONE], or its orderly end: closes what is open, message_delta, message_stop.
  void on_done(std::string& out);
  bool finished() const { return finished_; }

  // An Anthropic error event (after the 200 went out the stream can only end this way).
  static void append_error_event(std::string_view type, std::string_view message, std::string& out);

 private:
  enum class Block { none, text, thinking, tool };

  void start(std::string& out);
  void open(Block block, const boost::json::object& content_block, std::string& out);
  void close(std::string& out);
  // content_block_delta whose delta is {"type": type, field: text}.
  static void text_delta(int index, std::string_view type, std::string_view field, std::string_view text,
                         std::string& out);
  // Anthropic counts input without the cached part (OpenAI's prompt_tokens includes it).
  std::int64_t uncached_input() const { return input_tokens_ < 0 ? 0 : std::max<std::int64_t>(input_tokens_ - cached_tokens_, 0); }

  std::string model_;
  std::string message_id_;
  bool started_ = false;
  bool finished_ = false;
  Block open_ = Block::none;
  int open_index_ = -1;
  int next_index_ = 0;
  std::map<std::int64_t, int> tool_blocks_;  // OpenAI tool index -> Anthropic block index
  bool saw_tool_call_ = false;
  std::string finish_reason_;
  std::int64_t input_tokens_ = -1;
  std::int64_t output_tokens_ = 0;
  std::int64_t cached_tokens_ = 0;
};

}  // namespace switchyard

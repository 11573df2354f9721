// libFuzzer target: OpenAiToAnthropicStream fed chunk objects, one per input line (lines that are not
// JSON objects are skipped, as the adapter does), then on_done. What it writes must be an Anthropic
// stream a client SDK accepts: complete SSE events, each named as its data's type; exactly one
// message_start, first; blocks opened and closed one at a time with dense indices; deltas of the
// block's type, into the open block (a parallel tool call's late arguments may go to its own block);
// message_delta, then message_stop, last. append_error_event must also be well formed.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "protocol/openai_to_anthropic_stream.hpp"
#include "protocol/sse_parser.hpp"

namespace {

using namespace switchyard;

// Checks the events in `out` against the grammar of §1.2.4; `finished`: on_done was called.
void check_anthropic_stream(const std::string& out, bool finished) {
  SseParser parser;
  bool started = false;
  bool stopped = false;
  bool block_open = false;
  std::int64_t open_index = -1;
  std::int64_t next_index = 0;
  int message_deltas = 0;
  std::vector<std::string> block_types;  // by index
  parser.feed(out, [&](const SseEvent& event) {
    fuzz::check(!stopped, "nothing after message_stop");
    fuzz::check(!event.event.empty() && event.has_data, "every event has a name and data");
    const auto data = fuzz::parse_object(event.data);
    fuzz::check(data.has_value(), "every event's data is a JSON object");
    fuzz::check(fuzz::string_member(*data, "type") == event.event, "every event is named as its data's type");
    const std::string_view name = event.event;
    const auto index_of = [&] {
      const auto index = fuzz::integer(data->if_contains("index"));
      fuzz::check(index.has_value(), "block events carry an integer index");
      return *index;
    };
    if (name == "message_start") {
      fuzz::check(!started, "exactly one message_start");
      started = true;
      return;
    }
    fuzz::check(started, "message_start comes first");
    if (name == "content_block_start") {
      fuzz::check(!block_open, "one block open at a time");
      fuzz::check(index_of() == next_index, "block indices are dense, in order");
      fuzz::check(message_deltas == 0, "no block after message_delta");
      block_open = true;
      open_index = next_index++;
      const auto* block = data->if_contains("content_block");
      fuzz::check(block && block->is_object(), "content_block_start carries its block");
      block_types.emplace_back(fuzz::string_member(block->get_object(), "type"));
    } else if (name == "content_block_delta") {
      // A parallel tool call's late argument fragment may go to its block after that block closed
      // (the SDKs accumulate by index); anything else goes into the open block.
      const auto index = index_of();
      fuzz::check(index >= 0 && index < next_index, "deltas go into a block that was started");
      const auto* delta = data->if_contains("delta");
      fuzz::check(delta && delta->is_object(), "a delta is an object");
      const auto delta_type = fuzz::string_member(delta->get_object(), "type");
      const std::string& block_type = block_types[static_cast<std::size_t>(index)];
      if (!(block_open && index == open_index))
        fuzz::check(delta_type == "input_json_delta", "only a tool's late arguments go to a closed block");
      if (delta_type == "text_delta") fuzz::check(block_type == "text", "text deltas go into text blocks");
      if (delta_type == "input_json_delta") fuzz::check(block_type == "tool_use", "argument deltas go into tool_use blocks");
      if (delta_type == "thinking_delta" || delta_type == "signature_delta")
        fuzz::check(block_type == "thinking", "thinking deltas go into thinking blocks");
    } else if (name == "content_block_stop") {
      fuzz::check(block_open && index_of() == open_index, "content_block_stop closes the open block");
      block_open = false;
    } else if (name == "message_delta") {
      fuzz::check(!block_open, "message_delta after the last block closed");
      ++message_deltas;
    } else if (name == "message_stop") {
      fuzz::check(!block_open && message_deltas > 0, "message_stop after message_delta");
      stopped = true;
    } else {
      fuzz::check(name == "ping", "only known events");
    }
  });
  fuzz::check(!parser.mid_event(), "the output ends with a complete event");
  if (finished) fuzz::check(stopped, "on_done ends the stream with message_stop");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  OpenAiToAnthropicStream stream("claude-alias \xC3\xA9", "msg_fuzz");
  std::string out;
  std::string error_message;
  fuzz::for_each_line(text, [&](std::string_view line) {
    const auto chunk = fuzz::parse_object(line);
    if (!chunk) return;
    if (const auto* error = chunk->if_contains("error"); error && error->is_object())
      error_message = fuzz::string_member(error->get_object(), "message");
    stream.on_chunk(*chunk, out);
  });
  stream.on_done(out);
  fuzz::check(stream.finished(), "finished after on_done");
  check_anthropic_stream(out, true);

  std::string error_event;
  OpenAiToAnthropicStream::append_error_event("api_error", error_message, error_event);
  SseParser parser;
  int events = 0;
  parser.feed(error_event, [&](const SseEvent& event) {
    ++events;
    const auto body = fuzz::parse_object(event.data);
    fuzz::check(event.event == "error" && body && fuzz::string_member(*body, "type") == "error",
                "an error event is named error and typed error");
  });
  fuzz::check(events == 1 && !parser.mid_event(), "append_error_event writes one whole event");
  return 0;
}

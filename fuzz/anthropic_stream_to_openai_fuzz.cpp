// libFuzzer target: AnthropicToOpenAiStream fed the events of an SSE stream cut into reads as the
// input's split header says, each named by its event line or else its data's type, as the stream
// bridge does (data that is not a JSON object is skipped). The chunks must pass OpenAiChunkCheck,
// message_stop and error must end the stream, and nothing may come once it has ended.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "openai_chunk_check.hpp"
#include "protocol/anthropic_stream_to_openai.hpp"
#include "protocol/sse_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace switchyard;
  const auto split = fuzz::take_split(fuzz::as_text(data, size));
  AnthropicToOpenAiStream stream("chatcmpl-fuzz", 1700000000);
  fuzz::OpenAiChunkCheck check("chatcmpl-fuzz", 1700000000, "chat.completion.chunk");
  SseParser parser;
  std::vector<boost::json::object> chunks;
  fuzz::for_each_read(split, [&](char* bytes, std::size_t n) {
    parser.feed(std::string_view(bytes, n), [&](const SseEvent& event) {
      if (!event.has_data) return;
      const auto object = fuzz::parse_object(event.data);
      if (!object) return;
      std::string_view name = event.event;
      if (name.empty()) name = fuzz::string_member(*object, "type");
      const bool was_finished = stream.finished();
      chunks.clear();
      stream.on_event(name, *object, chunks);
      if (was_finished) fuzz::check(chunks.empty(), "nothing once finished");
      for (const auto& chunk : chunks) check.check_chunk(chunk);
      if (name == "message_stop" || name == "error") fuzz::check(stream.finished(), "message_stop and error end the stream");
      if (check.errored()) fuzz::check(stream.finished(), "an error chunk ends the stream");
    });
  });
  return 0;
}

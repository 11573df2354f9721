// libFuzzer target: OllamaToOpenAiStream fed the lines of an NDJSON stream as the stream bridge feeds
// it: byte 0 picks /api/chat (odd) or /api/generate (even) lines, then a split header cuts the stream
// into reads; lines that are not JSON objects are skipped and the rest is fed at the end. The chunks
// must pass OpenAiChunkCheck; done:true and error lines must end the stream; nothing may come after.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "openai_chunk_check.hpp"
#include "protocol/ndjson_parser.hpp"
#include "protocol/ollama_stream_to_openai.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace switchyard;
  if (size == 0) return 0;
  const bool chat = data[0] & 1;
  const auto split = fuzz::take_split(fuzz::as_text(data + 1, size - 1));
  OllamaToOpenAiStream stream(chat, "chatcmpl-fuzz", 1700000000);
  fuzz::OpenAiChunkCheck check("chatcmpl-fuzz", 1700000000, chat ? "chat.completion.chunk" : "text_completion");
  std::vector<boost::json::object> chunks;
  const auto on_line = [&](std::string_view text) {
    const auto line = fuzz::parse_object(text);
    if (!line) return;
    const bool was_finished = stream.finished();
    chunks.clear();
    stream.on_line(*line, chunks);
    if (was_finished) fuzz::check(chunks.empty(), "lines after the end are ignored");
    for (const auto& chunk : chunks) check.check_chunk(chunk);
    const auto* done = line->if_contains("done");
    if (done && done->is_bool() && done->get_bool()) fuzz::check(stream.finished(), "done:true ends the stream");
    const auto* error = line->if_contains("error");
    if (error && error->is_string()) fuzz::check(stream.finished(), "an error line ends the stream");
  };
  NdjsonParser parser;
  fuzz::for_each_read(split, [&](char* bytes, std::size_t n) { parser.feed(std::string_view(bytes, n), on_line); });
  if (parser.mid_line()) on_line(std::string(parser.rest()));
  return 0;
}

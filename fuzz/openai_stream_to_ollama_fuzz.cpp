// libFuzzer target: OpenAiToOllamaStream fed the chunks of an OpenAI SSE stream as the stream bridge
// feeds it: byte 0 picks /api/chat (odd) or /api/generate (even), then a split header cuts the stream
// into reads; [DONE] and data that is not a JSON object are skipped, an error chunk is the last one
// fed, and on_done follows unless the stream already finished. Every line written must be a JSON
// object ending in a line feed; the last one done (or an error line); append_error_line must write
// {"error":message}.
#include <string>

#include "fuzz_support.hpp"
#include "protocol/openai_stream_to_ollama.hpp"
#include "protocol/sse_parser.hpp"

namespace {

using namespace switchyard;

constexpr std::string_view kAlias = "llama-alias";

// Checks each line of `out`; returns the last one.
boost::json::object check_lines(const std::string& out) {
  fuzz::check(out.empty() || out.back() == '\n', "every line ends with a line feed");
  boost::json::object last;
  fuzz::for_each_line(std::string_view(out).substr(0, out.empty() ? 0 : out.size() - 1), [&](std::string_view line) {
    auto object = fuzz::parse_object(line);
    fuzz::check(object.has_value(), "every line is a JSON object");
    if (!object->contains("error"))
      fuzz::check(fuzz::string_member(*object, "model") == kAlias, "every line names the alias");
    last = std::move(*object);
  });
  return last;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool chat = data[0] & 1;
  const auto split = fuzz::take_split(fuzz::as_text(data + 1, size - 1));
  OpenAiToOllamaStream stream(chat ? OllamaEndpoint::chat : OllamaEndpoint::generate, std::string(kAlias));
  std::string out;
  bool ended = false;
  std::string error_message = "upstream failed";
  SseParser parser;
  fuzz::for_each_read(split, [&](char* bytes, std::size_t n) {
    parser.feed(std::string_view(bytes, n), [&](const SseEvent& event) {
      if (ended || !event.has_data || event.data == "[DONE]") return;
      const auto chunk = fuzz::parse_object(event.data);
      if (!chunk) return;
      stream.on_chunk(*chunk, out);
      if (const auto* error = chunk->if_contains("error")) {
        ended = true;
        if (error->is_object()) {
          if (const auto message = fuzz::string_member(error->get_object(), "message"); !message.empty())
            error_message = message;
        }
      }
    });
  });
  const OllamaTimings timings{5'000'000, 0, 2'000'000, 3'000'000};
  if (!stream.finished()) stream.on_done(timings, out);
  fuzz::check(stream.finished(), "finished after on_done");
  const auto last = check_lines(out);
  const auto* done = last.if_contains("done");
  fuzz::check(last.contains("error") || (done && done->is_bool() && done->get_bool()),
              "the last line is done or an error");

  std::string error_line;
  OpenAiToOllamaStream::append_error_line(error_message, error_line);
  fuzz::check(!error_line.empty() && error_line.back() == '\n', "an error line ends with a line feed");
  const auto error = fuzz::parse_object(std::string_view(error_line).substr(0, error_line.size() - 1));
  fuzz::check(error && fuzz::string_member(*error, "error") == error_message, "an error line is {error:message}");
  return 0;
}

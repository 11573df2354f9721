// libFuzzer target: an OpenAI answer through openai_to_ollama_response for each endpoint, plus
// ollama_tool_call and ollama_done_reason on strings from the input and ollama_timestamp. Answers must
// serialise to valid JSON and name the alias; chat and generate answers are done, with a known
// done_reason; tool-call arguments are JSON objects.
#include <string>

#include "fuzz_support.hpp"
#include "protocol/openai_response_to_ollama.hpp"

namespace {

using namespace switchyard;

constexpr std::string_view kAlias = "llama-alias";

void check_tool_calls(const boost::json::object& answer) {
  const auto* message = answer.if_contains("message");
  const auto* calls = message && message->is_object() ? message->get_object().if_contains("tool_calls") : nullptr;
  if (!calls) return;
  fuzz::check(calls->is_array(), "tool_calls is an array");
  for (const auto& call : calls->get_array()) {
    const auto* function = call.is_object() ? call.get_object().if_contains("function") : nullptr;
    fuzz::check(function && function->is_object(), "a tool call has a function");
    const auto* arguments = function->get_object().if_contains("arguments");
    fuzz::check(arguments && arguments->is_object(), "tool arguments are a JSON object");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const auto reason = ollama_done_reason(text);
  fuzz::check(reason == "stop" || reason == "length", "every finish_reason maps to stop or length");

  const auto openai = fuzz::parse_object(text);
  if (!openai) return 0;
  const OllamaTimings timings{5'000'000, 1'000, 2'000'000, 3'000'000};
  for (const auto endpoint :
       {OllamaEndpoint::chat, OllamaEndpoint::generate, OllamaEndpoint::embed, OllamaEndpoint::embeddings}) {
    boost::json::object ollama;
    openai_to_ollama_response(endpoint, *openai, kAlias, timings, ollama);
    fuzz::check_serialises(ollama, "the translated answer serialises to valid JSON");
    if (endpoint == OllamaEndpoint::chat || endpoint == OllamaEndpoint::generate) {
      fuzz::check(fuzz::string_member(ollama, "model") == kAlias, "the answer names the alias");
      const auto* done = ollama.if_contains("done");
      fuzz::check(done && done->is_bool() && done->get_bool(), "the answer is done");
      const auto done_reason = fuzz::string_member(ollama, "done_reason");
      fuzz::check(done_reason == "stop" || done_reason == "length", "a known done_reason");
      fuzz::check(fuzz::string_member(ollama, "created_at").size() == 30, "created_at has nanoseconds");
    }
    if (endpoint == OllamaEndpoint::chat) check_tool_calls(ollama);
  }

  // Strings from the answer as the stream translator passes them: id, name and argument text.
  const auto id = fuzz::string_member(*openai, "id");
  const auto name = fuzz::string_member(*openai, "model");
  const auto arguments = fuzz::string_member(*openai, "arguments");
  boost::json::object answer{{"message", boost::json::object{{"tool_calls",
      boost::json::array{ollama_tool_call(id, 0, name, arguments)}}}}};
  fuzz::check_serialises(answer, "a tool call serialises to valid JSON");
  check_tool_calls(answer);
  return 0;
}

// libFuzzer target: an Anthropic Messages answer through anthropic_to_openai_response, as the gateway
// translates an Anthropic upstream's answer, plus openai_finish_reason on any string. The answer must
// serialise to valid JSON with a known finish_reason and string tool-call arguments.
#include <string>

#include "fuzz_support.hpp"
#include "protocol/anthropic_response_to_openai.hpp"

namespace {

bool known_finish_reason(std::string_view reason) {
  return reason == "stop" || reason == "length" || reason == "tool_calls" || reason == "content_filter" ||
         reason == "function_call";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace switchyard;
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::check(known_finish_reason(openai_finish_reason(text)), "every stop_reason maps to a finish_reason");

  const auto anthropic = fuzz::parse_object(text);
  if (!anthropic) return 0;
  boost::json::object openai;
  anthropic_to_openai_response(*anthropic, openai);
  fuzz::check_serialises(openai, "the translated answer serialises to valid JSON");
  const auto* choices = openai.if_contains("choices");
  if (choices == nullptr || !choices->is_array()) return 0;
  for (const auto& choice : choices->get_array()) {
    fuzz::check(choice.is_object(), "a choice is an object");
    const auto& c = choice.get_object();
    fuzz::check(known_finish_reason(fuzz::string_member(c, "finish_reason")), "a known finish_reason");
    const auto* message = c.if_contains("message");
    if (!message || !message->is_object()) continue;
    const auto* calls = message->get_object().if_contains("tool_calls");
    if (!calls) continue;
    fuzz::check(calls->is_array(), "tool_calls is an array");
    for (const auto& call : calls->get_array()) {
      const auto* function = call.is_object() ? call.get_object().if_contains("function") : nullptr;
      fuzz::check(function && function->is_object(), "a tool call has a function");
      const auto* arguments = function->get_object().if_contains("arguments");
      fuzz::check(arguments && arguments->is_string(), "tool arguments are a string");
    }
  }
  return 0;
}

// libFuzzer target: an OpenAI chat.completion answer through openai_to_anthropic_response, as the
// /v1/messages route translates an upstream's answer, plus the stop-reason and tool-id helpers on
// the strings it carries. The message must serialise to valid JSON; ids must be what Anthropic takes.
#include <string>

#include "fuzz_support.hpp"
#include "protocol/openai_to_anthropic.hpp"

namespace {

bool anthropic_id_chars(std::string_view id) {
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace switchyard;
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::check(anthropic_id_chars(anthropic_tool_id(text)), "a tool id made safe has only [A-Za-z0-9_-]");
  fuzz::check(!anthropic_stop_reason(text).empty(), "every finish_reason maps to a stop_reason");

  const auto openai = fuzz::parse_object(text);
  if (!openai) return 0;
  boost::json::object anthropic;
  openai_to_anthropic_response(*openai, anthropic);
  fuzz::check_serialises(anthropic, "the translated message serialises to valid JSON");
  if (const auto* content = anthropic.if_contains("content"); content && content->is_array()) {
    for (const auto& block : content->get_array()) {
      if (!block.is_object() || fuzz::string_member(block.get_object(), "type") != "tool_use") continue;
      fuzz::check(anthropic_id_chars(fuzz::string_member(block.get_object(), "id")), "tool_use ids are safe for Anthropic");
    }
  }
  return 0;
}

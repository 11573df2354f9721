// libFuzzer target: an OpenAI chat request through openai_to_anthropic_request, as the gateway sends
// any client's request to an Anthropic upstream. A translated request must serialise to valid JSON and
// be one Anthropic accepts in shape: the model as given, max_tokens set, user and assistant turns
// alternating, no empty turn, tool ids of [A-Za-z0-9_-], temperature in 0..1, tool_choice only with
// tools. A refused one must say why.
#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "protocol/openai_request_to_anthropic.hpp"

namespace {

using namespace switchyard;

bool anthropic_id_chars(std::string_view id) {
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void check_blocks(const boost::json::array& blocks) {
  fuzz::check(!blocks.empty(), "no empty turn");
  for (const auto& block : blocks) {
    fuzz::check(block.is_object(), "content blocks are objects");
    const auto& b = block.get_object();
    const auto type = fuzz::string_member(b, "type");
    if (type == "tool_use") fuzz::check(anthropic_id_chars(fuzz::string_member(b, "id")), "tool_use ids are safe");
    if (type == "tool_result")
      fuzz::check(anthropic_id_chars(fuzz::string_member(b, "tool_use_id")), "tool_result ids are safe");
    if (type == "text") {
      const auto text = fuzz::string_member(b, "text");
      fuzz::check(text.find_first_not_of(" \t\r\n") != std::string_view::npos, "no empty or whitespace-only text");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto openai = fuzz::parse_object(fuzz::as_text(data, size));
  if (!openai) return 0;
  boost::json::object anthropic;
  ApiError error;
  if (!openai_to_anthropic_request(*openai, anthropic, AnthropicRequestOptions{}, error)) {
    fuzz::check(!error.message.empty(), "a refused request comes with a message");
    return 0;
  }
  fuzz::check_serialises(anthropic, "the translated request serialises to valid JSON");
  if (const auto model = fuzz::string_member(*openai, "model"); !model.empty())
    fuzz::check(fuzz::string_member(anthropic, "model") == model, "the model is copied as given");
  const auto* max_tokens = anthropic.if_contains("max_tokens");
  fuzz::check(fuzz::integer(max_tokens).has_value(), "max_tokens is always set");
  if (const auto* temperature = anthropic.if_contains("temperature"); temperature && temperature->is_number()) {
    const double t = temperature->to_number<double>();
    fuzz::check(t >= 0 && t <= 1, "temperature is clamped to 0..1");
  }
  if (anthropic.contains("tool_choice")) fuzz::check(anthropic.contains("tools"), "tool_choice only with tools");
  const auto* messages = anthropic.if_contains("messages");
  fuzz::check(messages && messages->is_array(), "messages is an array");
  std::string_view previous;
  for (const auto& message : messages->get_array()) {
    fuzz::check(message.is_object(), "messages are objects");
    const auto& m = message.get_object();
    const auto role = fuzz::string_member(m, "role");
    fuzz::check(role == "user" || role == "assistant", "only user and assistant turns");
    fuzz::check(role != previous, "turns alternate");
    previous = role;
    const auto* content = m.if_contains("content");
    fuzz::check(content && (content->is_string() || content->is_array()), "content is a string or blocks");
    if (content->is_array()) check_blocks(content->get_array());
    if (content->is_string())
      fuzz::check(content->get_string().find_first_not_of(" \t\r\n") != boost::json::string::npos,
                  "no empty or whitespace-only text");
  }
  return 0;
}

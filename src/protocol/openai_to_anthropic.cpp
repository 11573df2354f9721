#include "protocol/openai_to_anthropic.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

#include "protocol/json_fields.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

std::int64_t integer_or_zero(const json::object* object, std::string_view key) {
  if (!object) return 0;
  const auto* value = object->if_contains(key);
  return value && value->is_int64() ? value->get_int64() : value && value->is_uint64() ? static_cast<std::int64_t>(value->get_uint64()) : 0;
}

// Tool arguments are a JSON string; anything that is not a JSON object becomes {}.
json::value parse_arguments(const json::value* arguments) {
  if (!arguments || !arguments->is_string()) return json::object{};
  boost::system::error_code ec;
  auto parsed = json::parse(arguments->get_string(), ec);
  if (ec || !parsed.is_object()) return json::object{};
  return parsed;
}

}  // namespace

std::string_view anthropic_stop_reason(std::string_view finish_reason) {
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "tool_calls" || finish_reason == "function_call") return "tool_use";
  if (finish_reason == "content_filter") return "refusal";
  return "end_turn";
}

std::string anthropic_tool_id(std::string_view id) {
  std::string safe(id.empty() ? std::string_view("toolu_none") : id);
  std::replace_if(safe.begin(), safe.end(),
                  [](char c) { return !(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'); }, '_');
  return safe;
}

void openai_to_anthropic_response(const json::object& openai, json::object& anthropic) {
  anthropic.clear();
  const auto* id = openai.if_contains("id");
  anthropic["id"] = "msg_" + anthropic_tool_id(id && id->is_string() ? std::string_view(id->get_string()) : "");
  anthropic["type"] = "message";
  anthropic["role"] = "assistant";
  anthropic["model"] = openai.contains("model") ? openai.at("model") : json::value("");

  json::array content;
  std::string_view finish = "stop";
  const json::object* message = nullptr;
  if (const auto* choice = first_choice(openai)) {
    if (const auto reason = string_at(*choice, "finish_reason"); !reason.empty()) finish = reason;
    message = object_at(*choice, "message");
  }
  bool saw_tool_call = false;
  if (message) {
    if (const auto* text = message->if_contains("content"); text && text->is_string() && !text->get_string().empty())
      content.push_back(json::object{{"type", "text"}, {"text", *text}});
    if (const auto* calls = message->if_contains("tool_calls"); calls && calls->is_array()) {
      for (const auto& call : calls->get_array()) {
        if (!call.is_object()) continue;
        const auto& c = call.get_object();
        const auto* function = c.if_contains("function");
        if (!function || !function->is_object()) continue;
        const auto& f = function->get_object();
        const auto* call_id = c.if_contains("id");
        content.push_back(json::object{
            {"type", "tool_use"},
            {"id", anthropic_tool_id(call_id && call_id->is_string() ? std::string_view(call_id->get_string()) : "")},
            {"name", f.contains("name") ? f.at("name") : json::value("")},
            {"input", parse_arguments(f.if_contains("arguments"))},
        });
        saw_tool_call = true;
      }
    }
  }
  anthropic["content"] = std::move(content);
  anthropic["stop_reason"] = saw_tool_call ? "tool_use" : anthropic_stop_reason(finish);
  anthropic["stop_sequence"] = nullptr;

  const auto* usage_value = openai.if_contains("usage");
  const json::object* usage = usage_value && usage_value->is_object() ? &usage_value->get_object() : nullptr;
  const json::object* details = nullptr;
  if (usage)
    if (const auto* d = usage->if_contains("prompt_tokens_details"); d && d->is_object()) details = &d->get_object();
  const auto cached = integer_or_zero(details, "cached_tokens");
  const auto cache_write = integer_or_zero(details, "cache_write_tokens");
  anthropic["usage"] = json::object{
      {"input_tokens", std::max<std::int64_t>(integer_or_zero(usage, "prompt_tokens") - cached - cache_write, 0)},
      {"output_tokens", integer_or_zero(usage, "completion_tokens")},
      {"cache_creation_input_tokens", cache_write},
      {"cache_read_input_tokens", cached},
  };
}

}  // namespace switchyard

#include "protocol/anthropic_response_to_openai.hpp"

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "protocol/json_fields.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

std::int64_t tokens(const json::object* usage, std::string_view key) {
  if (!usage) return 0;
  const auto* value = usage->if_contains(key);
  if (value && value->is_int64()) return std::max<std::int64_t>(value->get_int64(), 0);
  if (value && value->is_uint64()) return static_cast<std::int64_t>(value->get_uint64());
  return 0;
}

}  // namespace

std::string_view openai_finish_reason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn (the client may resend), null, unknown
}

void anthropic_to_openai_response(const json::object& anthropic, json::object& openai) {
  openai.clear();
  openai["id"] = "chatcmpl-" + std::string(string_at(anthropic, "id"));
  openai["object"] = "chat.completion";
  openai["created"] = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  openai["model"] = string_at(anthropic, "model");

  std::string text;
  std::string reasoning;
  json::array tool_calls;
  if (const auto* content = anthropic.if_contains("content"); content && content->is_array()) {
    for (const auto& item : content->get_array()) {
      if (!item.is_object()) continue;
      const auto& block = item.get_object();
      const auto type = string_at(block, "type");
      if (type == "text") {
        text += string_at(block, "text");  // citations split one text into several blocks: no separator
      } else if (type == "thinking") {
        reasoning += string_at(block, "thinking");
      } else if (type == "tool_use") {
        const auto* input = block.if_contains("input");
        tool_calls.push_back(json::object{
            {"id", string_at(block, "id")},
            {"type", "function"},
            {"function", json::object{{"name", string_at(block, "name")},
                                      {"arguments", input && input->is_object() ? json::serialize(*input) : std::string("{}")}}},
        });
      }
      // redacted_thinking, server tool blocks and their results have no OpenAI counterpart.
    }
  }

  json::object message{{"role", "assistant"}};
  message["content"] = text.empty() && !tool_calls.empty() ? json::value(nullptr) : json::value(text);
  message["refusal"] = nullptr;
  if (!reasoning.empty()) message["reasoning_content"] = reasoning;
  const bool has_tool_calls = !tool_calls.empty();
  if (has_tool_calls) message["tool_calls"] = std::move(tool_calls);

  auto finish = openai_finish_reason(string_at(anthropic, "stop_reason"));
  if (has_tool_calls && finish == "stop") finish = "tool_calls";  // clients act on tool_calls only when told so
  openai["choices"] = json::array{json::object{
      {"index", 0},
      {"message", std::move(message)},
      {"logprobs", nullptr},
      {"finish_reason", finish},
  }};

  const auto* usage_value = anthropic.if_contains("usage");
  const json::object* usage = usage_value && usage_value->is_object() ? &usage_value->get_object() : nullptr;
  // Anthropic's input_tokens leaves out the cached part; OpenAI's prompt_tokens includes it.
  const auto cache_read = tokens(usage, "cache_read_input_tokens");
  const auto prompt = tokens(usage, "input_tokens") + cache_read + tokens(usage, "cache_creation_input_tokens");
  const auto completion = tokens(usage, "output_tokens");
  openai["usage"] = json::object{
      {"prompt_tokens", prompt},
      {"completion_tokens", completion},
      {"total_tokens", prompt + completion},
      {"prompt_tokens_details", json::object{{"cached_tokens", cache_read}}},
  };
}

}  // namespace switchyard

#include "protocol/anthropic_to_openai.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include "protocol/reasoning_effort.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

bool fail(ApiError& error, std::string message, std::string param) {
  return fail_with(error, ErrorKind::invalid_request, std::move(message), std::move(param));
}

// At most `max_bytes` of `text`, never ending inside a UTF-8 sequence (a cut one is not valid JSON text).
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // text[end] continues a sequence
  return text.substr(0, end);
}

// A tool call id as OpenAI takes it: OpenAI has refused ids over 40 characters
// (string_above_max_length), so a longer one becomes its first 31 bytes (fewer, to end on a whole
// UTF-8 character), "_" and 8 hex digits of its SHA-256. The same id always gives the same result, so
// a tool_use and the tool_result that answers it still match; ids within the limit pass unchanged.
json::value openai_tool_id(const json::value* id) {
  constexpr std::size_t kMaxLength = 40;
  if (!id || !id->is_string()) return "";
  const std::string_view text = id->get_string();
  if (text.size() <= kMaxLength) return *id;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1 || digest_size < 4)
    return json::string(utf8_prefix(text, kMaxLength));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string shortened(utf8_prefix(text, kMaxLength - 9));
  shortened.push_back('_');
  for (int i = 0; i < 4; ++i) {
    shortened.push_back(kHex[digest[i] >> 4]);
    shortened.push_back(kHex[digest[i] & 0xf]);
  }
  return json::string(shortened);
}

// An Anthropic image block as an OpenAI image_url part; false for an unknown source.
bool image_part(const json::object& block, json::object& part) {
  const auto* source = block.if_contains("source");
  if (!source || !source->is_object()) return false;
  const auto& s = source->get_object();
  const auto* type = s.if_contains("type");
  const auto* media_type = s.if_contains("media_type");
  const auto* data = s.if_contains("data");
  const auto* link = s.if_contains("url");
  std::string url;
  if (type && *type == "base64" && media_type && media_type->is_string() && data && data->is_string()) {
    url = "data:" + std::string(media_type->get_string()) + ";base64," + std::string(data->get_string());
  } else if (type && *type == "url" && link && link->is_string()) {
    url = std::string(link->get_string());
  } else {
    return false;
  }
  part = json::object{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}};
  return true;
}

// A tool_result's content as the text of a tool message; images go to `images` (OpenAI tool
// messages take text only, so they follow in a user message).
std::string tool_result_text(const json::object& block, json::array& images) {
  std::string text;
  if (const auto* content = block.if_contains("content")) {
    if (content->is_string()) {
      text = content->get_string();
    } else if (content->is_array()) {
      for (const auto& item : content->get_array()) {
        if (!item.is_object()) continue;
        const auto& part = item.get_object();
        const auto* type = part.if_contains("type");
        const auto* part_text = part.if_contains("text");
        if (type && *type == "text" && part_text && part_text->is_string()) {
          if (!text.empty()) text += "\n";
          text += part_text->get_string();
        } else if (type && *type == "image") {
          json::object image;
          if (image_part(part, image)) images.push_back(std::move(image));
        }
      }
    }
  }
  const auto* is_error = block.if_contains("is_error");
  if (is_error && is_error->is_bool() && is_error->get_bool()) text = "Error: " + text;
  return text;
}

// One Anthropic message -> one or more OpenAI messages, appended to `out`.
bool convert_message(const json::object& message, std::size_t index, json::array& out, ApiError& error) {
  const std::string param = "messages[" + std::to_string(index) + "]";
  const auto* role = message.if_contains("role");
  if (!role || !role->is_string() || (*role != "user" && *role != "assistant"))
    return fail(error, "`" + param + ".role` must be \"user\" or \"assistant\".", param + ".role");
  const bool assistant = *role == "assistant";
  const auto* content = message.if_contains("content");
  if (!content) return fail(error, "`" + param + ".content` is required.", param + ".content");
  if (content->is_string()) {
    out.push_back(json::object{{"role", role->get_string()}, {"content", content->get_string()}});
    return true;
  }
  if (!content->is_array())
    return fail(error, "`" + param + ".content` must be a string or an array of blocks.", param + ".content");

  json::array parts;        // user text and images, or the assistant's text
  std::string assistant_text;
  json::array tool_calls;   // assistant tool_use
  json::array tool_messages;  // user tool_result, which OpenAI wants before the user's own content
  json::array result_images;
  for (const auto& item : content->get_array()) {
    if (!item.is_object()) continue;
    const auto& block = item.get_object();
    const auto* type = block.if_contains("type");
    if (!type || !type->is_string()) continue;
    if (*type == "text") {
      const auto* text = block.if_contains("text");
      if (!text || !text->is_string() || text->get_string().empty()) continue;  // OpenAI has no use for ""
      if (assistant) {
        assistant_text += text->get_string();
      } else {
        parts.push_back(json::object{{"type", "text"}, {"text", text->get_string()}});
      }
    } else if (*type == "image") {
      json::object part;
      if (!image_part(block, part))
        return fail(error, "An image block in `" + param + "` has no usable source.", param + ".content");
      parts.push_back(std::move(part));
    } else if (*type == "tool_use" && assistant) {
      const auto* input = block.if_contains("input");
      tool_calls.push_back(json::object{
          {"id", openai_tool_id(block.if_contains("id"))},
          {"type", "function"},
          {"function", json::object{{"name", block.contains("name") ? block.at("name") : json::value("")},
                                    {"arguments", json::serialize(input ? *input : json::value(json::object{}))}}},
      });
    } else if (*type == "tool_result" && !assistant) {
      tool_messages.push_back(json::object{
          {"role", "tool"},
          {"tool_call_id", openai_tool_id(block.if_contains("tool_use_id"))},
          {"content", tool_result_text(block, result_images)},
      });
    }
    // thinking and redacted_thinking blocks have no OpenAI counterpart and are dropped.
  }
  if (assistant) {
    json::object converted{{"role", "assistant"}};
    converted["content"] = assistant_text.empty() && !tool_calls.empty() ? json::value(nullptr) : json::value(assistant_text);
    if (!tool_calls.empty()) converted["tool_calls"] = std::move(tool_calls);
    out.push_back(std::move(converted));
    return true;
  }
  for (auto& tool : tool_messages) out.push_back(std::move(tool));
  for (auto& image : result_images) parts.push_back(std::move(image));
  if (!parts.empty()) out.push_back(json::object{{"role", "user"}, {"content", std::move(parts)}});
  return true;
}

json::value tool_choice(const json::object& choice, bool& parallel_off) {
  const auto* disable = choice.if_contains("disable_parallel_tool_use");
  parallel_off = disable && disable->is_bool() && disable->get_bool();
  const auto* type = choice.if_contains("type");
  if (type && *type == "any") return "required";
  if (type && *type == "none") return "none";
  if (type && *type == "tool" && choice.contains("name"))
    return json::object{{"type", "function"}, {"function", json::object{{"name", choice.at("name")}}}};
  return "auto";
}

}  // namespace

bool anthropic_to_openai_request(const json::object& anthropic, json::object& openai, ApiError& error) {
  openai.clear();
  const auto* model = anthropic.if_contains("model");
  if (!model || !model->is_string()) return fail(error, "`model` is required and must be a string.", "model");
  openai["model"] = *model;

  json::array messages;
  if (const auto* system = anthropic.if_contains("system")) {
    std::string text;
    if (system->is_string()) {
      text = system->get_string();
    } else if (system->is_array()) {
      for (const auto& block : system->get_array()) {
        const auto* block_text = block.is_object() ? block.get_object().if_contains("text") : nullptr;
        if (block_text && block_text->is_string()) {
          if (!text.empty()) text += "\n";
          text += block_text->get_string();
        }
      }
    }
    if (!text.empty()) messages.push_back(json::object{{"role", "system"}, {"content", text}});
  }
  const auto* list = anthropic.if_contains("messages");
  if (!list || !list->is_array()) return fail(error, "`messages` is required and must be an array.", "messages");
  std::size_t index = 0;
  for (const auto& message : list->get_array()) {
    if (!message.is_object())
      return fail(error, "`messages[" + std::to_string(index) + "]` must be an object.", "messages");
    if (!convert_message(message.get_object(), index, messages, error)) return false;
    ++index;
  }
  openai["messages"] = std::move(messages);

  const auto* max_tokens = anthropic.if_contains("max_tokens");
  if (!max_tokens || !max_tokens->is_int64() || max_tokens->get_int64() < 1)
    return fail(error, "`max_tokens` is required and must be a positive integer.", "max_tokens");
  openai["max_tokens"] = *max_tokens;
  for (const char* name : {"temperature", "top_p"})  // unset stays unset
    if (const auto* value = anthropic.if_contains(name)) openai[name] = *value;
  if (const auto* stops = anthropic.if_contains("stop_sequences"); stops && stops->is_array() && !stops->get_array().empty())
    openai["stop"] = *stops;
  if (const auto* stream = anthropic.if_contains("stream"); stream && stream->is_bool() && stream->get_bool()) {
    openai["stream"] = true;
    openai["stream_options"] = json::object{{"include_usage", true}};  // Anthropic clients always get usage
  }
  if (const auto* thinking = anthropic.if_contains("thinking"))
    if (const auto effort = effort_for_thinking(*thinking); !effort.empty()) openai["reasoning_effort"] = effort;
  if (const auto* config = anthropic.if_contains("output_config"); config && config->is_object())
    if (const auto effort = effort_for_output_effort(config->get_object().if_contains("effort")); !effort.empty())
      openai["reasoning_effort"] = effort;  // the newer, explicit setting wins over the budget's bucket
  if (const auto* metadata = anthropic.if_contains("metadata"); metadata && metadata->is_object())
    if (const auto* user = metadata->get_object().if_contains("user_id"); user && user->is_string()) openai["user"] = *user;

  if (const auto* tools = anthropic.if_contains("tools"); tools && tools->is_array() && !tools->get_array().empty()) {
    json::array functions;
    for (const auto& tool : tools->get_array()) {
      if (!tool.is_object()) continue;
      const auto& t = tool.get_object();
      if (!t.contains("input_schema")) continue;  // Anthropic server tools have no OpenAI counterpart
      json::object function{{"name", t.contains("name") ? t.at("name") : json::value("")},
                            {"parameters", t.at("input_schema")}};
      if (const auto* description = t.if_contains("description")) function["description"] = *description;
      functions.push_back(json::object{{"type", "function"}, {"function", std::move(function)}});
    }
    if (!functions.empty()) openai["tools"] = std::move(functions);
  }
  if (const auto* choice = anthropic.if_contains("tool_choice"); choice && choice->is_object()) {
    bool parallel_off = false;
    openai["tool_choice"] = tool_choice(choice->get_object(), parallel_off);
    if (parallel_off) openai["parallel_tool_calls"] = false;
  }
  return true;
}

}  // namespace switchyard

#include "protocol/openai_request_to_ollama.hpp"

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "protocol/json_fields.hpp"
#include "protocol/reasoning_effort.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

void copy_if_present(const json::object& from, std::string_view key, json::object& to) {
  if (const auto* value = from.if_contains(key); value && !value->is_null()) to[key] = *value;
}

void copy_number(const json::object& from, std::string_view from_key, json::object& to, std::string_view to_key) {
  if (const auto* value = from.if_contains(from_key); value && value->is_number()) to[to_key] = *value;
}

std::string path(std::string_view head, std::size_t i) { return std::string(head) + "[" + std::to_string(i) + "]"; }

// n > 1 asks for several answers at once; Ollama gives one.
bool check_n(const json::object& openai, ApiError& error) {
  const auto* n = openai.if_contains("n");
  if (!n || !n->is_number()) return true;
  boost::system::error_code ec;
  const auto count = n->to_number<double>(ec);
  if (!ec && count > 1) return fail_with(error, ErrorKind::invalid_request, "n > 1 is not supported by this upstream", "n");
  return true;
}

// The sampling parameters every endpoint shares, into Ollama's `options` (written only when not empty),
// plus `stream` (always: Ollama streams unless told otherwise) and `keep_alive`.
void common_fields(const json::object& openai, json::object& ollama) {
  copy_if_present(openai, "model", ollama);
  json::object options;
  for (const std::string_view key : {"temperature", "top_p", "top_k", "seed", "presence_penalty", "frequency_penalty"})
    copy_number(openai, key, options, key);
  // max_completion_tokens is the newer name; it wins when a client sends both.
  copy_number(openai, "max_tokens", options, "num_predict");
  copy_number(openai, "max_completion_tokens", options, "num_predict");
  if (const auto* stop = openai.if_contains("stop")) {
    json::array stops;
    if (stop->is_string()) {
      stops.push_back(*stop);
    } else if (stop->is_array()) {
      for (const auto& s : stop->get_array())
        if (s.is_string()) stops.push_back(s);
    }
    if (!stops.empty()) options["stop"] = std::move(stops);
  }
  if (!options.empty()) ollama["options"] = std::move(options);
  const auto* stream = openai.if_contains("stream");
  ollama["stream"] = stream && stream->is_bool() && stream->get_bool();
  copy_if_present(openai, "keep_alive", ollama);
}

// data:<mime>;base64,<b64> -> <b64>; false for anything else (Ollama takes the bytes only).
bool base64_of_data_url(std::string_view url, std::string_view& b64) {
  if (url.substr(0, 5) != "data:") return false;
  const auto comma = url.find(',');
  if (comma == std::string_view::npos) return false;
  const auto meta = url.substr(5, comma - 5);
  if (meta.size() < 7 || meta.substr(meta.size() - 7) != ";base64") return false;
  b64 = url.substr(comma + 1);
  return !b64.empty();
}

// A message's content (string, null, or parts) -> Ollama's content string and images.
bool convert_content(const json::value* content, std::size_t i, std::string& text, json::array& images,
                     ApiError& error) {
  if (!content || content->is_null()) return true;
  if (content->is_string()) {
    text = content->get_string();
    return true;
  }
  const auto content_path = path("messages", i) + ".content";
  if (!content->is_array())
    return fail_with(error, ErrorKind::invalid_request, "content must be a string or an array of parts", content_path);
  bool first_text = true;
  const auto& parts = content->get_array();
  for (std::size_t j = 0; j < parts.size(); ++j) {
    const auto part_path = path(content_path, j);
    if (!parts[j].is_object())
      return fail_with(error, ErrorKind::invalid_request, "a content part must be an object", part_path);
    const auto& part = parts[j].get_object();
    const auto type = string_at(part, "type");
    if (type == "text" || type == "refusal") {
      // Text parts are separate paragraphs to the client: a newline keeps them apart.
      if (!first_text) text.push_back('\n');
      text.append(string_at(part, type));
      first_text = false;
    } else if (type == "image_url") {
      std::string_view url;
      if (const auto* image = part.if_contains("image_url")) {
        if (image->is_string()) url = image->get_string();
        else if (image->is_object()) url = string_at(image->get_object(), "url");
      }
      std::string_view b64;
      if (!base64_of_data_url(url, b64))
        return fail_with(error, ErrorKind::invalid_request,
                    "this upstream takes images only as base64 data: URLs (data:<type>;base64,...)",
                    part_path + ".image_url");
      images.emplace_back(b64);
    } else {
      return fail_with(error, ErrorKind::invalid_request,
                  "content part type '" + std::string(type) + "' is not supported by this upstream", part_path + ".type");
    }
  }
  return true;
}

// Assistant tool calls: Ollama wants the arguments as a JSON object, not a string.
json::array convert_tool_calls(const json::array& calls) {
  json::array out;
  for (const auto& call : calls) {
    if (!call.is_object()) continue;
    const auto* function = call.get_object().if_contains("function");
    if (!function || !function->is_object()) continue;
    const auto& f = function->get_object();
    json::value arguments = json::object{};
    if (const auto* a = f.if_contains("arguments"); a && a->is_string()) {
      boost::system::error_code ec;
      auto parsed = json::parse(a->get_string(), ec);
      if (!ec && parsed.is_object()) arguments = std::move(parsed);
    } else if (a && a->is_object()) {
      arguments = *a;
    }
    out.push_back(json::object{
        {"function", json::object{{"name", string_at(f, "name")}, {"arguments", std::move(arguments)}}}});
  }
  return out;
}

// The name of the tool whose call `id` answers: the last earlier assistant call with that id wins.
std::string_view tool_name_for(const json::array& messages, std::size_t before, std::string_view id) {
  if (id.empty()) return {};
  for (std::size_t k = before; k-- > 0;) {
    if (!messages[k].is_object()) continue;
    const auto* calls = messages[k].get_object().if_contains("tool_calls");
    if (!calls || !calls->is_array()) continue;
    for (auto it = calls->get_array().rbegin(); it != calls->get_array().rend(); ++it) {
      if (!it->is_object() || string_at(it->get_object(), "id") != id) continue;
      const auto* function = it->get_object().if_contains("function");
      if (function && function->is_object()) return string_at(function->get_object(), "name");
    }
  }
  return {};
}

}  // namespace

bool openai_to_ollama_chat_request(const json::object& openai, json::object& ollama, ApiError& error) {
  ollama.clear();
  if (!check_n(openai, error)) return false;
  const auto* messages_value = openai.if_contains("messages");
  if (!messages_value || !messages_value->is_array())
    return fail_with(error, ErrorKind::missing_field, "messages must be an array", "messages");
  const auto& messages = messages_value->get_array();

  json::array out;
  out.reserve(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!messages[i].is_object())
      return fail_with(error, ErrorKind::invalid_request, "a message must be an object", path("messages", i));
    const auto& message = messages[i].get_object();
    std::string_view role = string_at(message, "role");
    if (role.empty()) return fail_with(error, ErrorKind::invalid_request, "a message needs a role", path("messages", i) + ".role");
    if (role == "developer") role = "system";  // Ollama's templates know system only

    std::string text;
    json::array images;
    if (!convert_content(message.if_contains("content"), i, text, images, error)) return false;

    json::object m{{"role", role}, {"content", std::move(text)}};
    if (!images.empty()) m["images"] = std::move(images);
    if (role == "assistant") {
      if (const auto thinking = string_at(message, "reasoning_content"); !thinking.empty()) m["thinking"] = thinking;
      if (const auto* calls = message.if_contains("tool_calls"); calls && calls->is_array()) {
        auto converted = convert_tool_calls(calls->get_array());
        if (!converted.empty()) m["tool_calls"] = std::move(converted);
      }
    } else if (role == "tool") {
      // Ollama's templates key tool results on the tool's name, which OpenAI leaves to the call id.
      const auto id = string_at(message, "tool_call_id");
      if (const auto name = tool_name_for(messages, i, id); !name.empty()) m["tool_name"] = name;
      if (!id.empty()) m["tool_call_id"] = id;
    }
    out.push_back(std::move(m));
  }
  common_fields(openai, ollama);
  ollama["messages"] = std::move(out);

  // tool_choice "none" means the tools must not be called: Ollama has no such switch, so leave them out.
  if (const auto* tools = openai.if_contains("tools");
      tools && tools->is_array() && !tools->get_array().empty() && string_at(openai, "tool_choice") != "none")
    ollama["tools"] = *tools;

  if (const auto* format = openai.if_contains("response_format"); format && format->is_object()) {
    const auto type = string_at(format->get_object(), "type");
    if (type == "json_object") {
      ollama["format"] = "json";
    } else if (type == "json_schema") {
      const auto* spec = format->get_object().if_contains("json_schema");
      const auto* schema = spec && spec->is_object() ? spec->get_object().if_contains("schema") : nullptr;
      if (schema && schema->is_object()) ollama["format"] = *schema;
      else ollama["format"] = "json";  // a schema-less json_schema still asks for JSON
    }
  }
  if (const auto effort = requested_reasoning_effort(openai); !effort.empty()) {
    if (auto think = ollama_think_for_effort(effort); !think.is_null()) ollama["think"] = std::move(think);
  }
  return true;
}

bool openai_to_ollama_generate_request(const json::object& openai, json::object& ollama, ApiError& error) {
  ollama.clear();
  if (!check_n(openai, error)) return false;
  const auto* prompt = openai.if_contains("prompt");
  std::string_view text;
  if (prompt && prompt->is_string()) {
    text = prompt->get_string();
  } else if (prompt && prompt->is_array() && prompt->get_array().size() == 1 && prompt->get_array()[0].is_string()) {
    text = prompt->get_array()[0].get_string();
  } else {
    return fail_with(error, prompt ? ErrorKind::invalid_request : ErrorKind::missing_field,
                "this upstream takes prompt as one string", "prompt");
  }
  common_fields(openai, ollama);
  ollama["prompt"] = text;
  if (const auto suffix = string_at(openai, "suffix"); !suffix.empty()) ollama["suffix"] = suffix;
  return true;
}

bool openai_to_ollama_embed_request(const json::object& openai, json::object& ollama, ApiError& error) {
  ollama.clear();
  const auto* input = openai.if_contains("input");
  if (!input) return fail_with(error, ErrorKind::missing_field, "input is required", "input");
  if (input->is_array()) {
    for (const auto& item : input->get_array())
      if (!item.is_string())
        return fail_with(error, ErrorKind::invalid_request, "this upstream takes input as a string or an array of strings",
                    "input");
  } else if (!input->is_string()) {
    return fail_with(error, ErrorKind::invalid_request, "this upstream takes input as a string or an array of strings",
                "input");
  }
  copy_if_present(openai, "model", ollama);
  ollama["input"] = *input;
  if (const auto* dimensions = openai.if_contains("dimensions"); dimensions && (dimensions->is_int64() || dimensions->is_uint64()))
    ollama["dimensions"] = *dimensions;
  copy_if_present(openai, "keep_alive", ollama);
  return true;
}

}  // namespace switchyard

#include "protocol/openai_request_to_anthropic.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "protocol/openai_to_anthropic.hpp"
#include "protocol/reasoning_effort.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

bool invalid(ApiError& error, std::string message, std::string param) {
  return fail_with(error, ErrorKind::invalid_request, std::move(message), std::move(param));
}

// Anthropic rejects empty and whitespace-only text blocks ("text content blocks must contain
// non-whitespace text"), so such text is dropped rather than sent.
bool blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

bool is_number(const json::value& value) { return value.is_int64() || value.is_uint64() || value.is_double(); }

double number(const json::value& value) {
  if (value.is_int64()) return static_cast<double>(value.get_int64());
  if (value.is_uint64()) return static_cast<double>(value.get_uint64());
  return value.is_double() ? value.get_double() : 0.0;
}

// A JSON number that is a non-negative whole number, as int64; false otherwise.
bool whole_number(const json::value& value, std::int64_t& out) {
  if (value.is_int64()) {
    out = value.get_int64();
    return out >= 0;
  }
  if (value.is_uint64()) {
    out = static_cast<std::int64_t>(std::min<std::uint64_t>(value.get_uint64(), std::numeric_limits<std::int64_t>::max()));
    return true;
  }
  if (value.is_double()) {
    const double d = value.get_double();
    if (d < 0 || d > 9.0e18 || d != static_cast<double>(static_cast<std::int64_t>(d))) return false;
    out = static_cast<std::int64_t>(d);
    return true;
  }
  return false;
}

// A text block, with the part's cache_control kept (clients that know they talk to Claude send it).
json::object text_block(std::string_view text, const json::object* part) {
  json::object block{{"type", "text"}, {"text", text}};
  if (part)
    if (const auto* cache = part->if_contains("cache_control"); cache && cache->is_object()) block["cache_control"] = *cache;
  return block;
}

// An image_url part ({"url"} object, or the bare string some clients send) as an Anthropic image block:
// data:<type>;base64,<data> becomes a base64 source, http(s) a url source.
bool image_block(const json::object& part, const std::string& param, json::object& block, ApiError& error) {
  const auto* image = part.if_contains("image_url");
  const json::value* url_value = image && image->is_object() ? image->get_object().if_contains("url") : image;
  if (!url_value || !url_value->is_string())
    return fail_with(error, ErrorKind::missing_field, "Missing required parameter: '" + param + ".image_url.url'.",
                param + ".image_url.url");
  const std::string_view url = url_value->get_string();
  json::object source;
  if (url.substr(0, 5) == "data:") {
    const auto comma = url.find(',');
    const auto header = url.substr(5, comma == std::string_view::npos ? std::string_view::npos : comma - 5);
    constexpr std::string_view kBase64 = ";base64";
    if (comma == std::string_view::npos || header.size() <= kBase64.size() ||
        header.substr(header.size() - kBase64.size()) != kBase64)
      return invalid(error, "Invalid image data URL in '" + param + ".image_url.url': expected data:<media type>;base64,<data>.",
                     param + ".image_url.url");
    const auto media_type = header.substr(0, header.find(';'));
    source = json::object{{"type", "base64"}, {"media_type", media_type}, {"data", url.substr(comma + 1)}};
  } else if (url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://") {
    source = json::object{{"type", "url"}, {"url", url}};
  } else {
    return invalid(error, "Invalid image URL in '" + param + ".image_url.url': expected an http(s) or base64 data URL.",
                   param + ".image_url.url");
  }
  block = json::object{{"type", "image"}, {"source", std::move(source)}};
  if (const auto* cache = part.if_contains("cache_control"); cache && cache->is_object()) block["cache_control"] = *cache;
  return true;
}

// A message's content (string, parts, or null) as Anthropic blocks appended to `blocks`.
// `images`: whether image_url parts are allowed (user and tool messages).
bool content_blocks(const json::value* content, bool images, const std::string& param, json::array& blocks,
                    ApiError& error) {
  if (!content || content->is_null()) return true;
  if (content->is_string()) {
    if (!blank(content->get_string())) blocks.push_back(text_block(content->get_string(), nullptr));
    return true;
  }
  if (!content->is_array())
    return invalid(error, "Invalid type for '" + param + "': expected a string or an array of content parts.", param);
  std::size_t index = 0;
  for (const auto& item : content->get_array()) {
    const std::string part_param = param + "[" + std::to_string(index++) + "]";
    if (!item.is_object()) return invalid(error, "Invalid type for '" + part_param + "': expected an object.", part_param);
    const auto& part = item.get_object();
    const auto* type = part.if_contains("type");
    const auto* text = part.if_contains("text");
    if (type && *type == "text") {
      if (!text || !text->is_string())
        return fail_with(error, ErrorKind::missing_field, "Missing required parameter: '" + part_param + ".text'.",
                    part_param + ".text");
      if (!blank(text->get_string())) blocks.push_back(text_block(text->get_string(), &part));
    } else if (type && *type == "refusal") {  // an assistant's earlier refusal, replayed as its text
      if (const auto* refusal = part.if_contains("refusal"); refusal && refusal->is_string() && !blank(refusal->get_string()))
        blocks.push_back(text_block(refusal->get_string(), nullptr));
    } else if (type && *type == "image_url" && images) {
      json::object block;
      if (!image_block(part, part_param, block, error)) return false;
      blocks.push_back(std::move(block));
    } else {
      const std::string name = type && type->is_string() ? std::string(type->get_string()) : std::string("(none)");
      return invalid(error, "Content parts of type '" + name + "' cannot be sent to this model ('" + part_param + ".type').",
                     part_param + ".type");
    }
  }
  return true;
}

// The text of a system or developer message, appended to `system` as text blocks.
bool system_blocks(const json::value* content, const std::string& param, json::array& system, ApiError& error) {
  if (content && content->is_array()) {
    for (const auto& item : content->get_array())
      if (!item.is_object() || !item.get_object().contains("type") || item.get_object().at("type") != "text")
        return invalid(error, "System and developer messages may contain text parts only ('" + param + "').", param);
  }
  return content_blocks(content, false, param, system, error);
}

// Tool arguments are a JSON string; anything that does not parse to an object becomes {}.
json::value tool_input(const json::value* arguments) {
  if (arguments && arguments->is_object()) return *arguments;  // some clients send the object itself
  if (!arguments || !arguments->is_string()) return json::object{};
  boost::system::error_code ec;
  auto parsed = json::parse(arguments->get_string(), ec);
  if (ec || !parsed.is_object()) return json::object{};
  return parsed;
}

bool tool_use_blocks(const json::value& calls, const std::string& param, json::array& blocks, ApiError& error) {
  if (calls.is_null()) return true;
  if (!calls.is_array()) return invalid(error, "Invalid type for '" + param + "': expected an array.", param);
  std::size_t index = 0;
  for (const auto& item : calls.get_array()) {
    const std::string call_param = param + "[" + std::to_string(index++) + "]";
    const json::object* function = nullptr;
    if (item.is_object())
      if (const auto* f = item.get_object().if_contains("function"); f && f->is_object()) function = &f->get_object();
    const json::value* name = function ? function->if_contains("name") : nullptr;
    if (!name || !name->is_string())
      return fail_with(error, ErrorKind::missing_field, "Missing required parameter: '" + call_param + ".function.name'.",
                  call_param + ".function.name");
    const auto* id = item.get_object().if_contains("id");
    blocks.push_back(json::object{
        {"type", "tool_use"},
        {"id", anthropic_tool_id(id && id->is_string() ? std::string_view(id->get_string()) : std::string_view{})},
        {"name", *name},
        {"input", tool_input(function->if_contains("arguments"))},
    });
  }
  return true;
}

// A tool message as a tool_result block. Its content keeps text (and images, which Anthropic allows
// inside tool results); empty content is left out, which Anthropic accepts.
bool tool_result_block(const json::object& message, const std::string& param, json::object& block, ApiError& error) {
  const auto* id = message.if_contains("tool_call_id");
  if (!id || !id->is_string())
    return fail_with(error, ErrorKind::missing_field, "Missing required parameter: '" + param + ".tool_call_id'.",
                param + ".tool_call_id");
  block = json::object{{"type", "tool_result"}, {"tool_use_id", anthropic_tool_id(id->get_string())}};
  const auto* content = message.if_contains("content");
  if (content && content->is_string()) {
    if (!content->get_string().empty()) block["content"] = *content;
    return true;
  }
  json::array parts;
  if (!content_blocks(content, true, param + ".content", parts, error)) return false;
  if (!parts.empty()) block["content"] = std::move(parts);
  return true;
}

// Appends blocks as a `role` turn, merged into the previous turn when it has the same role
// (Anthropic wants user and assistant to alternate). tool_result blocks go before any other block
// of their user turn, as Anthropic requires; their relative order is kept.
void append_turn(json::array& messages, std::string_view role, json::array blocks) {
  if (blocks.empty()) return;  // a turn with no content is rejected upstream
  const auto* last_role = messages.empty() ? nullptr : messages.back().as_object().if_contains("role");
  if (!last_role || !last_role->is_string() || last_role->get_string() != role) {
    messages.push_back(json::object{{"role", role}, {"content", std::move(blocks)}});
    return;
  }
  auto& content = messages.back().as_object()["content"].as_array();
  for (auto& block : blocks) {
    if (block.at("type") == "tool_result") {
      auto at = std::find_if(content.begin(), content.end(), [](const json::value& b) { return b.at("type") != "tool_result"; });
      content.insert(at, std::move(block));
    } else {
      content.push_back(std::move(block));
    }
  }
}

// A turn whose content is one plain text block is sent in the short string form.
void compact_turns(json::array& messages) {
  for (auto& message : messages) {
    auto& content = message.as_object()["content"];
    auto& blocks = content.as_array();
    if (blocks.size() == 1 && blocks[0].at("type") == "text" && blocks[0].as_object().size() == 2) {
      json::value text = blocks[0].at("text");
      content = std::move(text);
    }
  }
}

bool convert_messages(const json::array& list, json::array& messages, json::array& system, ApiError& error) {
  std::size_t index = 0;
  for (const auto& item : list) {
    const std::string param = "messages[" + std::to_string(index++) + "]";
    if (!item.is_object()) return invalid(error, "Invalid type for '" + param + "': expected an object.", param);
    const auto& message = item.get_object();
    const auto* role = message.if_contains("role");
    if (!role)
      return fail_with(error, ErrorKind::missing_field, "Missing required parameter: '" + param + ".role'.", param + ".role");
    const auto* content = message.if_contains("content");
    if (*role == "system" || *role == "developer") {
      if (!system_blocks(content, param + ".content", system, error)) return false;
    } else if (*role == "user") {
      json::array blocks;
      if (!content_blocks(content, true, param + ".content", blocks, error)) return false;
      append_turn(messages, "user", std::move(blocks));
    } else if (*role == "assistant") {
      json::array blocks;
      if (!content_blocks(content, false, param + ".content", blocks, error)) return false;
      if (const auto* calls = message.if_contains("tool_calls"))
        if (!tool_use_blocks(*calls, param + ".tool_calls", blocks, error)) return false;
      append_turn(messages, "assistant", std::move(blocks));
    } else if (*role == "tool") {
      json::object block;
      if (!tool_result_block(message, param, block, error)) return false;
      append_turn(messages, "user", json::array{std::move(block)});
    } else {
      return invalid(error,
                     "Invalid value for '" + param + ".role': expected one of 'system', 'developer', 'user', "
                     "'assistant' or 'tool'.",
                     param + ".role");
    }
  }
  return true;
}

// Anthropic has no JSON mode: the request for JSON becomes an instruction at the end of the system
// prompt (with the schema when one is given). Empty when the client asked for plain text.
std::string json_instruction(const json::value* format) {
  if (!format || !format->is_object()) return {};
  const auto& f = format->get_object();
  const auto* type = f.if_contains("type");
  if (type && *type == "json_object")
    return "Respond only with a single valid JSON object: no other text, no Markdown code fences.";
  if (!type || *type != "json_schema") return {};
  const json::value* schema = nullptr;
  if (const auto* spec = f.if_contains("json_schema"); spec && spec->is_object()) schema = spec->get_object().if_contains("schema");
  if (!schema) return "Respond only with a single valid JSON value: no other text, no Markdown code fences.";
  return "Respond only with a single valid JSON value that conforms to this JSON Schema, with no other text and no "
         "Markdown code fences:\n" +
         json::serialize(*schema);
}

constexpr std::string_view kPlaceholderToolName = "dummy_tool";

// Whether the translated turns hold tool_use or tool_result blocks.
bool has_tool_blocks(const json::array& messages) {
  for (const auto& message : messages) {
    const auto* content = message.as_object().if_contains("content");
    if (!content || !content->is_array()) continue;
    for (const auto& block : content->get_array()) {
      const auto* type = block.as_object().if_contains("type");
      if (type && (*type == "tool_use" || *type == "tool_result")) return true;
    }
  }
  return false;
}

bool convert_tools(const json::value& tools, json::array& out, ApiError& error) {
  if (tools.is_null()) return true;
  if (!tools.is_array()) return invalid(error, "Invalid type for 'tools': expected an array.", "tools");
  std::size_t index = 0;
  for (const auto& item : tools.get_array()) {
    const std::string param = "tools[" + std::to_string(index++) + "]";
    const json::object* function = nullptr;
    if (item.is_object() && item.get_object().contains("type") && item.get_object().at("type") == "function")
      if (const auto* f = item.get_object().if_contains("function"); f && f->is_object()) function = &f->get_object();
    if (!function) return invalid(error, "Only function tools can be sent to this model ('" + param + "').", param);
    const auto* name = function->if_contains("name");
    if (!name || !name->is_string())
      return fail_with(error, ErrorKind::missing_field, "Missing required parameter: '" + param + ".function.name'.",
                  param + ".function.name");
    json::object tool{{"name", *name}};
    if (const auto* description = function->if_contains("description"); description && description->is_string())
      tool["description"] = *description;
    const auto* parameters = function->if_contains("parameters");
    tool["input_schema"] = parameters && parameters->is_object()
                               ? *parameters
                               : json::value(json::object{{"type", "object"}, {"properties", json::object{}}});
    out.push_back(std::move(tool));
  }
  return true;
}

bool convert_tool_choice(const json::value& choice, json::object& out, ApiError& error) {
  if (choice.is_string()) {
    if (choice == "auto") out = {{"type", "auto"}};
    else if (choice == "required") out = {{"type", "any"}};
    else if (choice == "none") out = {{"type", "none"}};
    else return invalid(error, "Invalid value for 'tool_choice': expected 'none', 'auto' or 'required'.", "tool_choice");
    return true;
  }
  if (choice.is_object()) {
    const auto& c = choice.get_object();
    const auto* function = c.if_contains("function");
    const auto* name = function && function->is_object() ? function->get_object().if_contains("name") : nullptr;
    if (c.contains("type") && c.at("type") == "function" && name && name->is_string()) {
      out = {{"type", "tool"}, {"name", *name}};
      return true;
    }
  }
  return invalid(error, "This form of 'tool_choice' cannot be sent to this model.", "tool_choice");
}

}  // namespace

bool openai_to_anthropic_request(const json::object& openai, json::object& anthropic,
                                 const AnthropicRequestOptions& options, ApiError& error) {
  anthropic.clear();
  if (const auto* model = openai.if_contains("model")) anthropic["model"] = *model;

  const auto* list = openai.if_contains("messages");
  if (!list) return fail_with(error, ErrorKind::missing_field, "Missing required parameter: 'messages'.", "messages");
  if (!list->is_array())
    return fail_with(error, ErrorKind::missing_field, "Invalid type for 'messages': expected an array.", "messages");
  if (const auto* n = openai.if_contains("n"); n && is_number(*n) && number(*n) > 1)
    return invalid(error, "This model can only generate one choice: 'n' must be 1.", "n");

  json::array messages;
  json::array system;
  if (!convert_messages(list->get_array(), messages, system, error)) return false;
  if (messages.empty())
    return invalid(error, "'messages' must contain at least one user or assistant message with content.", "messages");
  if (auto instruction = json_instruction(openai.if_contains("response_format")); !instruction.empty())
    system.push_back(text_block(instruction, nullptr));
  compact_turns(messages);

  const json::value* max_tokens = nullptr;
  const char* max_tokens_name = "max_completion_tokens";
  for (const char* name : {"max_completion_tokens", "max_tokens"}) {
    if (const auto* value = openai.if_contains(name); value && !value->is_null()) {
      max_tokens = value;
      max_tokens_name = name;
      break;
    }
  }
  std::int64_t limit = options.default_max_tokens;
  if (max_tokens && !whole_number(*max_tokens, limit))
    return invalid(error, std::string("Invalid value for '") + max_tokens_name + "': expected a non-negative integer.",
                   max_tokens_name);
  // reasoning_effort becomes a thinking budget. Anthropic wants max_tokens above the budget, and the
  // budget counts against it, so the answer keeps the tokens the client asked for on top of it.
  if (const auto effort = requested_reasoning_effort(openai); !effort.empty()) {
    const auto budget = thinking_budget_for_effort(effort);
    if (!budget)
      return invalid(error, "Invalid value for 'reasoning_effort': '" + std::string(effort) +
                                "'. Supported values are: 'none', 'minimal', 'low', 'medium', 'high' and 'xhigh'.",
                     "reasoning_effort");
    if (*budget > 0) {
      anthropic["thinking"] = json::object{{"type", "enabled"}, {"budget_tokens", *budget}};
      if (limit <= *budget) limit += *budget;
    }
  }
  anthropic["max_tokens"] = limit;

  anthropic["messages"] = std::move(messages);
  if (system.size() == 1 && system[0].as_object().size() == 2) {
    anthropic["system"] = system[0].at("text");
  } else if (!system.empty()) {
    anthropic["system"] = std::move(system);
  }

  if (const auto* stop = openai.if_contains("stop")) {
    json::array sequences;  // Anthropic rejects whitespace-only stop sequences
    if (stop->is_string() && !blank(stop->get_string())) sequences.push_back(*stop);
    if (stop->is_array())
      for (const auto& s : stop->get_array())
        if (s.is_string() && !blank(s.get_string())) sequences.push_back(s);
    if (!sequences.empty()) anthropic["stop_sequences"] = std::move(sequences);
  }
  // Unset sampling parameters stay unset: newer Claude models reject anything but their defaults.
  if (const auto* temperature = openai.if_contains("temperature"); temperature && is_number(*temperature))
    anthropic["temperature"] = std::clamp(number(*temperature), 0.0, 1.0);  // OpenAI's 0..2, Anthropic's 0..1
  if (const auto* top_p = openai.if_contains("top_p"); top_p && is_number(*top_p)) anthropic["top_p"] = *top_p;
  if (const auto* top_k = openai.if_contains("top_k"); top_k && is_number(*top_k)) anthropic["top_k"] = *top_k;
  if (const auto* stream = openai.if_contains("stream"); stream && stream->is_bool()) anthropic["stream"] = *stream;
  for (const char* name : {"user", "safety_identifier"}) {
    const auto* user = openai.if_contains(name);
    // Anthropic refuses e-mail addresses as user ids.
    if (user && user->is_string() && !user->get_string().empty() &&
        std::string_view(user->get_string()).find('@') == std::string_view::npos) {
      anthropic["metadata"] = json::object{{"user_id", *user}};
      break;
    }
  }

  json::array tools;
  if (const auto* t = openai.if_contains("tools"))
    if (!convert_tools(*t, tools, error)) return false;
  if (tools.empty() && has_tool_blocks(anthropic.at("messages").get_array())) {
    // Anthropic refuses a history with tool_use or tool_result blocks when `tools` is absent ("Requests
    // which include `tool_use` or `tool_result` blocks must define tools"), which clients do once the
    // tools are no longer needed. A placeholder definition satisfies the check, as LiteLLM's
    // add_dummy_tool does, and tool_choice none keeps the model from calling it: the client offered
    // no tools, so it could not answer a call.
    anthropic["tools"] = json::array{json::object{
        {"name", kPlaceholderToolName},
        {"description", "Placeholder: no tools are available in this conversation."},
        {"input_schema", json::object{{"type", "object"}, {"properties", json::object{}}}},
    }};
    anthropic["tool_choice"] = json::object{{"type", "none"}};
  }
  if (!tools.empty()) {
    anthropic["tools"] = std::move(tools);
    // tool_choice is sent only when the client set it or turned parallel calls off (Anthropic's
    // default is auto with parallel calls); without tools Anthropic rejects a tool_choice, so none is sent.
    json::object choice{{"type", "auto"}};
    const auto* c = openai.if_contains("tool_choice");
    const bool chosen = c && !c->is_null();
    if (chosen && !convert_tool_choice(*c, choice, error)) return false;
    const auto* parallel = openai.if_contains("parallel_tool_calls");
    const bool parallel_off = parallel && parallel->is_bool() && !parallel->get_bool();
    if (parallel_off && choice.at("type") != "none") choice["disable_parallel_tool_use"] = true;
    if (chosen || parallel_off) anthropic["tool_choice"] = std::move(choice);
  }
  return true;
}

}  // namespace switchyard

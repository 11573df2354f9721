#include "protocol/ollama_request_to_openai.hpp"

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "protocol/json_fields.hpp"
#include "protocol/reasoning_effort.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

const json::value* present(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && !value->is_null() ? value : nullptr;  // Go clients write null for unset slices
}

// The image type from its first bytes. Only the first 16 base64 characters (12 bytes, enough for
// RIFF....WEBP) are decoded: images run to megabytes and the rest is not needed here.
std::string_view sniff_image_type(std::string_view base64) {
  char head[16];
  std::size_t count = 0;
  for (char c : base64) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;  // wrapped base64
    head[count++] = c;
    if (count == sizeof head) break;
  }
  count -= count % 4;
  if (count == 0) return "image/png";
  std::array<unsigned char, 12> bytes{};
  const int decoded = EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(head), static_cast<int>(count));
  if (decoded < 4) return "image/png";
  const auto starts = [&](std::string_view magic, std::size_t at = 0) {
    if (at + magic.size() > static_cast<std::size_t>(decoded)) return false;
    return std::string_view(reinterpret_cast<const char*>(bytes.data()) + at, magic.size()) == magic;
  };
  if (starts("\x89PNG")) return "image/png";
  if (starts("\xFF\xD8\xFF")) return "image/jpeg";
  if (starts("GIF8")) return "image/gif";
  if (starts("RIFF") && starts("WEBP", 8)) return "image/webp";
  return "image/png";
}

json::object image_part(std::string_view image) {
  std::string url;
  if (image.starts_with("data:")) {  // already a data URL: clients sometimes send one despite the docs
    url = image;
  } else {
    const auto type = sniff_image_type(image);
    url.reserve(image.size() + type.size() + 13);
    url.append("data:").append(type).append(";base64,").append(image);
  }
  return json::object{{"type", "image_url"}, {"image_url", json::object{{"url", std::move(url)}}}};
}

// `images` (base64 strings) as image_url parts; false with `error` when it is not a string array.
bool image_parts(const json::object& holder, const std::string& param, json::array& parts, ApiError& error) {
  const auto* images = present(holder, "images");
  if (!images) return true;
  if (!images->is_array())
    return fail_with(error, ErrorKind::invalid_request, param + "images must be an array of base64 strings", param + "images");
  for (const auto& image : images->get_array()) {
    if (!image.is_string())
      return fail_with(error, ErrorKind::invalid_request, param + "images must be an array of base64 strings",
                  param + "images");
    parts.push_back(image_part(image.get_string()));
  }
  return true;
}

// Text then images, as one user content: a plain string when there are no images.
json::value user_content(std::string_view text, json::array images) {
  if (images.empty()) return json::string(text);
  json::array parts;
  parts.reserve(images.size() + 1);
  if (!text.empty()) parts.push_back(json::object{{"type", "text"}, {"text", text}});
  for (auto& image : images) parts.push_back(std::move(image));
  return parts;
}

// An assistant tool call as the history shows it, for matching the tool messages that answer it.
struct HistoryCall {
  std::string id;
  std::string name;
  std::size_t turn;  // which assistant message made it
  bool answered = false;
};

class ChatConverter {
 public:
  bool message(const json::object& message, std::size_t index, json::array& out, ApiError& error) {
    const std::string param = "messages[" + std::to_string(index) + "].";
    const auto* role_value = message.if_contains("role");
    if (!role_value || !role_value->is_string())
      return fail_with(error, ErrorKind::missing_field, param + "role is required", param + "role");
    std::string role(role_value->get_string());
    for (auto& c : role) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // as Ollama does
    const auto* content_value = present(message, "content");
    if (content_value && !content_value->is_string())
      return fail_with(error, ErrorKind::invalid_request, param + "content must be a string", param + "content");
    const std::string_view content = content_value ? std::string_view(content_value->get_string()) : std::string_view{};

    if (role == "system") {  // images and thinking have no place in an OpenAI system message
      out.push_back(json::object{{"role", "system"}, {"content", content}});
    } else if (role == "user") {
      json::array images;
      if (!image_parts(message, param, images, error)) return false;
      out.push_back(json::object{{"role", "user"}, {"content", user_content(content, std::move(images))}});
    } else if (role == "assistant") {
      assistant(message, content, out);  // `thinking` is dropped: OpenAI takes no reasoning back
    } else if (role == "tool") {
      out.push_back(json::object{{"role", "tool"}, {"tool_call_id", answer(message)}, {"content", content}});
      json::array images;  // OpenAI tool messages are text only: their images follow as a user message
      if (!image_parts(message, param, images, error)) return false;
      if (!images.empty()) out.push_back(json::object{{"role", "user"}, {"content", user_content({}, std::move(images))}});
    } else {
      return fail_with(error, ErrorKind::invalid_request,
                  param + "role must be one of \"system\", \"user\", \"assistant\" or \"tool\"", param + "role");
    }
    return true;
  }

 private:
  void assistant(const json::object& message, std::string_view content, json::array& out) {
    json::array tool_calls;
    if (const auto* calls = present(message, "tool_calls"); calls && calls->is_array()) {
      ++turns_;
      for (const auto& call : calls->get_array()) {
        if (!call.is_object()) continue;
        const auto& c = call.get_object();
        const json::object* function = nullptr;
        if (const auto* f = c.if_contains("function"); f && f->is_object()) function = &f->get_object();
        const auto name = function ? string_at(*function, "name") : std::string_view{};
        std::string arguments = "{}";
        if (const auto* args = function ? present(*function, "arguments") : nullptr) {
          arguments = args->is_string() ? std::string(args->get_string()) : json::serialize(*args);
        }
        // Newer Ollama clients echo the ids the server gave; older ones send none.
        auto id = std::string(string_at(c, "id"));
        if (id.empty()) id = next_id();
        history_.push_back(HistoryCall{id, std::string(name), turns_});
        tool_calls.push_back(json::object{{"id", id},
                                          {"type", "function"},
                                          {"function", json::object{{"name", name}, {"arguments", std::move(arguments)}}}});
      }
    }
    json::object converted{{"role", "assistant"}};
    converted["content"] = content.empty() && !tool_calls.empty() ? json::value(nullptr) : json::value(content);
    if (!tool_calls.empty()) converted["tool_calls"] = std::move(tool_calls);
    out.push_back(std::move(converted));
  }

  // The id of the call a tool message answers. Ollama matches by tool_name only, so with two calls
  // of one tool the first unanswered call of the latest turn is taken before any older one.
  std::string answer(const json::object& message) {
    if (const auto id = string_at(message, "tool_call_id"); !id.empty()) {
      for (auto& call : history_)
        if (call.id == id) call.answered = true;
      return std::string(id);
    }
    HistoryCall* found = nullptr;
    const auto name = string_at(message, "tool_name");
    if (!name.empty()) {
      for (auto& call : history_)
        if (call.turn == turns_ && !call.answered && call.name == name) {
          found = &call;
          break;
        }
      for (auto it = history_.rbegin(); !found && it != history_.rend(); ++it)
        if (it->name == name) found = &*it;
    }
    for (auto& call : history_)
      if (!found && !call.answered) found = &call;
    if (!found) return next_id();  // no call to answer: a fresh id keeps the field a non-empty string
    found->answered = true;
    return found->id;
  }

  std::string next_id() { return "call_" + std::to_string(next_id_++); }

  std::vector<HistoryCall> history_;
  std::size_t turns_ = 0;
  int next_id_ = 0;
};

bool require_model(const json::object& ollama, json::object& openai, ApiError& error) {
  const auto* model = ollama.if_contains("model");
  if (!model || !model->is_string() || model->get_string().empty())
    return fail_with(error, ErrorKind::missing_field, "model is required", "model");
  openai["model"] = *model;
  return true;
}

// format, think, options and stream, shared by /api/chat and /api/generate.
void copy_generation_fields(const json::object& ollama, json::object& openai) {
  if (const auto effort = effort_for_ollama_think(present(ollama, "think")); !effort.empty())
    openai["reasoning_effort"] = effort;
  if (const auto* format = present(ollama, "format")) {
    if (format->is_string() && format->get_string() == "json") {
      openai["response_format"] = json::object{{"type", "json_object"}};
    } else if (format->is_object()) {
      openai["response_format"] =
          json::object{{"type", "json_schema"}, {"json_schema", json::object{{"name", "response"}, {"schema", *format}}}};
    }
  }
  if (const auto* options_value = present(ollama, "options"); options_value && options_value->is_object()) {
    const auto& options = options_value->get_object();
    if (const auto* predict = options.if_contains("num_predict")) {  // -1 and -2 mean "no limit" in Ollama
      if (predict->is_int64() && predict->get_int64() > 0) {
        openai["max_tokens"] = predict->get_int64();
      } else if (predict->is_uint64()) {
        openai["max_tokens"] = predict->get_uint64();
      } else if (predict->is_double() && predict->get_double() >= 1 && predict->get_double() < 9e18) {
        openai["max_tokens"] = static_cast<std::int64_t>(predict->get_double());
      }
    }
    // Unset stays unset, so the upstream model's defaults apply (Ollama's own layer forces 1.0).
    for (const char* name : {"temperature", "top_p", "top_k", "seed", "presence_penalty", "frequency_penalty"})
      if (const auto* value = options.if_contains(name); value && value->is_number()) openai[name] = *value;
    if (const auto* stop = options.if_contains("stop")) {
      if (stop->is_string() && !stop->get_string().empty()) {
        openai["stop"] = json::array{*stop};
      } else if (stop->is_array()) {
        json::array stops;
        for (const auto& s : stop->get_array())
          if (s.is_string() && !s.get_string().empty()) stops.push_back(s);
        if (!stops.empty()) openai["stop"] = std::move(stops);
      }
    }
  }
  // Ollama streams unless told not to; its final line always has the counts, so usage is asked for.
  const auto* stream = ollama.if_contains("stream");
  const bool streaming = !(stream && stream->is_bool() && !stream->get_bool());
  openai["stream"] = streaming;
  if (streaming) openai["stream_options"] = json::object{{"include_usage", true}};
}

bool chat_request(const json::object& ollama, json::object& openai, ApiError& error) {
  const auto* list = ollama.if_contains("messages");
  if (!list || !list->is_array())
    return fail_with(error, ErrorKind::missing_field, "messages is required and must be an array", "messages");
  json::array messages;
  messages.reserve(list->get_array().size());
  ChatConverter converter;
  std::size_t index = 0;
  for (const auto& message : list->get_array()) {
    if (!message.is_object()) {
      const auto param = "messages[" + std::to_string(index) + "]";
      return fail_with(error, ErrorKind::invalid_request, param + " must be an object", param);
    }
    if (!converter.message(message.get_object(), index, messages, error)) return false;
    ++index;
  }
  openai["messages"] = std::move(messages);
  if (const auto* tools = present(ollama, "tools"); tools && tools->is_array() && !tools->get_array().empty())
    openai["tools"] = *tools;  // Ollama's tools are OpenAI-shaped already
  copy_generation_fields(ollama, openai);
  return true;
}

bool generate_request(const json::object& ollama, json::object& openai, ApiError& error) {
  const auto* prompt = present(ollama, "prompt");
  if (prompt && !prompt->is_string())
    return fail_with(error, ErrorKind::missing_field, "prompt must be a string", "prompt");
  const std::string_view text = prompt ? std::string_view(prompt->get_string()) : std::string_view{};
  json::array images;
  if (!image_parts(ollama, "", images, error)) return false;
  // An empty prompt asks Ollama to load the model; an upstream of another kind has nothing to load.
  if (text.empty() && images.empty())
    return fail_with(error, ErrorKind::invalid_request, "prompt must not be empty", "prompt");
  json::array messages;
  if (const auto system = string_at(ollama, "system"); !system.empty())
    messages.push_back(json::object{{"role", "system"}, {"content", system}});
  // suffix, template, raw and context have no OpenAI chat counterpart and are ignored.
  messages.push_back(json::object{{"role", "user"}, {"content", user_content(text, std::move(images))}});
  openai["messages"] = std::move(messages);
  copy_generation_fields(ollama, openai);
  return true;
}

bool embed_request(const json::object& ollama, json::object& openai, ApiError& error) {
  const auto* input = ollama.if_contains("input");
  if (!input || !(input->is_string() || input->is_array()))
    return fail_with(error, ErrorKind::missing_field, "input must be a string or an array of strings", "input");
  if (input->is_array()) {
    for (const auto& item : input->get_array())
      if (!item.is_string())
        return fail_with(error, ErrorKind::invalid_request, "input must be a string or an array of strings", "input");
    if (input->get_array().empty()) return fail_with(error, ErrorKind::invalid_request, "input must not be empty", "input");
  }
  openai["input"] = *input;
  if (const auto* dimensions = ollama.if_contains("dimensions"); dimensions && dimensions->is_number())
    openai["dimensions"] = *dimensions;
  return true;
}

bool embeddings_request(const json::object& ollama, json::object& openai, ApiError& error) {
  const auto* prompt = ollama.if_contains("prompt");
  if (!prompt || !prompt->is_string()) return fail_with(error, ErrorKind::missing_field, "prompt must be a string", "prompt");
  if (prompt->get_string().empty())
    return fail_with(error, ErrorKind::invalid_request, "prompt must not be empty", "prompt");
  openai["input"] = *prompt;
  return true;
}

}  // namespace

std::string_view ollama_endpoint_path(OllamaEndpoint endpoint) {
  switch (endpoint) {
    case OllamaEndpoint::chat: return "/api/chat";
    case OllamaEndpoint::generate: return "/api/generate";
    case OllamaEndpoint::embed: return "/api/embed";
    case OllamaEndpoint::embeddings: return "/api/embeddings";
  }
  return "/api/chat";
}

bool ollama_to_openai_request(OllamaEndpoint endpoint, const json::object& ollama, json::object& openai,
                              ApiError& error) {
  openai.clear();
  if (!require_model(ollama, openai, error)) return false;
  switch (endpoint) {
    case OllamaEndpoint::chat: return chat_request(ollama, openai, error);
    case OllamaEndpoint::generate: return generate_request(ollama, openai, error);
    case OllamaEndpoint::embed: return embed_request(ollama, openai, error);
    case OllamaEndpoint::embeddings: return embeddings_request(ollama, openai, error);
  }
  return fail_with(error, ErrorKind::internal, "unknown endpoint", "");
}

}  // namespace switchyard

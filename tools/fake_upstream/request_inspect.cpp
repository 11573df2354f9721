// DOM walks of image and tool-result requests, one per API, with the real servers' 400 messages.
#include "request_inspect.hpp"

#include "base64_check.hpp"

#include <boost/json.hpp>

#include <vector>

namespace fake_upstream {
namespace {

namespace json = boost::json;

const json::array* array_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_array() : nullptr;
}

// Empty when missing or not a string.
std::string_view string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  const json::string* s = v ? v->if_string() : nullptr;
  return s ? std::string_view(*s) : std::string_view();
}

std::string index_text(std::size_t i) { return std::to_string(i); }

// The text of a tool result: a string, or the text of its text parts/blocks, joined.
std::string text_of(const json::value* content) {
  std::string text;
  if (!content) {
    return text;
  }
  if (const json::string* s = content->if_string()) {
    text.assign(s->data(), s->size());
  } else if (const json::array* parts = content->if_array()) {
    for (const json::value& part : *parts) {
      if (const json::object* p = part.if_object(); p && string_at(*p, "type") == "text") {
        text += string_at(*p, "text");
      }
    }
  }
  return text;
}

void quote(Inspection& out, std::string_view content) {
  out.text_prefix += "The tool said: ";
  out.text_prefix += content;
  out.text_prefix += ". ";
}

bool reject(Inspection& out, std::string message, std::string param = {}, std::string code = {}) {
  out.status = 400;
  out.message = std::move(message);
  out.param = std::move(param);
  out.code = std::move(code);
  return false;
}

// ---- OpenAI ----------------------------------------------------------------------------------

bool check_openai_image(const json::object& part, std::size_t i, std::size_t j, Inspection& out) {
  const std::string where = "messages[" + index_text(i) + "].content[" + index_text(j) + "].image_url";
  const json::value* image = part.if_contains("image_url");
  std::string_view url;
  if (image && image->is_string()) {
    url = image->get_string();  // the string form Ollama's compatibility layer also takes
  } else if (const json::object* o = image ? image->if_object() : nullptr) {
    const json::value* u = o->if_contains("url");
    if (!u || !u->is_string()) {
      return reject(out, "Missing required parameter: '" + where + ".url'.", where + ".url",
                    "missing_required_parameter");
    }
    url = u->get_string();
  } else {
    return reject(out, "Missing required parameter: '" + where + "'.", where, "missing_required_parameter");
  }
  if (url.starts_with("data:")) {
    const auto comma = url.find(',');
    const std::string_view meta = url.substr(5, comma == std::string_view::npos ? 0 : comma - 5);
    const bool ok = comma != std::string_view::npos && meta.starts_with("image/") && meta.ends_with(";base64") &&
                    !base64_error_offset(url.substr(comma + 1));
    if (!ok) {
      return reject(out,
                    "Invalid '" + where + ".url'. Expected a base64-encoded data URL with an image MIME type "
                    "(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got an invalid value.",
                    where + ".url", "invalid_value");
    }
  } else if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return reject(out, "Invalid '" + where + ".url'. Expected a valid URL, but got a value with an invalid format.",
                  where + ".url", "invalid_value");
  }
  ++out.images;
  return true;
}

// Tool messages must answer a tool call of the assistant message they follow (only other tool
// messages in between), as OpenAI checks.
void inspect_openai(const json::object& root, Inspection& out) {
  const json::array* messages = array_at(root, "messages");
  if (!messages) {
    return;
  }
  std::vector<std::string_view> open_calls;  // ids the tool messages that follow may answer
  bool calls_open = false;
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const json::object* m = (*messages)[i].if_object();
    if (!m) {
      calls_open = false;
      continue;
    }
    const std::string_view role = string_at(*m, "role");
    const std::string at = "messages.[" + index_text(i) + "]";
    if (role == "tool") {
      const json::value* id = m->if_contains("tool_call_id");
      if (!id || !id->is_string()) {
        reject(out, "Missing required parameter: 'messages[" + index_text(i) + "].tool_call_id'.",
               at + ".tool_call_id", "missing_required_parameter");
        return;
      }
      if (!calls_open) {
        reject(out,
               "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
               "'tool_calls'.",
               at + ".role");
        return;
      }
      const std::string_view wanted = id->get_string();
      bool found = false;
      for (const std::string_view call : open_calls) {
        found = found || call == wanted;
      }
      if (!found) {
        reject(out,
               "Invalid parameter: 'tool_call_id' of '" + std::string(wanted) +
                   "' not found in 'tool_calls' of previous message.",
               at + ".tool_call_id");
        return;
      }
    } else if (role == "assistant") {
      open_calls.clear();
      calls_open = false;
      if (const json::array* calls = array_at(*m, "tool_calls")) {
        for (const json::value& call : *calls) {
          if (const json::object* c = call.if_object()) {
            open_calls.push_back(string_at(*c, "id"));
            calls_open = true;
          }
        }
      }
    } else {
      calls_open = false;
    }
    if (const json::array* parts = array_at(*m, "content")) {
      for (std::size_t j = 0; j < parts->size(); ++j) {
        const json::object* part = (*parts)[j].if_object();
        if (part && (string_at(*part, "type") == "image_url" || part->contains("image_url")) &&
            !check_openai_image(*part, i, j, out)) {
          return;
        }
      }
    }
  }
  std::size_t first = messages->size();
  while (first > 0) {
    const json::object* m = (*messages)[first - 1].if_object();
    if (!m || string_at(*m, "role") != "tool") {
      break;
    }
    --first;
  }
  for (std::size_t i = first; i < messages->size(); ++i) {
    out.last_is_tool_result = true;
    quote(out, text_of((*messages)[i].get_object().if_contains("content")));
  }
}

// ---- Anthropic -------------------------------------------------------------------------------

bool check_anthropic_image(const json::object& block, const std::string& at, Inspection& out) {
  const json::value* source_value = block.if_contains("source");
  const json::object* source = source_value ? source_value->if_object() : nullptr;
  if (!source) {
    return reject(out, at + ".image.source: Field required");
  }
  const std::string_view type = string_at(*source, "type");
  if (type == "base64") {
    const std::string_view media = string_at(*source, "media_type");
    if (media != "image/jpeg" && media != "image/png" && media != "image/gif" && media != "image/webp") {
      return reject(out, at + ".image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', "
                              "'image/gif' or 'image/webp'");
    }
    const json::value* data = source->if_contains("data");
    if (!data || !data->is_string()) {
      return reject(out, at + ".image.source.base64.data: Field required");
    }
    if (base64_error_offset(data->get_string())) {
      return reject(out, at + ".image.source.base64.data: Invalid base64 data");
    }
  } else if (type == "url") {
    if (string_at(*source, "url").empty()) {
      return reject(out, at + ".image.source.url.url: Field required");
    }
  } else if (type == "file") {
    if (string_at(*source, "file_id").empty()) {
      return reject(out, at + ".image.source.file.file_id: Field required");
    }
  } else {
    return reject(out, at + ".image.source: Input tag '" + std::string(type) +
                           "' found using 'type' does not match any of the expected tags: 'base64', 'file', 'url'");
  }
  ++out.images;
  return true;
}

// An enabled thinking budget must be at least 1024 tokens and below max_tokens, as the API checks.
bool check_anthropic_thinking(const json::object& root, Inspection& out) {
  const json::value* thinking = root.if_contains("thinking");
  const json::object* t = thinking ? thinking->if_object() : nullptr;
  if (!t || string_at(*t, "type") != "enabled") {
    return true;
  }
  const json::value* budget = t->if_contains("budget_tokens");
  if (!budget || !budget->is_int64() || budget->get_int64() < 1024) {
    return reject(out, "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024");
  }
  const json::value* max_tokens = root.if_contains("max_tokens");
  if (!max_tokens || !max_tokens->is_int64() || max_tokens->get_int64() <= budget->get_int64()) {
    return reject(out, "`max_tokens` must be greater than `thinking.budget_tokens`.");
  }
  return true;
}

// A tool_result must answer a tool_use of the message right before it, as the API checks.
void inspect_anthropic(const json::object& root, bool counting, Inspection& out) {
  if (!counting && !check_anthropic_thinking(root, out)) {
    return;
  }
  const json::array* messages = array_at(root, "messages");
  if (!messages) {
    return;
  }
  for (std::size_t n = 0; n < messages->size(); ++n) {
    const json::object* m = (*messages)[n].if_object();
    const json::array* blocks = m ? array_at(*m, "content") : nullptr;
    if (!blocks) {
      continue;
    }
    for (std::size_t k = 0; k < blocks->size(); ++k) {
      const json::object* block = (*blocks)[k].if_object();
      if (!block) {
        continue;
      }
      const std::string at = "messages." + index_text(n) + ".content." + index_text(k);
      const std::string_view type = string_at(*block, "type");
      if (type == "image") {
        if (!check_anthropic_image(*block, at, out)) {
          return;
        }
      } else if (type == "tool_result") {
        const json::value* id = block->if_contains("tool_use_id");
        if (!id || !id->is_string()) {
          reject(out, at + ".tool_result.tool_use_id: Field required");
          return;
        }
        bool found = false;
        const json::object* previous = n > 0 ? (*messages)[n - 1].if_object() : nullptr;
        const json::array* previous_blocks =
            previous && string_at(*previous, "role") == "assistant" ? array_at(*previous, "content") : nullptr;
        if (previous_blocks) {
          for (const json::value& b : *previous_blocks) {
            const json::object* use = b.if_object();
            found = found || (use && string_at(*use, "type") == "tool_use" && string_at(*use, "id") == id->get_string());
          }
        }
        if (!found) {
          reject(out, at + ": unexpected `tool_use_id` found in `tool_result` blocks: " + std::string(id->get_string()) +
                          ". Each `tool_result` block must have a corresponding `tool_use` block in the previous message.");
          return;
        }
        if (const json::array* inner = array_at(*block, "content")) {
          for (std::size_t j = 0; j < inner->size(); ++j) {
            const json::object* b = (*inner)[j].if_object();
            if (b && string_at(*b, "type") == "image" &&
                !check_anthropic_image(*b, at + ".tool_result.content." + index_text(j), out)) {
              return;
            }
          }
        }
      }
    }
  }
  const json::object* last = messages->empty() ? nullptr : messages->back().if_object();
  const json::array* blocks = last && string_at(*last, "role") == "user" ? array_at(*last, "content") : nullptr;
  if (blocks) {
    for (const json::value& b : *blocks) {
      const json::object* block = b.if_object();
      if (block && string_at(*block, "type") == "tool_result") {
        out.last_is_tool_result = true;
        quote(out, text_of(block->if_contains("content")));
      }
    }
  }
}

// ---- Ollama ----------------------------------------------------------------------------------

std::string_view go_kind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return "string";
    case json::kind::object: return "object";
    case json::kind::array: return "array";
    case json::kind::bool_: return "bool";
    default: return "number";
  }
}

// As Go's encoding/json decodes "images" ([]api.ImageData, each a base64 []byte) into `field`.
bool check_ollama_images(const json::value* images, std::string_view field, Inspection& out) {
  if (!images || images->is_null()) {
    return true;
  }
  const json::array* list = images->if_array();
  if (!list) {
    return reject(out, "json: cannot unmarshal " + std::string(go_kind(*images)) + " into Go struct field " +
                           std::string(field) + " of type []api.ImageData");
  }
  for (const json::value& image : *list) {
    if (image.is_null()) {
      continue;
    }
    if (!image.is_string()) {
      return reject(out, "json: cannot unmarshal " + std::string(go_kind(image)) + " into Go struct field " +
                             std::string(field) + " of type api.ImageData");
    }
    if (const auto offset = base64_error_offset(image.get_string())) {
      return reject(out, "illegal base64 data at input byte " + std::to_string(*offset));
    }
    ++out.images;
  }
  return true;
}

void inspect_ollama(const json::object& root, bool chat, Inspection& out) {
  if (!chat) {
    check_ollama_images(root.if_contains("images"), "GenerateRequest.images", out);
    return;
  }
  const json::array* messages = array_at(root, "messages");
  if (!messages) {
    return;
  }
  for (const json::value& message : *messages) {
    const json::object* m = message.if_object();
    if (m && !check_ollama_images(m->if_contains("images"), "ChatRequest.messages.images", out)) {
      return;
    }
  }
  std::size_t first = messages->size();
  while (first > 0) {
    const json::object* m = (*messages)[first - 1].if_object();
    if (!m || string_at(*m, "role") != "tool") {
      break;
    }
    --first;
  }
  for (std::size_t i = first; i < messages->size(); ++i) {
    out.last_is_tool_result = true;
    quote(out, text_of((*messages)[i].get_object().if_contains("content")));
  }
}

json::value parse(std::string_view body) {
  json::parse_options options;
  options.max_depth = 1024;  // as deep as request_scan accepts
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, options);
  if (ec) {
    return nullptr;
  }
  return v;
}

}  // namespace

void Inspection::clear() {
  images = 0;
  last_is_tool_result = false;
  text_prefix.clear();
  status = 0;
  message.clear();
  param.clear();
  code.clear();
}

void inspect_request(Endpoint endpoint, std::string_view body, Inspection& out) {
  out.clear();
  const json::value doc = parse(body);
  const json::object* root = doc.if_object();
  if (!root) {
    return;
  }
  std::string tool_quotes;
  switch (endpoint) {
    case Endpoint::chat: inspect_openai(*root, out); break;
    case Endpoint::messages: inspect_anthropic(*root, false, out); break;
    case Endpoint::count_tokens: inspect_anthropic(*root, true, out); break;
    case Endpoint::ollama_chat: inspect_ollama(*root, true, out); break;
    case Endpoint::ollama_generate: inspect_ollama(*root, false, out); break;
    default: return;
  }
  if (out.status != 0) {
    out.text_prefix.clear();
    out.last_is_tool_result = false;
    return;
  }
  if (out.images > 0) {
    tool_quotes.swap(out.text_prefix);
    out.text_prefix = "I see " + std::to_string(out.images) + " image(s). ";
    out.text_prefix += tool_quotes;
  }
}

int ollama_embed_inputs(std::string_view body) {
  const json::value doc = parse(body);
  const json::object* root = doc.if_object();
  const json::value* input = root ? root->if_contains("input") : nullptr;
  if (!input || input->is_null()) {
    return 0;
  }
  if (const json::string* s = input->if_string()) {
    return s->empty() ? 0 : 1;
  }
  const json::array* list = input->if_array();
  if (!list) {
    return -1;
  }
  for (const json::value& v : *list) {
    if (!v.is_string()) {
      return -1;
    }
  }
  return static_cast<int>(list->size());
}

bool ollama_prompt_empty(std::string_view body) {
  const json::value doc = parse(body);
  const json::object* root = doc.if_object();
  return !root || string_at(*root, "prompt").empty();
}

std::string ollama_show_name(std::string_view body) {
  const json::value doc = parse(body);
  const json::object* root = doc.if_object();
  if (!root) {
    return {};
  }
  std::string_view name = string_at(*root, "model");
  if (name.empty()) {
    name = string_at(*root, "name");
  }
  return std::string(name);
}

}  // namespace fake_upstream

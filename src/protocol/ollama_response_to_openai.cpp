#include "protocol/ollama_response_to_openai.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <string>

#include "protocol/json_fields.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

// A token count, or -1 when absent or not a non-negative integer.
std::int64_t count_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (!value) return -1;
  if (value->is_int64()) return value->get_int64() < 0 ? -1 : value->get_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(value->get_uint64());
  return -1;
}

json::value model_of(const json::object& ollama) { return json::string(string_at(ollama, "model")); }

// Ollama reports counts only when it has them; no count at all means no usage to report.
void put_usage(const json::object& ollama, json::object& openai) {
  const auto prompt = count_at(ollama, "prompt_eval_count");
  const auto completion = count_at(ollama, "eval_count");
  if (prompt < 0 && completion < 0) return;
  const auto p = prompt < 0 ? 0 : prompt;
  const auto c = completion < 0 ? 0 : completion;
  openai["usage"] = json::object{{"prompt_tokens", p}, {"completion_tokens", c}, {"total_tokens", p + c}};
}

}  // namespace

json::object openai_tool_call_from_ollama(const json::value& call, std::size_t index) {
  if (!call.is_object()) return {};
  const auto& c = call.get_object();
  const auto* function = c.if_contains("function");
  if (!function || !function->is_object()) return {};
  const auto& f = function->get_object();
  // Ollama sends arguments as an object; OpenAI clients expect the JSON text.
  std::string arguments;
  const auto* a = f.if_contains("arguments");
  if (!a || a->is_null()) arguments = "{}";
  else if (a->is_string()) arguments = a->get_string();
  else arguments = json::serialize(*a);
  auto id = std::string(string_at(c, "id"));
  if (id.empty()) id = "call_" + std::to_string(index);
  return json::object{
      {"id", std::move(id)},
      {"type", "function"},
      {"function", json::object{{"name", string_at(f, "name")}, {"arguments", std::move(arguments)}}},
  };
}

std::string_view openai_finish_reason_from_ollama(std::string_view done_reason) {
  if (done_reason == "length") return "length";
  return "stop";  // stop, load, unload, absent, and whatever a newer server invents
}

void ollama_chat_to_openai_response(const json::object& ollama, std::string_view id, std::int64_t created,
                                    json::object& openai) {
  openai.clear();
  openai["id"] = id;
  openai["object"] = "chat.completion";
  openai["created"] = created;
  openai["model"] = model_of(ollama);

  const json::object* message = nullptr;
  if (const auto* m = ollama.if_contains("message"); m && m->is_object()) message = &m->get_object();
  json::array tool_calls;
  if (message) {
    if (const auto* calls = message->if_contains("tool_calls"); calls && calls->is_array())
      for (const auto& call : calls->get_array())
        if (auto converted = openai_tool_call_from_ollama(call, tool_calls.size()); !converted.empty())
          tool_calls.push_back(std::move(converted));
  }
  const auto content = message ? string_at(*message, "content") : std::string_view{};
  json::object out{{"role", "assistant"}};
  // OpenAI's own answers carry content null beside tool calls; clients test for it.
  if (content.empty() && !tool_calls.empty()) out["content"] = nullptr;
  else out["content"] = content;
  if (const auto thinking = message ? string_at(*message, "thinking") : std::string_view{}; !thinking.empty())
    out["reasoning_content"] = thinking;
  const bool called = !tool_calls.empty();
  if (called) out["tool_calls"] = std::move(tool_calls);

  openai["choices"] = json::array{json::object{
      {"index", 0},
      {"message", std::move(out)},
      {"logprobs", nullptr},
      {"finish_reason", called ? std::string_view("tool_calls")
                               : openai_finish_reason_from_ollama(string_at(ollama, "done_reason"))},
  }};
  put_usage(ollama, openai);
}

void ollama_generate_to_openai_completion(const json::object& ollama, std::string_view id, std::int64_t created,
                                          json::object& openai) {
  openai.clear();
  openai["id"] = id;
  openai["object"] = "text_completion";
  openai["created"] = created;
  openai["model"] = model_of(ollama);
  openai["choices"] = json::array{json::object{
      {"text", string_at(ollama, "response")},
      {"index", 0},
      {"logprobs", nullptr},
      {"finish_reason", openai_finish_reason_from_ollama(string_at(ollama, "done_reason"))},
  }};
  put_usage(ollama, openai);
}

void ollama_embed_to_openai_embeddings(const json::object& ollama, json::object& openai) {
  openai.clear();
  openai["object"] = "list";
  json::array data;
  if (const auto* embeddings = ollama.if_contains("embeddings"); embeddings && embeddings->is_array()) {
    const auto& list = embeddings->get_array();
    data.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i)
      data.push_back(json::object{{"object", "embedding"},
                                  {"index", i},
                                  {"embedding", list[i].is_array() ? list[i] : json::value(json::array{})}});
  }
  openai["data"] = std::move(data);
  openai["model"] = model_of(ollama);
  // OpenAI always reports usage here; a batch answer from Ollama may carry no count at all.
  const auto prompt = std::max<std::int64_t>(count_at(ollama, "prompt_eval_count"), 0);
  openai["usage"] = json::object{{"prompt_tokens", prompt}, {"total_tokens", prompt}};
}

}  // namespace switchyard

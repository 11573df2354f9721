#include "protocol/ollama_stream_to_openai.hpp"

#include <boost/json.hpp>

#include <string_view>
#include <utility>

#include "protocol/json_fields.hpp"
#include "protocol/ollama_response_to_openai.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

std::int64_t count_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (!value) return 0;
  if (value->is_int64()) return value->get_int64() < 0 ? 0 : value->get_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(value->get_uint64());
  return 0;
}

// What an {"error": ...} line says: Ollama sends a string; anything else is shown as its JSON.
std::string error_message(const json::value& error) {
  if (error.is_string()) return std::string(error.get_string());
  if (error.is_object()) {
    if (const auto message = string_at(error.get_object(), "message"); !message.empty()) return std::string(message);
  }
  if (error.is_null()) return "upstream error";
  return json::serialize(error);
}

}  // namespace

OllamaToOpenAiStream::OllamaToOpenAiStream(bool chat, std::string id, std::int64_t created)
    : chat_(chat), id_(std::move(id)), created_(created) {}

bool OllamaToOpenAiStream::finished() const { return finished_; }

json::object OllamaToOpenAiStream::chunk(json::array choices) const {
  return json::object{
      {"id", id_},
      {"object", chat_ ? "chat.completion.chunk" : "text_completion"},
      {"created", created_},
      {"model", model_},
      {"choices", std::move(choices)},
  };
}

void OllamaToOpenAiStream::chat_delta(json::object delta, std::vector<json::object>& chunks) {
  if (!role_sent_) {
    // openai-node's stream accumulator throws without the role on the first chunk.
    role_sent_ = true;
    delta["role"] = "assistant";
    if (!delta.contains("content")) delta["content"] = "";
  }
  chunks.push_back(chunk(json::array{json::object{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", nullptr}}}));
}

void OllamaToOpenAiStream::on_line(const json::object& line, std::vector<json::object>& chunks) {
  if (finished_) return;
  if (const auto* error = line.if_contains("error")) {
    // Ollama's mid-stream failure; OpenAI clients read a data: {"error":...} as one.
    chunks.push_back(json::object{
        {"error", json::object{{"message", error_message(*error)}, {"type", "upstream_error"}}}});
    finished_ = true;
    return;
  }
  if (const auto model = string_at(line, "model"); !model.empty()) model_ = model;

  if (chat_) {
    const json::object* message = nullptr;
    if (const auto* m = line.if_contains("message"); m && m->is_object()) message = &m->get_object();
    if (message) {
      // Reasoning first and in a chunk of its own, as Ollama's own OpenAI layer does.
      if (const auto thinking = string_at(*message, "thinking"); !thinking.empty())
        chat_delta(json::object{{"reasoning_content", thinking}}, chunks);
      if (const auto content = string_at(*message, "content"); !content.empty())
        chat_delta(json::object{{"content", content}}, chunks);
      if (const auto* calls = message->if_contains("tool_calls"); calls && calls->is_array()) {
        json::array tool_calls;
        for (const auto& call : calls->get_array()) {
          auto converted = openai_tool_call_from_ollama(call, next_tool_index_);
          if (converted.empty()) continue;
          // Dense indices across the whole stream: openai-node stores each call at tool_calls[index].
          converted["index"] = next_tool_index_++;
          tool_calls.push_back(std::move(converted));
        }
        if (!tool_calls.empty()) {
          saw_tool_call_ = true;
          chat_delta(json::object{{"tool_calls", std::move(tool_calls)}}, chunks);
        }
      }
    }
  } else if (const auto text = string_at(line, "response"); !text.empty()) {
    chunks.push_back(chunk(json::array{
        json::object{{"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", nullptr}}}));
  }

  if (const auto* done = line.if_contains("done"); done && done->is_bool() && done->get_bool()) finish(line, chunks);
}

void OllamaToOpenAiStream::finish(const json::object& line, std::vector<json::object>& chunks) {
  if (chat_) {
    if (!role_sent_) chat_delta(json::object{}, chunks);  // an empty answer still names its role
    const std::string_view reason =
        saw_tool_call_ ? std::string_view("tool_calls") : openai_finish_reason_from_ollama(string_at(line, "done_reason"));
    chunks.push_back(chunk(json::array{json::object{{"index", 0}, {"delta", json::object{}}, {"finish_reason", reason}}}));
  } else {
    chunks.push_back(chunk(json::array{json::object{{"text", ""},
                                                    {"index", 0},
                                                    {"logprobs", nullptr},
                                                    {"finish_reason", openai_finish_reason_from_ollama(
                                                                          string_at(line, "done_reason"))}}}));
  }
  // The usage chunk is always made; the caller drops it unless the client asked with include_usage.
  const auto prompt = count_at(line, "prompt_eval_count");
  const auto completion = count_at(line, "eval_count");
  auto usage = chunk(json::array{});
  usage["usage"] = json::object{{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
  chunks.push_back(std::move(usage));
  finished_ = true;
}

}  // namespace switchyard

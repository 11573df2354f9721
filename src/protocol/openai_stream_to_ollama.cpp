#include "protocol/openai_stream_to_ollama.hpp"

#include <algorithm>
#include <utility>

#include <boost/json.hpp>

#include "protocol/json_fields.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

std::int64_t integer(const json::value* value) {
  if (!value) return -1;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(std::min<std::uint64_t>(value->get_uint64(), INT64_MAX));
  return -1;
}

void append_json_line(const json::object& line, std::string& out) {
  out.append(json::serialize(line)).push_back('\n');
}

// The message of an upstream error chunk: {"error":{"message"}} or {"error":"..."}.
std::string_view error_message(const json::value& error) {
  if (error.is_string()) return error.get_string();
  if (error.is_object()) {
    if (const auto message = string_at(error.get_object(), "message"); !message.empty()) return message;
  }
  return "an error was encountered while running the model";
}

}  // namespace

OpenAiToOllamaStream::OpenAiToOllamaStream(OllamaEndpoint endpoint, std::string model)
    : endpoint_(endpoint), model_(std::move(model)) {}

bool OpenAiToOllamaStream::finished() const { return finished_; }

void OpenAiToOllamaStream::append_error_line(std::string_view message, std::string& out) {
  append_json_line(json::object{{"error", message}}, out);
}

void OpenAiToOllamaStream::append_line(std::string_view content, std::string_view thinking, std::string& out) const {
  json::object line{{"model", model_}, {"created_at", ollama_timestamp()}};
  if (endpoint_ == OllamaEndpoint::generate) {
    line["response"] = content;
    if (!thinking.empty()) line["thinking"] = thinking;
  } else {
    json::object message{{"role", "assistant"}, {"content", content}};
    if (!thinking.empty()) message["thinking"] = thinking;
    line["message"] = std::move(message);
  }
  line["done"] = false;
  append_json_line(line, out);
}

// One tool call fragment. Some upstreams leave out `index`: a new id then starts a new call and
// anything else continues the last one.
void OpenAiToOllamaStream::gather(const json::object& call) {
  const auto id = string_at(call, "id");
  auto index = integer(call.if_contains("index"));
  if (index < 0) {
    if (calls_.empty() || (!id.empty() && id != calls_.back().id)) {
      index = slots_.empty() ? 0 : slots_.rbegin()->first + 1;
    } else {
      for (const auto& [upstream, position] : slots_)  // the call that arrived last
        if (position + 1 == calls_.size()) index = upstream;
    }
  }
  auto slot = slots_.find(index);
  if (slot == slots_.end()) {
    slot = slots_.emplace(index, calls_.size()).first;
    calls_.emplace_back();
  }
  auto& pending = calls_[slot->second];
  if (pending.id.empty()) pending.id = id;
  if (const auto* f = call.if_contains("function"); f && f->is_object()) {
    const auto& function = f->get_object();
    if (const auto name = string_at(function, "name"); pending.name.empty()) pending.name = name;
    pending.arguments += string_at(function, "arguments");  // fragments are deltas, never cumulative
  }
}

// Ollama clients expect each call whole, arguments as an object: all gathered calls in one line.
void OpenAiToOllamaStream::flush_tool_calls(std::string& out) {
  if (calls_.empty()) return;
  json::array tool_calls;
  tool_calls.reserve(calls_.size());
  for (std::size_t i = 0; i < calls_.size(); ++i)
    tool_calls.push_back(ollama_tool_call(calls_[i].id, static_cast<std::int64_t>(i), calls_[i].name, calls_[i].arguments));
  calls_.clear();
  slots_.clear();
  append_json_line(json::object{{"model", model_},
                                {"created_at", ollama_timestamp()},
                                {"message", json::object{{"role", "assistant"}, {"content", ""}, {"tool_calls", std::move(tool_calls)}}},
                                {"done", false}},
                   out);
}

void OpenAiToOllamaStream::on_chunk(const json::object& chunk, std::string& out) {
  if (finished_) return;
  if (const auto* error = chunk.if_contains("error"); error && !error->is_null()) {
    append_error_line(error_message(*error), out);
    finished_ = true;
    return;
  }
  if (const auto* usage = chunk.if_contains("usage"); usage && usage->is_object()) {  // first, last or anywhere
    const auto& u = usage->get_object();
    if (const auto prompt = integer(u.if_contains("prompt_tokens")); prompt >= 0) prompt_tokens_ = prompt;
    if (const auto completion = integer(u.if_contains("completion_tokens")); completion >= 0)
      completion_tokens_ = completion;
  }
  const auto* choice = first_choice(chunk);
  if (!choice) return;
  const auto& c = *choice;
  if (const auto* d = object_at(c, "delta")) {
    const auto& delta = *d;
    const auto thinking = reasoning_text(delta);
    const auto content = string_at(delta, "content");
    if (!content.empty() || !thinking.empty()) append_line(content, thinking, out);  // role-only deltas say nothing
    if (const auto* calls = delta.if_contains("tool_calls"); calls && calls->is_array() && endpoint_ == OllamaEndpoint::chat)
      for (const auto& call : calls->get_array())
        if (call.is_object()) gather(call.get_object());
  }
  if (const auto reason = string_at(c, "finish_reason"); !reason.empty()) {
    finish_reason_ = reason;
    flush_tool_calls(out);  // the done line waits for on_done: usage may still come
  }
}

void OpenAiToOllamaStream::on_done(const OllamaTimings& timings, std::string& out) {
  if (finished_) return;
  flush_tool_calls(out);
  json::object line{{"model", model_}, {"created_at", ollama_timestamp()}};
  if (endpoint_ == OllamaEndpoint::generate) {
    line["response"] = "";
  } else {
    line["message"] = json::object{{"role", "assistant"}, {"content", ""}};
  }
  append_ollama_done_fields(ollama_done_reason(finish_reason_), prompt_tokens_, completion_tokens_, timings, line);
  append_json_line(line, out);
  finished_ = true;
}

}  // namespace switchyard

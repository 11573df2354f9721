#include "protocol/openai_response_to_ollama.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "protocol/json_fields.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

std::int64_t integer(const json::value* value) {
  if (!value) return -1;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(std::min<std::uint64_t>(value->get_uint64(), INT64_MAX));
  if (value->is_double() && value->get_double() >= 0 && value->get_double() < 9e18)
    return static_cast<std::int64_t>(value->get_double());
  return -1;
}

std::string message_text(const json::object& message) {
  const auto* content = message.if_contains("content");
  if (!content) return {};
  if (content->is_string()) return std::string(content->get_string());
  std::string text;
  if (content->is_array()) {  // some upstreams answer with parts
    for (const auto& part : content->get_array())
      if (part.is_object()) text += string_at(part.get_object(), "text");
  }
  return text;
}

json::object arguments_object(std::string_view arguments) {
  boost::system::error_code ec;
  auto parsed = json::parse(arguments, ec);
  if (ec || !parsed.is_object()) return {};
  return std::move(parsed.get_object());
}

// An embedding sent as base64 (encoding_format "base64"): little-endian float32s.
json::array decode_embedding(std::string_view base64) {
  json::array values;
  std::string clean;
  clean.reserve(base64.size());
  for (char c : base64)
    if (c != '\n' && c != '\r' && c != ' ') clean.push_back(c);
  if (clean.empty() || clean.size() % 4 != 0) return values;
  std::vector<unsigned char> bytes(clean.size() / 4 * 3);
  const int decoded =
      EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
  if (decoded < 0) return values;
  // EVP_DecodeBlock counts the padding's zero bytes too.
  std::size_t size = static_cast<std::size_t>(decoded);
  if (clean.ends_with("==")) {
    size -= 2;
  } else if (clean.ends_with('=')) {
    size -= 1;
  }
  values.reserve(size / 4);
  for (std::size_t at = 0; at + 4 <= size; at += 4) {
    const std::uint32_t bits = std::uint32_t(bytes[at]) | std::uint32_t(bytes[at + 1]) << 8 |
                               std::uint32_t(bytes[at + 2]) << 16 | std::uint32_t(bytes[at + 3]) << 24;
    // NaN and infinities have no JSON form: a client could not read the answer.
    const auto value = static_cast<double>(std::bit_cast<float>(bits));
    values.push_back(std::isfinite(value) ? value : 0.0);
  }
  return values;
}

json::array embedding_vector(const json::value& item) {
  if (!item.is_object()) return {};
  const auto* embedding = item.get_object().if_contains("embedding");
  if (!embedding) return {};
  if (embedding->is_array()) return embedding->get_array();
  if (embedding->is_string()) return decode_embedding(embedding->get_string());
  return {};
}

// The vectors of an embeddings list, in the order of their `index`.
std::vector<json::array> embedding_vectors(const json::object& openai) {
  std::vector<std::pair<std::int64_t, json::array>> indexed;
  if (const auto* data = openai.if_contains("data"); data && data->is_array()) {
    std::int64_t position = 0;
    for (const auto& item : data->get_array()) {
      std::int64_t index = position++;
      if (item.is_object())
        if (const auto given = integer(item.get_object().if_contains("index")); given >= 0) index = given;
      indexed.emplace_back(index, embedding_vector(item));
    }
  }
  std::stable_sort(indexed.begin(), indexed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<json::array> vectors;
  vectors.reserve(indexed.size());
  for (auto& [index, vector] : indexed) vectors.push_back(std::move(vector));
  return vectors;
}

void answer(OllamaEndpoint endpoint, const json::object& openai, std::string_view model, const OllamaTimings& timings,
            json::object& ollama) {
  const json::object* message = nullptr;
  std::string_view finish_reason;
  if (const auto* choice = first_choice(openai)) {
    finish_reason = string_at(*choice, "finish_reason");
    message = object_at(*choice, "message");
  }
  const json::object empty;
  const auto& m = message ? *message : empty;
  const auto text = message_text(m);
  const auto reasoning = reasoning_text(m);

  ollama["model"] = model;
  ollama["created_at"] = ollama_timestamp();
  if (endpoint == OllamaEndpoint::generate) {
    ollama["response"] = text;
    if (!reasoning.empty()) ollama["thinking"] = reasoning;
  } else {
    json::object out{{"role", "assistant"}, {"content", text}};
    if (!reasoning.empty()) out["thinking"] = reasoning;
    if (const auto* calls = m.if_contains("tool_calls"); calls && calls->is_array()) {
      json::array tool_calls;
      for (const auto& call : calls->get_array()) {
        if (!call.is_object()) continue;
        const auto& c = call.get_object();
        const json::object* function = nullptr;
        if (const auto* f = c.if_contains("function"); f && f->is_object()) function = &f->get_object();
        if (!function) continue;
        tool_calls.push_back(ollama_tool_call(string_at(c, "id"), static_cast<std::int64_t>(tool_calls.size()),
                                              string_at(*function, "name"), string_at(*function, "arguments")));
      }
      if (!tool_calls.empty()) out["tool_calls"] = std::move(tool_calls);
    }
    ollama["message"] = std::move(out);
  }
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  if (const auto* usage = openai.if_contains("usage"); usage && usage->is_object()) {
    prompt_tokens = std::max<std::int64_t>(integer(usage->get_object().if_contains("prompt_tokens")), 0);
    completion_tokens = std::max<std::int64_t>(integer(usage->get_object().if_contains("completion_tokens")), 0);
  }
  append_ollama_done_fields(ollama_done_reason(finish_reason), prompt_tokens, completion_tokens, timings, ollama);
}

}  // namespace

json::object ollama_tool_call(std::string_view id, std::int64_t index, std::string_view name,
                              std::string_view arguments) {
  json::object call;
  if (!id.empty()) call["id"] = id;  // current Ollama servers send one; clients echo it as tool_call_id
  call["function"] = json::object{{"index", index}, {"name", name}, {"arguments", arguments_object(arguments)}};
  return call;
}

void append_ollama_done_fields(std::string_view done_reason, std::int64_t prompt_tokens,
                               std::int64_t completion_tokens, const OllamaTimings& timings, json::object& out) {
  out["done_reason"] = done_reason;
  out["done"] = true;
  out["total_duration"] = timings.total_ns;
  out["load_duration"] = timings.load_ns;
  out["prompt_eval_count"] = prompt_tokens;
  out["prompt_eval_duration"] = timings.prompt_eval_ns;
  out["eval_count"] = completion_tokens;
  out["eval_duration"] = timings.eval_ns;
}

void openai_to_ollama_response(OllamaEndpoint endpoint, const json::object& openai, std::string_view model,
                               const OllamaTimings& timings, json::object& ollama) {
  ollama.clear();
  switch (endpoint) {
    case OllamaEndpoint::chat:
    case OllamaEndpoint::generate:
      answer(endpoint, openai, model, timings, ollama);
      return;
    case OllamaEndpoint::embed: {
      json::array embeddings;
      for (auto& vector : embedding_vectors(openai)) embeddings.push_back(std::move(vector));
      std::int64_t prompt_tokens = 0;
      if (const auto* usage = openai.if_contains("usage"); usage && usage->is_object())
        prompt_tokens = std::max<std::int64_t>(integer(usage->get_object().if_contains("prompt_tokens")), 0);
      ollama["model"] = model;
      ollama["embeddings"] = std::move(embeddings);
      ollama["total_duration"] = timings.total_ns;
      ollama["load_duration"] = timings.load_ns;
      ollama["prompt_eval_count"] = prompt_tokens;
      return;
    }
    case OllamaEndpoint::embeddings: {
      auto vectors = embedding_vectors(openai);
      ollama["embedding"] = vectors.empty() ? json::array{} : std::move(vectors.front());
      return;
    }
  }
}

std::string_view ollama_done_reason(std::string_view finish_reason) {
  return finish_reason == "length" ? "length" : "stop";
}

std::string ollama_timestamp() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now - seconds).count();
  const std::time_t time = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[48];
  const auto date = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + date, sizeof buffer - date, ".%09lldZ", static_cast<long long>(nanos));
  return buffer;
}

}  // namespace switchyard

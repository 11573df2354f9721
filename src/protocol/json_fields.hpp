// Reading fields of parsed JSON that may hold anything a client or upstream sent: each function
// answers "absent" (empty, a null pointer, -1) for a missing key or a value of another type, and
// never throws. Shared by the translators and the stream bridge.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace switchyard {

inline std::string_view string_at(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string_view(value->get_string()) : std::string_view{};
}

inline const boost::json::object* object_at(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_object() ? &value->get_object() : nullptr;
}

// An integer however Boost.JSON holds it (int64, or uint64 cast as it is), or -1.
inline std::int64_t integer_at(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value && value->is_int64()) return value->get_int64();
  if (value && value->is_uint64()) return static_cast<std::int64_t>(value->get_uint64());
  return -1;
}

// The first choice of an OpenAI (hub) answer or chunk, when there is one and it is an object.
inline const boost::json::object* first_choice(const boost::json::object& openai) {
  const auto* choices = openai.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) return nullptr;
  const auto& choice = choices->get_array().front();
  return choice.is_object() ? &choice.get_object() : nullptr;
}

// A hub message's or delta's reasoning: reasoning_content (llama.cpp, DeepSeek), else reasoning
// (Ollama's and OpenRouter's name).
inline std::string_view reasoning_text(const boost::json::object& message) {
  const auto reasoning = string_at(message, "reasoning_content");
  return reasoning.empty() ? string_at(message, "reasoning") : reasoning;
}

}  // namespace switchyard

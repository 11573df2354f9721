// OpenAI answers -> Ollama native API answers, for an Ollama client served by an upstream of another
// kind: chat.completion -> an /api/chat answer (message with tool_calls whose arguments are JSON
// objects), -> an /api/generate answer (response), embeddings -> /api/embed ("embeddings") or the
// legacy /api/embeddings ("embedding"); done true, done_reason from finish_reason, prompt_eval_count
// and eval_count from usage, durations in nanoseconds as measured by the gateway, created_at now in
// RFC 3339 with nanoseconds. Pure but for reading the clock; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "protocol/ollama_request_to_openai.hpp"

namespace switchyard {

// What the gateway measured, in nanoseconds (0 when unknown).
struct OllamaTimings {
  std::int64_t total_ns = 0;
  std::int64_t load_ns = 0;
  std::int64_t prompt_eval_ns = 0;  // until the first token
  std::int64_t eval_ns = 0;         // from the first token to the end
};

void openai_to_ollama_response(OllamaEndpoint endpoint, const boost::json::object& openai, std::string_view model,
                               const OllamaTimings& timings, boost::json::object& ollama);

// Ollama's done_reason for an OpenAI finish_reason ("length" -> "length", anything else -> "stop").
std::string_view ollama_done_reason(std::string_view finish_reason);

// The current time as Ollama writes created_at: 2024-07-02T10:11:12.123456789Z.
std::string ollama_timestamp();

}  // namespace switchyard

// OpenAI answers -> Ollama native API answers, for an Ollama client served by an upstream of another
// kind: chat.completion -> an /api/chat answer (message with tool_calls whose arguments are JSON
// objects), -> an /api/generate answer (response), embeddings -> /api/embed ("embeddings") or the
// legacy /api/embeddings ("embedding"); done true, done_reason from finish_reason, prompt_eval_count
// and eval_count from usage, durations in nanoseconds as measured by the gateway, created_at now in
// RFC 3339 with nanoseconds. Tool calls keep the upstream's id and get function.index, as current
// Ollama servers write them; base64 embeddings are decoded (little-endian float32). Pure but for
// reading the clock; any thread.
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

// Shared with OpenAiToOllamaStream. One tool call as Ollama writes it: {"id"?,"function":{"index",
// "name","arguments":<object>}}, the OpenAI argument string parsed ({} when it is not a JSON object).
boost::json::object ollama_tool_call(std::string_view id, std::int64_t index, std::string_view name,
                                     std::string_view arguments);
// done_reason, done, the durations and the counts, in Ollama's order, added to a final answer or line.
void append_ollama_done_fields(std::string_view done_reason, std::int64_t prompt_tokens,
                               std::int64_t completion_tokens, const OllamaTimings& timings,
                               boost::json::object& out);

}  // namespace switchyard

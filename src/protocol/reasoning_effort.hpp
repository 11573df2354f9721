// How much a model should think, in each protocol's terms: OpenAI's reasoning_effort (or
// reasoning.effort), Anthropic's thinking budget in tokens, Ollama's think (a bool or a level).
// The buckets follow LiteLLM's (low 1024, medium 2048, high 4096 tokens), and each mapping back
// lands in the bucket it came from, so a request that crosses twice keeps its level.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace switchyard {

// reasoning_effort, else reasoning.effort; empty when neither is a string.
std::string_view requested_reasoning_effort(const boost::json::object& openai);

// The Anthropic thinking budget for an effort: 0 for "none" (no thinking), nullopt for a value
// OpenAI does not define.
std::optional<std::int64_t> thinking_budget_for_effort(std::string_view effort);

// Anthropic's thinking object -> reasoning_effort: enabled by its budget, adaptive "medium",
// disabled or anything else empty (nothing to send).
std::string_view effort_for_thinking(const boost::json::value& thinking);

// Anthropic's output_config.effort (low, medium, high, max) -> reasoning_effort ("max" "xhigh");
// empty when absent or unknown.
std::string_view effort_for_output_effort(const boost::json::value* effort);

// reasoning_effort -> Ollama think: "none" false, "minimal" "low", "xhigh"/"max" "max"; null when unknown.
boost::json::value ollama_think_for_effort(std::string_view effort);

// Ollama think -> reasoning_effort: true "medium", a level as it is ("max" "xhigh"); empty (nothing
// to send) when false, absent or not understood.
std::string_view effort_for_ollama_think(const boost::json::value* think);

}  // namespace switchyard

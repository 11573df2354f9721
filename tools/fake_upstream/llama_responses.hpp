// Bodies of llama-server's own endpoints for the fake's llama-server mode: /v1/models with model
// metadata, /props, /slots and /metrics. Built with Boost.JSON; these are not on a hot path.
// Called from the one worker thread of llama-server mode.
#pragma once

#include "options.hpp"
#include "slot_gate.hpp"

#include <cstdint>
#include <string>

namespace fake_upstream {

// Totals behind /metrics (one thread writes and reads them).
struct LlamaCounters {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t predicted_tokens = 0;
  std::uint64_t decodes = 0;
};

// `loaded` false: "meta" is null, as llama-server answers while the model loads.
std::string llama_models_body(const Options& options, bool loaded);
std::string llama_props_body(const Options& options, const SlotGate& slots);
std::string llama_slots_body(const SlotGate& slots);
// Prometheus text with llama-server's llamacpp:* families.
std::string llama_metrics_body(const LlamaCounters& counters, const SlotGate& slots);

}  // namespace fake_upstream

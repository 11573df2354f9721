// Active health checks: for each upstream with checks enabled, a GET of its health path every
// interval (default: the OpenAI-compatible model list, "/models" under the base URL; llama-server's
// "/health" answers 503 while a model loads, which counts as down). `unhealthy_after` failures in a row
// take the upstream out of routing, `healthy_after` successes bring it back. After a good check, an
// upstream that can say which models it has loaded is asked that too, on the same connection: an
// Ollama host (GET /api/ps) and another Switchyard (`node: switchyard`: GET /v1/models/status, its
// local models that are "ready"). Others (vLLM, cloud APIs) cannot tell: no preference is made.
// Runs as one coroutine per upstream on worker 0's event loop; writes only the upstream's `healthy`
// atomic and its loaded models.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "routing/upstream_runtime.hpp"

namespace switchyard {

Task<> run_health_checks(UpstreamRuntime& upstream);

// The request target a check GETs (exposed for tests and /health).
std::string health_check_target(const UpstreamConfig& upstream);

// The request target that lists the upstream's loaded models; empty when it has none.
std::string loaded_models_target(const UpstreamConfig& upstream);

// The answers of those targets; nullopt for a body that is not the expected shape. Never throw.
std::optional<LoadedModels> parse_ollama_ps(std::string_view body);
std::optional<LoadedModels> parse_switchyard_status(std::string_view body);

}  // namespace switchyard

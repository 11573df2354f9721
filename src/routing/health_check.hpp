// Active health checks: for each upstream with checks enabled, a GET of its health path every
// interval (default: the OpenAI-compatible model list, "/models" under the base URL; llama-server's
// "/health" answers 503 while a model loads, which counts as down). `unhealthy_after` failures in a row
// take the upstream out of routing, `healthy_after` successes bring it back. Runs as one coroutine per
// upstream on worker 0's event loop; writes only the upstream's `healthy` atomic.
#pragma once

#include "core/asio.hpp"
#include "routing/upstream_runtime.hpp"

namespace switchyard {

Task<> run_health_checks(UpstreamRuntime& upstream);

// The request target a check GETs (exposed for tests and /health).
std::string health_check_target(const UpstreamConfig& upstream);

}  // namespace switchyard

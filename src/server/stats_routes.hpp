// GET /stats: what the router sees right now, per alias and deployment (in flight, capacity, latency
// averages, errors, health and circuit state, retry budget). Runs on the worker thread of the
// session that received it; reads shared atomics only.
#pragma once

#include "server/http_session.hpp"

namespace switchyard {

class RouteTable;

Task<> serve_stats(HttpSession& session, RequestContext& context);
// GET /v1/queue/stats: per alias and priority, queue depth, waits (p50, p99 of recent ones) and
// rejections.
Task<> serve_queue_stats(HttpSession& session, RequestContext& context);

// Prometheus text for the same per-deployment state (gauges), appended to GET /metrics.
std::string render_routing_metrics(const RouteTable& routes);

}  // namespace switchyard

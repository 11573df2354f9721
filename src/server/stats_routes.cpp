#include "server/stats_routes.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <boost/json.hpp>

#include <algorithm>

#include "app/worker.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::string_view circuit_name(CircuitState state) {
  switch (state) {
    case CircuitState::closed: return "closed";
    case CircuitState::open: return "open";
    case CircuitState::half_open: return "half_open";
  }
  return "closed";
}

json::object deployment_stats(const Deployment& d, Clock::time_point now) {
  const auto& state = *d.state;
  return json::object{
      {"name", d.name},
      {"upstream", d.upstream->config.name},
      {"model", d.config->model},
      {"tier", d.config->tier},
      {"weight", d.config->weight},
      {"capacity", d.config->capacity},
      {"in_flight", state.in_flight.load(std::memory_order_relaxed)},
      {"requests", state.requests.load(std::memory_order_relaxed)},
      {"errors", state.errors.load(std::memory_order_relaxed)},
      {"ewma_ttft_ms", state.ewma_ttft_us() / 1000.0},
      {"ewma_latency_ms", state.ewma_latency_us() / 1000.0},
      {"latency_samples", state.samples()},
      {"healthy", d.upstream->healthy.load(std::memory_order_relaxed)},
      {"circuit", circuit_name(state.circuit())},
      {"consecutive_failures", state.consecutive_failures()},
      {"cooling_down", state.cooling_down(now)},
  };
}

}  // namespace

Task<> serve_stats(HttpSession& session, RequestContext& context) {
  const auto now = Clock::now();
  json::object models;
  session.worker().state().routes().for_each([&](const Route& route) {
    json::array deployments;
    for (const auto& d : route.deployments) deployments.push_back(deployment_stats(d, now));
    models[route.alias] = json::object{
        {"strategy", strategy_name(route.config->strategy)},
        {"retries_max", route.config->retries.max},
        {"retry_budget_available", route.retry_budget->available()},
        {"deployments", std::move(deployments)},
    };
  });
  const json::object body{{"models", std::move(models)}};
  const auto text = json::serialize(body);
  co_await session.respond(context, 200, "application/json", text);
}

namespace {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

Task<> serve_queue_stats(HttpSession& session, RequestContext& context) {
  json::object models;
  session.worker().state().routes().for_each([&](const Route& route) {
    const auto stats = route.queue->stats();
    json::object classes;
    for (const auto priority : {Priority::high, Priority::normal, Priority::low}) {
      const auto& s = stats[static_cast<int>(priority)];
      classes[priority_name(priority)] = json::object{
          {"depth", s.depth},
          {"served", s.served},
          {"rejected_full", s.rejected_full},
          {"timed_out", s.timed_out},
          {"abandoned", s.abandoned},
          {"wait_ms_p50", percentile(s.recent_waits_ms, 0.5)},
          {"wait_ms_p99", percentile(s.recent_waits_ms, 0.99)},
      };
    }
    const auto& config = route.queue->config();
    models[route.alias] = json::object{{"max_size", config.max_size},
                                       {"timeout_ms", config.timeout.count()},
                                       {"overflow_after_ms", config.overflow_after.count()},
                                       {"priorities", std::move(classes)}};
  });
  const json::object body{{"models", std::move(models)}};
  const auto text = json::serialize(body);
  co_await session.respond(context, 200, "application/json", text);
}

std::string render_routing_metrics(const RouteTable& routes) {
  prometheus::MetricFamily in_flight{"switchyard_deployment_in_flight", "Requests a deployment is serving now.",
                                     prometheus::MetricType::Gauge, {}};
  prometheus::MetricFamily healthy{"switchyard_deployment_healthy",
                                   "1 when the deployment's upstream passes its health checks and its circuit is "
                                   "closed, else 0.",
                                   prometheus::MetricType::Gauge, {}};
  prometheus::MetricFamily circuit{"switchyard_deployment_circuit_state",
                                   "Circuit breaker: 0 closed, 1 open, 2 half-open.", prometheus::MetricType::Gauge, {}};
  const auto gauge = [](prometheus::MetricFamily& family, const Route& route, const Deployment& d, double value) {
    prometheus::ClientMetric metric;
    metric.label = {{"alias", route.alias}, {"deployment", d.name}, {"model", d.config->model}};
    metric.gauge.value = value;
    family.metric.push_back(std::move(metric));
  };
  routes.for_each([&](const Route& route) {
    for (const auto& d : route.deployments) {
      const auto state = d.state->circuit();
      gauge(in_flight, route, d, d.state->in_flight.load(std::memory_order_relaxed));
      gauge(healthy, route, d, d.upstream->healthy.load(std::memory_order_relaxed) && state == CircuitState::closed);
      gauge(circuit, route, d, static_cast<double>(state));
    }
  });
  prometheus::MetricFamily depth{"switchyard_queue_depth", "Requests waiting for a deployment, by alias and priority.",
                                 prometheus::MetricType::Gauge, {}};
  prometheus::MetricFamily rejected{"switchyard_queue_rejections_total",
                                    "Requests the queue turned away, by alias, priority and reason (full, timeout, "
                                    "client_left).",
                                    prometheus::MetricType::Counter, {}};
  routes.for_each([&](const Route& route) {
    const auto stats = route.queue->stats();
    for (const auto priority : {Priority::high, Priority::normal, Priority::low}) {
      const auto& s = stats[static_cast<int>(priority)];
      const std::string name(priority_name(priority));
      prometheus::ClientMetric metric;
      metric.label = {{"alias", route.alias}, {"priority", name}};
      metric.gauge.value = static_cast<double>(s.depth);
      depth.metric.push_back(metric);
      const std::pair<const char*, std::uint64_t> reasons[] = {
          {"full", s.rejected_full}, {"timeout", s.timed_out}, {"client_left", s.abandoned}};
      for (const auto& [reason, count] : reasons) {
        prometheus::ClientMetric counter;
        counter.label = {{"alias", route.alias}, {"priority", name}, {"reason", reason}};
        counter.counter.value = static_cast<double>(count);
        rejected.metric.push_back(std::move(counter));
      }
    }
  });
  return prometheus::TextSerializer().Serialize({in_flight, healthy, circuit, depth, rejected});
}

}  // namespace switchyard

#include "server/admin_routes.hpp"

#include <boost/json.hpp>
#include <boost/url/pct_string_view.hpp>

#include "app/worker.hpp"
#include "server/stats_routes.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  const auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buffer, n);
}

// A model as the client's protocol lists it.
json::object model_object(const RequestContext& context, std::string_view alias, std::chrono::system_clock::time_point created) {
  if (context.protocol == ClientProtocol::anthropic)
    return json::object{{"type", "model"}, {"id", alias}, {"display_name", alias}, {"created_at", rfc3339(created)}};
  return json::object{{"id", alias}, {"object", "model"}, {"created", unix_seconds(created)}, {"owned_by", "switchyard"}};
}

std::string_view upstream_state(const UpstreamRuntime& upstream) {
  if (!upstream.healthy.load(std::memory_order_relaxed)) return "down";  // its active health checks fail
  if (upstream.requests.load(std::memory_order_relaxed) == 0) return "unknown";
  return upstream.consecutive_failures.load(std::memory_order_relaxed) >= 3 ? "failing" : "ok";
}

}  // namespace

Task<> serve_health(HttpSession& session, RequestContext& context) {
  auto& state = session.worker().state();
  json::object upstreams;
  for (const auto& [name, upstream] : state.upstreams()) {
    json::array keys;
    for (const auto& key : upstream->keys.status(std::chrono::steady_clock::now())) {
      json::object entry{{"key", key.label}, {"state", key.state}, {"in_flight", key.in_flight}, {"uses", key.uses}};
      if (key.disabled_status != 0) entry["disabled_after_status"] = key.disabled_status;
      keys.push_back(std::move(entry));
    }
    upstreams[name] = json::object{
        {"kind", upstream_kind_name(upstream->config.kind)},
        {"keys", std::move(keys)},
        {"base_url", upstream->config.base_url},
        {"state", upstream_state(*upstream)},
        {"in_flight", upstream->in_flight.load(std::memory_order_relaxed)},
        {"requests", upstream->requests.load(std::memory_order_relaxed)},
        {"failures", upstream->failures.load(std::memory_order_relaxed)},
        {"consecutive_failures", upstream->consecutive_failures.load(std::memory_order_relaxed)},
        {"last_success_unix_ms", upstream->last_success_unix_ms.load(std::memory_order_relaxed)},
        {"last_failure_unix_ms", upstream->last_failure_unix_ms.load(std::memory_order_relaxed)},
    };
  }
  const bool draining = state.draining();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - state.started_at());
  json::object body{{"status", draining ? "draining" : "ok"},
                    {"version", std::string_view(SWITCHYARD_VERSION)},
                    {"uptime_s", uptime.count()},
                    {"models", state.routes().aliases().size()},
                    {"upstreams", std::move(upstreams)}};
  const auto text = json::serialize(body);
  co_await session.respond(context, draining ? 503 : 200, "application/json", text);
}

Task<> serve_metrics(HttpSession& session, RequestContext& context) {
  auto& state = session.worker().state();
  const auto text = state.metrics().render() + render_routing_metrics(state.routes()) + state.local_models().metrics_text();
  co_await session.respond(context, 200, "text/plain; version=0.0.4; charset=utf-8", text);
}

Task<> serve_model_list(HttpSession& session, RequestContext& context) {
  auto& state = session.worker().state();
  json::array data;
  for (const auto& alias : state.routes().aliases()) data.push_back(model_object(context, alias, state.started_at()));
  json::object list;
  if (context.protocol == ClientProtocol::anthropic) {
    const auto& aliases = state.routes().aliases();
    list["data"] = std::move(data);
    list["has_more"] = false;
    list["first_id"] = aliases.empty() ? json::value(nullptr) : json::value(aliases.front());
    list["last_id"] = aliases.empty() ? json::value(nullptr) : json::value(aliases.back());
  } else {
    list["object"] = "list";
    list["data"] = std::move(data);
  }
  const auto text = json::serialize(list);
  co_await session.respond(context, 200, "application/json", text);
}

Task<> serve_model(HttpSession& session, RequestContext& context, std::string_view encoded_id) {
  auto& state = session.worker().state();
  std::string id;
  if (auto decoded = boost::urls::make_pct_string_view(encoded_id); decoded) {
    id = decoded->decode();
  } else {
    id.assign(encoded_id);
  }
  if (!state.routes().find(id)) {
    const ApiError error{ErrorKind::model_not_found, "The model `" + id + "` does not exist.", "model"};
    co_await session.respond_error(context, error);
    co_return;
  }
  const auto text = json::serialize(model_object(context, id, state.started_at()));
  co_await session.respond(context, 200, "application/json", text);
}

}  // namespace switchyard

#include "server/local_routes.hpp"

#include <boost/json.hpp>

#include "app/worker.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

constexpr std::string_view kModels = "/v1/models/";
constexpr auto kStreamPoll = std::chrono::milliseconds(100);
constexpr auto kHeartbeat = std::chrono::seconds(15);

// "/v1/models/{alias}/{action}" -> alias and action; empty when the path is not of that shape.
std::pair<std::string_view, std::string_view> alias_action(std::string_view path) {
  if (!path.starts_with(kModels)) return {};
  const auto rest = path.substr(kModels.size());
  const auto slash = rest.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return {};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void append_event(std::string& out, std::string_view name, std::string_view data) {
  out.append("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
}

// The status stream: full_status on connect, a model_update per change, a heartbeat; ends when the
// client leaves or the gateway drains.
Task<> stream_status(HttpSession& session, RequestContext& context) {
  auto& worker = session.worker();
  auto& manager = worker.state().local_models();
  context.keep_alive = false;
  session.begin_chunked(context, 200, "text/event-stream");
  std::vector<std::string> updates;
  auto seq = manager.updates_since(~0ULL, updates);
  std::string out;
  append_event(out, "full_status", manager.status_json());
  if (!co_await session.write_chunk(out)) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto last_write = std::chrono::steady_clock::now();
  while (!worker.state().draining()) {
    timer.expires_after(kStreamPoll);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) break;
    out.clear();
    updates.clear();
    seq = manager.updates_since(seq, updates);
    for (const auto& update : updates) append_event(out, "model_update", update);
    const auto now = std::chrono::steady_clock::now();
    if (out.empty() && now - last_write < kHeartbeat) continue;
    if (out.empty()) {
      const auto beat = json::serialize(json::object{{"timestamp_unix_ms", unix_ms()}, {"server_status", "ok"}});
      append_event(out, "heartbeat", beat);
    }
    last_write = now;
    if (!co_await session.write_chunk(out)) co_return;
  }
  co_await session.end_chunked();
}

// The answer of every route but the stream: status and JSON body.
int answer(ModelManager& manager, const Request& request, std::string_view path, std::string& body) {
  const auto not_local = [&](std::string_view alias) {
    body = openai_error_body({ErrorKind::model_not_found, "`" + std::string(alias) + "` is not a local model.", "model"});
    return 404;
  };
  if (path == "/vram") {
    body = manager.vram_json();
    return 200;
  }
  if (path == "/v1/models/status") {
    body = manager.status_json();
    return 200;
  }
  if (path == "/v1/models/failed") {
    body = manager.failed_json();
    return 200;
  }
  if (path == "/v1/models/eject") {
    boost::system::error_code ec;
    const auto parsed = json::parse(request.body(), ec);
    const json::value* model = !ec && parsed.is_object() ? parsed.get_object().if_contains("model") : nullptr;
    if (!model || !model->is_string()) {
      body = openai_error_body({ErrorKind::missing_field, "Body must be {\"model\": \"<alias>\"}.", "model"});
      return 400;
    }
    const std::string alias(model->get_string());
    if (!manager.eject(alias)) return not_local(alias);
    body = json::serialize(json::object{{"alias", alias}, {"action", "eject"}, {"accepted", true}});
    return 202;
  }
  const auto [alias, action] = alias_action(path);
  if (action == "status") {
    body = manager.model_status_json(alias);
    return body.empty() ? not_local(alias) : 200;
  }
  const bool ok = action == "load" ? manager.load(alias) : manager.reset(alias);
  if (!ok) return not_local(alias);
  body = json::serialize(json::object{{"alias", alias}, {"action", action}, {"accepted", true}});
  return 202;
}

}  // namespace

bool is_local_route(std::string_view path) {
  if (path == "/vram" || path == "/v1/models/status" || path == "/v1/models/status/stream" ||
      path == "/v1/models/failed" || path == "/v1/models/eject")
    return true;
  const auto [alias, action] = alias_action(path);
  return !alias.empty() && (action == "status" || action == "load" || action == "reset");
}

Task<> serve_local_route(HttpSession& session, Request& request, RequestContext& context, std::string_view path) {
  if (path == "/v1/models/status/stream") co_return co_await stream_status(session, context);
  std::string body;
  const int status = answer(session.worker().state().local_models(), request, path, body);
  co_await session.respond(context, status, "application/json", body);
}

}  // namespace switchyard

#include "routing/health_check.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "upstream/upstream_request.hpp"
#include "upstream/upstream_connection.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

using ResponseParser = http::response_parser<http::empty_body>;

// A health answer or a list of loaded models: anything larger is not one.
constexpr std::size_t kMaxBody = 4 * 1024 * 1024;

std::string get_request(const UpstreamConfig& upstream, const std::string& target) {
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + upstream.host;
  if ((upstream.tls && upstream.port != 443) || (!upstream.tls && upstream.port != 80))
    request += ":" + std::to_string(upstream.port);
  request += "\r\nUser-Agent: switchyard-health-check\r\nAccept: application/json\r\n";
  append_upstream_auth(request, upstream, upstream.api_keys.empty() ? std::string_view{} : upstream.api_keys.front().key);
  return request + "\r\n";
}

// One GET on `connection` (connected first when needed): the answer's status, or -1 when there was
// no complete answer (the connection is then closed and reset). The body goes to `body` when given.
Task<int> get_once(UpstreamRuntime& upstream, const UpstreamConfig& dial, std::unique_ptr<UpstreamConnection>& connection,
                   const std::string& request, std::string* body) {
  const auto timeout = upstream.config.health.timeout;
  const auto fail = [&connection] {
    if (connection) connection->close();
    connection.reset();
    return -1;
  };
  if (!connection) {
    connection = std::make_unique<UpstreamConnection>(co_await asio::this_coro::executor, upstream.tls_context.get());
    const auto ec = co_await connection->connect(dial);
    if (ec) co_return fail();
  }
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(request), asio::const_buffer()};
  auto [write_ec, written] = co_await connection->write(buffers, timeout);
  if (write_ec) co_return fail();
  ResponseParser parser;
  parser.body_limit(boost::none);
  if (const auto ec = co_await connection->read_header(parser, timeout); ec) co_return fail();
  auto decoder = BodyDecoder::for_head(parser);
  std::size_t body_bytes = 0;
  if (body) body->clear();
  while (!decoder.done()) {
    auto [ec, piece] = co_await connection->read_body(decoder, timeout);
    if (ec) co_return fail();
    body_bytes += piece.size();
    if (body_bytes > kMaxBody) co_return fail();
    if (body) body->append(piece);
  }
  const auto status = parser.get().result_int();
  if (!decoder.reusable() || !parser.keep_alive()) {
    connection->close();
    connection.reset();
  }
  co_return static_cast<int>(status);
}

void add_name(std::vector<std::string>& names, const json::value* name) {
  if (!name || !name->is_string()) return;
  std::string text(name->get_string());
  if (!text.empty() && std::find(names.begin(), names.end(), text) == names.end()) names.push_back(std::move(text));
}

std::optional<json::value> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  json::value doc = json::parse(body, ec, {}, options);
  if (ec || !doc.is_object()) return std::nullopt;
  return doc;
}

}  // namespace

std::string health_check_target(const UpstreamConfig& upstream) {
  std::string path = upstream.health.path;
  if (path.empty()) {
    switch (upstream.kind) {
      case UpstreamKind::openai: path = "/models"; break;
      case UpstreamKind::anthropic: path = "/v1/models"; break;
      case UpstreamKind::ollama: path = "/api/version"; break;
    }
  }
  return upstream.path_prefix + path;
}

std::string loaded_models_target(const UpstreamConfig& upstream) {
  if (upstream.kind == UpstreamKind::ollama) return upstream.path_prefix + "/api/ps";
  if (upstream.kind == UpstreamKind::openai && upstream.node == UpstreamNode::switchyard) {
    // The base URL names the API root (".../v1"); the status route is "/v1/models/status" under
    // the gateway's root, which may itself sit under a prefix of a reverse proxy.
    std::string_view root = upstream.path_prefix;
    if (root.ends_with("/v1")) root.remove_suffix(3);
    return std::string(root) + "/v1/models/status";
  }
  return {};
}

// {"models":[{"name":"llama3:latest","model":"llama3:latest",...}]}: every model Ollama has in memory.
std::optional<LoadedModels> parse_ollama_ps(std::string_view body) {
  const auto doc = parse_object(body);
  if (!doc) return std::nullopt;
  const auto* models = doc->get_object().if_contains("models");
  if (!models || !models->is_array()) return std::nullopt;
  LoadedModels out;
  out.complete = true;
  for (const auto& entry : models->get_array()) {
    if (!entry.is_object()) continue;
    add_name(out.loaded, entry.get_object().if_contains("name"));
    add_name(out.loaded, entry.get_object().if_contains("model"));
  }
  return out;
}

// {"models":{"<alias>":{"alias":"<alias>","status":"ready",...}},...}: a Switchyard's local models.
std::optional<LoadedModels> parse_switchyard_status(std::string_view body) {
  const auto doc = parse_object(body);
  if (!doc) return std::nullopt;
  const auto* models = doc->get_object().if_contains("models");
  if (!models || !models->is_object()) return std::nullopt;
  LoadedModels out;
  for (const auto& [alias, entry] : models->get_object()) {
    if (alias.empty() || !entry.is_object()) continue;
    const auto* status = entry.get_object().if_contains("status");
    if (!status || !status->is_string()) continue;
    (status->get_string() == "ready" ? out.loaded : out.unloaded).emplace_back(alias);
  }
  return out;
}

Task<> run_health_checks(UpstreamRuntime& upstream) {
  const auto& config = upstream.config.health;
  UpstreamConfig dial = upstream.config;  // connects within the check's timeout, not the request one
  dial.timeouts.connect = std::min(dial.timeouts.connect, config.timeout);
  const auto request = get_request(upstream.config, health_check_target(upstream.config));
  const auto loaded_target = loaded_models_target(upstream.config);
  const auto loaded_request = loaded_target.empty() ? std::string() : get_request(upstream.config, loaded_target);
  const auto parse_loaded = upstream.config.kind == UpstreamKind::ollama ? parse_ollama_ps : parse_switchyard_status;
  std::unique_ptr<UpstreamConnection> connection;
  std::string body;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  unsigned successes = 0;
  unsigned failures = 0;
  for (;;) {
    const int status = co_await get_once(upstream, dial, connection, request, nullptr);
    const bool ok = status >= 200 && status < 300;
    successes = ok ? successes + 1 : 0;
    failures = ok ? 0 : failures + 1;
    const bool healthy = upstream.healthy.load(std::memory_order_relaxed);
    if (healthy && failures >= config.unhealthy_after) {
      upstream.healthy.store(false, std::memory_order_relaxed);
      spdlog::warn("upstream {} is down: {} health check(s) of {} failed", upstream.config.name, failures,
                   health_check_target(upstream.config));
    } else if (!healthy && successes >= config.healthy_after) {
      upstream.healthy.store(true, std::memory_order_relaxed);
      spdlog::info("upstream {} is up again", upstream.config.name);
    }
    // An upstream that is down keeps what it last said: it takes no requests meanwhile anyway.
    if (ok && !loaded_request.empty()) {
      const int loaded_status = co_await get_once(upstream, dial, connection, loaded_request, &body);
      const auto loaded = loaded_status >= 200 && loaded_status < 300 ? parse_loaded(body) : std::nullopt;
      if (!loaded && upstream.has_loaded_info.load(std::memory_order_relaxed))
        spdlog::info("upstream {}: {} gave no list of loaded models ({})", upstream.config.name, loaded_target,
                     loaded_status);
      upstream.set_loaded_models(loaded ? &*loaded : nullptr);
    }
    timer.expires_after(config.interval);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
  }
}

}  // namespace switchyard

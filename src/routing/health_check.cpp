#include "routing/health_check.hpp"

#include <spdlog/spdlog.h>

#include "upstream/upstream_request.hpp"
#include "upstream/upstream_connection.hpp"

namespace switchyard {
namespace {

using ResponseParser = http::response_parser<http::empty_body>;

std::string check_request(const UpstreamConfig& upstream) {
  std::string request = "GET " + health_check_target(upstream) + " HTTP/1.1\r\nHost: " + upstream.host;
  if ((upstream.tls && upstream.port != 443) || (!upstream.tls && upstream.port != 80))
    request += ":" + std::to_string(upstream.port);
  request += "\r\nUser-Agent: switchyard-health-check\r\nAccept: application/json\r\n";
  append_upstream_auth(request, upstream, upstream.api_keys.empty() ? std::string_view{} : upstream.api_keys.front().key);
  return request + "\r\n";
}

// One check on `connection` (connected first when needed). True for a complete 2xx answer.
Task<bool> check_once(UpstreamRuntime& upstream, const UpstreamConfig& dial, std::unique_ptr<UpstreamConnection>& connection,
                      const std::string& request) {
  const auto timeout = upstream.config.health.timeout;
  if (!connection) {
    connection = std::make_unique<UpstreamConnection>(co_await asio::this_coro::executor, upstream.tls_context.get());
    const auto ec = co_await connection->connect(dial);
    if (ec) co_return false;
  }
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(request), asio::const_buffer()};
  auto [write_ec, written] = co_await connection->write(buffers, timeout);
  if (write_ec) co_return false;
  ResponseParser parser;
  parser.body_limit(boost::none);
  if (const auto ec = co_await connection->read_header(parser, timeout); ec) co_return false;
  auto decoder = BodyDecoder::for_head(parser);
  std::size_t body_bytes = 0;
  while (!decoder.done()) {
    auto [ec, piece] = co_await connection->read_body(decoder, timeout);
    if (ec) co_return false;
    body_bytes += piece.size();
    if (body_bytes > 4 * 1024 * 1024) co_return false;  // not a health answer
  }
  const auto status = parser.get().result_int();
  if (!decoder.reusable() || !parser.keep_alive()) {
    connection->close();
    connection.reset();
  }
  co_return status >= 200 && status < 300;
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

Task<> run_health_checks(UpstreamRuntime& upstream) {
  const auto& config = upstream.config.health;
  UpstreamConfig dial = upstream.config;  // connects within the check's timeout, not the request one
  dial.timeouts.connect = std::min(dial.timeouts.connect, config.timeout);
  const auto request = check_request(upstream.config);
  std::unique_ptr<UpstreamConnection> connection;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  unsigned successes = 0;
  unsigned failures = 0;
  for (;;) {
    const bool ok = co_await check_once(upstream, dial, connection, request);
    if (!ok && connection) {
      connection->close();
      connection.reset();
    }
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
    timer.expires_after(config.interval);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
  }
}

}  // namespace switchyard

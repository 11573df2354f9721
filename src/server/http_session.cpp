#include "server/http_session.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "app/worker.hpp"
#include "server/admin_routes.hpp"
#include "server/count_tokens.hpp"
#include "server/local_routes.hpp"
#include "server/ollama_routes.hpp"
#include "server/proxy.hpp"
#include "server/stats_routes.hpp"
#include "server/response_head.hpp"

namespace switchyard {

namespace {

std::string too_large_message(std::size_t limit) {
  return "Request body is larger than the limit of " + std::to_string(limit) + " bytes.";
}

void add_attempts_header(ResponseHead& head, const RequestContext& context) {
  if (context.attempts == 0) return;
  char digits[12];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, context.attempts);
  head.header("X-Switchyard-Attempts", std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

}  // namespace

void start_http_session(Worker& worker, tcp::socket socket) {
  auto session = std::make_unique<HttpSession>(worker, std::move(socket));
  // The session object is a coroutine parameter, so it lives exactly as long as the coroutine.
  asio::co_spawn(
      worker.io(),
      [](std::unique_ptr<HttpSession> owned) -> Task<> {
        try {
          co_await owned->run();
        } catch (const std::exception& e) {
          spdlog::error("session ended by an unexpected exception: {}", e.what());
        }
      }(std::move(session)),
      asio::detached);
}

HttpSession::HttpSession(Worker& worker, tcp::socket socket)
    : worker_(worker), socket_(std::move(socket)), deadline_(socket_.get_executor(), socket_) {
  worker_.session_opened();
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
}

HttpSession::~HttpSession() {
  worker_.mark_busy(&socket_);
  worker_.session_closed();
}

Task<> HttpSession::run() {
  const auto& server = worker_.state().config().server;
  bool first_request = true;
  for (;;) {
    if (worker_.state().draining()) break;
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(server.max_body_bytes);
    deadline_.expires_after(first_request ? server.header_timeout : server.idle_timeout);
    worker_.mark_idle(&socket_);
    auto [read_ec, header_bytes] = co_await http::async_read_header(socket_, buffer_, parser, use_nothrow);
    const auto header_ec = timeout_aware(read_ec, deadline_);
    worker_.mark_busy(&socket_);
    first_request = false;

    RequestContext context;
    context.received = std::chrono::steady_clock::now();
    if (header_ec) {
      if (header_ec == http::error::body_limit) {
        context.request_id = worker_.request_ids().next();
        context.keep_alive = false;
        const ApiError error{ErrorKind::payload_too_large, too_large_message(server.max_body_bytes), {}};
        co_await respond_error(context, error);
        co_await lingering_close();
        co_return;
      }
      const bool quiet = header_ec == http::error::end_of_stream || header_ec == beast::error::timeout ||
                         header_ec == asio::error::operation_aborted || header_ec == asio::error::connection_reset ||
                         header_ec == asio::error::eof;
      if (!quiet && header_bytes > 0) {
        context.request_id = worker_.request_ids().next();
        context.keep_alive = false;
        const ApiError error{ErrorKind::invalid_request, "Malformed HTTP request: " + header_ec.message(), {}};
        co_await respond_error(context, error);
      }
      break;
    }

    auto& header = parser.get();
    if (const auto id = header["X-Request-Id"]; acceptable_request_id(id)) {
      context.request_id.assign(id);
    } else {
      context.request_id = worker_.request_ids().next();
    }

    if (!parser.is_done()) {
      if (header[http::field::expect] == "100-continue") {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(kContinue), use_nothrow);
        if (ec) break;
      }
      deadline_.expires_after(server.body_timeout);
      auto [read_body_ec, body_bytes] = co_await http::async_read(socket_, buffer_, parser, use_nothrow);
      const auto body_ec = timeout_aware(read_body_ec, deadline_);
      if (body_ec) {
        context.keep_alive = false;
        if (body_ec == http::error::body_limit) {
          const ApiError error{ErrorKind::payload_too_large, too_large_message(server.max_body_bytes), {}};
          co_await respond_error(context, error);
          co_await lingering_close();
          co_return;
        }
        if (body_ec == beast::error::timeout) {
          const ApiError error{ErrorKind::request_timeout, "Timed out reading the request body.", {}};
          co_await respond_error(context, error);
        }
        break;
      }
    }
    deadline_.expires_never();

    Request request = parser.release();
    context.keep_alive = request.keep_alive() && !worker_.state().draining();
    co_await dispatch(request, context);
    if (!context.keep_alive || worker_.state().draining()) break;
  }
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  socket_.close(ignored);
}

Task<> HttpSession::dispatch(Request& request, RequestContext& context) {
  std::string_view target = request.target();
  if (const auto query = target.find('?'); query != std::string_view::npos) target = target.substr(0, query);
  const auto method = request.method();

  // The inference APIs of all three protocols, each served by upstreams of any kind.
  struct ProxyRoute {
    std::string_view path;
    ClientApi api;
  };
  static constexpr ProxyRoute kProxyRoutes[] = {
      {"/v1/chat/completions", ClientApi::openai_chat},
      {"/v1/completions", ClientApi::openai_completions},
      {"/v1/embeddings", ClientApi::openai_embeddings},
      {"/v1/messages", ClientApi::anthropic_messages},
      {"/anthropic/v1/messages", ClientApi::anthropic_messages},
      {"/api/chat", ClientApi::ollama_chat},
      {"/api/generate", ClientApi::ollama_generate},
      {"/api/embed", ClientApi::ollama_embed},
      {"/api/embeddings", ClientApi::ollama_embeddings},
  };
  for (const auto& route : kProxyRoutes) {
    if (target != route.path) continue;
    context.protocol = client_protocol(route.api);
    if (method != http::verb::post) co_return co_await respond_method_not_allowed(context, target, "POST");
    co_await proxy_request(*this, request, context, route.api);
    co_return;
  }
  if (target == "/v1/messages/count_tokens" || target == "/anthropic/v1/messages/count_tokens") {
    context.protocol = ClientProtocol::anthropic;
    if (method != http::verb::post) co_return co_await respond_method_not_allowed(context, target, "POST");
    co_return co_await serve_count_tokens(*this, request, context);
  }
  if (target == "/api/tags" || target == "/api/ps" || target == "/api/version" || target == "/api/show") {
    context.protocol = ClientProtocol::ollama;
    const bool post = target == "/api/show";
    if (method != (post ? http::verb::post : http::verb::get)) co_return co_await respond_method_not_allowed(context, target, post ? "POST" : "GET");
    co_return co_await serve_ollama_info(*this, request, context, target);
  }

  if (is_local_route(target)) {
    const bool post = target == "/v1/models/eject" || target.ends_with("/load") || target.ends_with("/reset");
    if (method != (post ? http::verb::post : http::verb::get))
      co_return co_await respond_method_not_allowed(context, target, post ? "POST" : "GET");
    co_return co_await serve_local_route(*this, request, context, target);
  }
  const bool read_only = method == http::verb::get;
  if (target == "/health" || target == "/metrics" || target == "/stats" || target == "/v1/queue/stats" ||
      target == "/v1/models" || target.starts_with("/v1/models/")) {
    if (!read_only) co_return co_await respond_method_not_allowed(context, target, "GET");
    if (target == "/health") co_return co_await serve_health(*this, context);
    if (target == "/metrics") co_return co_await serve_metrics(*this, context);
    if (target == "/stats") co_return co_await serve_stats(*this, context);
    if (target == "/v1/queue/stats") co_return co_await serve_queue_stats(*this, context);
    // The OpenAI and Anthropic SDKs share this path; Anthropic's send anthropic-version or x-api-key.
    if (request.count("anthropic-version") != 0 || request.count("x-api-key") != 0)
      context.protocol = ClientProtocol::anthropic;
    if (target == "/v1/models") co_return co_await serve_model_list(*this, context);
    co_return co_await serve_model(*this, context, target.substr(std::string_view("/v1/models/").size()));
  }
  const ApiError error{ErrorKind::not_found, "Unknown path: " + std::string(target), {}};
  co_await respond_error(context, error);
}

Task<> HttpSession::respond_method_not_allowed(const RequestContext& context, std::string_view target,
                                               std::string_view allowed) {
  const ApiError error{ErrorKind::method_not_allowed, "Use " + std::string(allowed) + " for " + std::string(target), {}};
  const auto body = error_body(context.protocol, error);
  const auto header = "Allow: " + std::string(allowed) + "\r\n";
  co_await respond(context, 405, "application/json", body, header);
}

template <typename Buffers>
Task<bool> HttpSession::write_with_timeout(const Buffers& buffers) {
  // A client that stops reading must not hold its upstream connection (or this worker) forever.
  deadline_.expires_after(worker_.state().config().server.idle_timeout);
  auto [ec, n] = co_await asio::async_write(socket_, buffers, use_nothrow);
  deadline_.expires_never();
  co_return !ec;
}

Task<bool> HttpSession::respond(const RequestContext& context, int status, std::string_view content_type,
                                std::string_view body, std::string_view extra_headers) {
  ResponseHead head(head_, status);
  head.header("Content-Type", content_type)
      .content_length(body.size())
      .header("X-Request-Id", context.request_id)
      .header("X-Routed-Node", context.routed_node);
  add_attempts_header(head, context);
  head_.append(extra_headers);
  head.finish(context.keep_alive);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body)};
  co_return co_await write_with_timeout(buffers);
}

Task<bool> HttpSession::respond_error(const RequestContext& context, const ApiError& error) {
  const auto body = error_body(context.protocol, error);
  co_return co_await respond(context, http_status(error.kind), "application/json", body);
}

void HttpSession::begin_chunked(const RequestContext& context, int status, std::string_view content_type) {
  ResponseHead head(head_, status);
  head.header("Content-Type", content_type)
      .header("Cache-Control", "no-cache")
      .header("X-Accel-Buffering", "no")
      .header("Transfer-Encoding", "chunked")
      .header("X-Request-Id", context.request_id)
      .header("X-Routed-Node", context.routed_node);
  add_attempts_header(head, context);
  head.finish(context.keep_alive);
  chunked_head_pending_ = true;
}

Task<bool> HttpSession::write_chunk(std::string_view data, bool last) {
  static constexpr std::string_view kCrLf = "\r\n";
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  if (data.empty() && !last) co_return true;  // an empty chunk would end the body
  char size_line[20];
  const auto size_length = data.empty() ? 0 : chunk_size_line(size_line, data.size());
  const std::array<asio::const_buffer, 5> buffers{
      chunked_head_pending_ ? asio::buffer(head_) : asio::const_buffer(),
      asio::buffer(size_line, size_length),
      asio::buffer(data),
      data.empty() ? asio::const_buffer() : asio::buffer(kCrLf),
      last ? asio::buffer(kLastChunk) : asio::const_buffer(),
  };
  chunked_head_pending_ = false;
  co_return co_await write_with_timeout(buffers);
}

Task<> HttpSession::lingering_close() {
  // Reading what the client still sends for a while lets it see our answer instead of a reset.
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  deadline_.expires_after(std::chrono::seconds(2));
  std::array<char, 16384> sink;
  for (int reads = 0; reads < 1024; ++reads) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(sink), use_nothrow);
    if (ec) break;
  }
  socket_.close(ignored);
}

}  // namespace switchyard

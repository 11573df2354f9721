#include "server/openai_proxy.hpp"

#include <spdlog/spdlog.h>

#include "app/worker.hpp"
#include "protocol/sse_parser.hpp"
#include "protocol/upstream_json_scan.hpp"
#include "server/upstream_request.hpp"
#include "upstream/upstream_connection.hpp"

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;
using ResponseParser = http::response_parser<http::empty_body>;

std::string_view endpoint_path(OpenAiEndpoint endpoint) {
  switch (endpoint) {
    case OpenAiEndpoint::chat_completions: return "/chat/completions";
    case OpenAiEndpoint::completions: return "/completions";
    case OpenAiEndpoint::embeddings: return "/embeddings";
  }
  return "/chat/completions";
}

ErrorKind classify_transport_error(const error_code& ec) {
  if (ec == beast::error::timeout) return ErrorKind::upstream_timeout;
  if (ec == asio::error::connection_refused || ec == asio::error::host_not_found ||
      ec == asio::error::host_not_found_try_again || ec == asio::error::network_unreachable ||
      ec == asio::error::host_unreachable || ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category())
    return ErrorKind::upstream_unreachable;
  if (ec.category() == make_error_code(http::error::bad_version).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message)
    return ErrorKind::upstream_bad_response;
  return ErrorKind::upstream_reset;
}

std::string describe_failure(ErrorKind kind, const UpstreamConfig& upstream, const error_code& ec) {
  switch (kind) {
    case ErrorKind::upstream_timeout: return "Upstream '" + upstream.name + "' timed out.";
    case ErrorKind::upstream_unreachable:
      return "Upstream '" + upstream.name + "' is unreachable: " + ec.message() + ".";
    case ErrorKind::upstream_bad_response:
      return "Upstream '" + upstream.name + "' sent an invalid HTTP response: " + ec.message() + ".";
    default: return "Upstream '" + upstream.name + "' closed the connection: " + ec.message() + ".";
  }
}

// Stale keep-alive connections fail this way when the upstream closed them while idle.
bool stale_connection_error(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == http::error::partial_message;
}

// Everything about one proxied request; lives in proxy_openai's coroutine frame.
struct Exchange {
  HttpSession& session;
  Worker& worker;
  RequestContext& context;
  const Route& route;
  const Deployment& deployment;
  OpenAiEndpoint endpoint;
  bool client_wants_usage = false;
  std::string upstream_body;
  std::string upstream_head;
  std::unique_ptr<UpstreamConnection> connection;
  int status = 0;              // what the client got; 0 until something was sent
  bool client_gone = false;
  std::int64_t prompt_tokens = -1;
  std::int64_t completion_tokens = -1;
  bool first_token_seen = false;

  const UpstreamConfig& upstream() const { return deployment.upstream->config; }
};

void note_usage(Exchange& x, const JsonScan& scan) {
  if (scan.prompt_tokens >= 0) x.prompt_tokens = scan.prompt_tokens;
  if (scan.completion_tokens >= 0) x.completion_tokens = scan.completion_tokens;
}

void upstream_failed(Exchange& x, std::string_view kind) {
  x.deployment.upstream->record_failure();
  x.worker.metrics().upstream_error(x.deployment.name, kind);
}

// Answers with an error when nothing has been sent yet.
// A client that already left gets nothing, and its leaving is no upstream failure.
Task<> fail_before_response(Exchange& x, ErrorKind kind, const error_code& ec) {
  if (x.client_gone) co_return;
  upstream_failed(x, error_kind_name(kind));
  const ApiError error{kind, describe_failure(kind, x.upstream(), ec), {}};
  x.status = http_status(kind);
  const bool sent = co_await x.session.respond_error(x.context, error);
  if (!sent) x.client_gone = true;
}

// Connects (or reuses a pooled connection), sends the request and reads the response head.
// A pooled connection that turns out to be closed is replaced once by a fresh one.
Task<bool> send_and_read_head(Exchange& x, std::optional<ResponseParser>& parser) {
  auto& pool = x.worker.pool();
  for (int attempt = 0; attempt < 2; ++attempt) {
    x.connection = pool.take(x.upstream());
    if (!x.connection) {
      x.connection = pool.create(x.deployment.upstream->tls_context.get());
      x.session.client_watch().set_upstream(x.connection.get());
      const auto ec = co_await x.connection->connect(x.upstream());
      if (ec) {
        if (ec == asio::error::operation_aborted) x.client_gone = true;
        co_await fail_before_response(x, ec == beast::error::timeout ? ErrorKind::upstream_timeout
                                                                     : ErrorKind::upstream_unreachable, ec);
        co_return false;
      }
    }
    x.session.client_watch().set_upstream(x.connection.get());
    if (x.session.client_watch().client_gone()) {  // it left while nothing upstream could be cancelled
      x.client_gone = true;
      co_return false;
    }
    const bool reused = x.connection->reused;
    const std::array<asio::const_buffer, 2> request{asio::buffer(x.upstream_head), asio::buffer(x.upstream_body)};
    auto [write_ec, written] = co_await x.connection->write(request, x.upstream().timeouts.first_byte);
    error_code ec = write_ec;
    if (!ec) {
      parser.emplace();
      parser->body_limit(boost::none);  // streams are unbounded; whole bodies are capped while reading
      ec = co_await x.connection->read_header(*parser, x.upstream().timeouts.first_byte);
    }
    if (!ec) co_return true;
    if (ec == asio::error::operation_aborted) {
      x.client_gone = true;
      co_await fail_before_response(x, ErrorKind::upstream_reset, ec);
      co_return false;
    }
    x.connection->close();
    if (reused && stale_connection_error(ec)) continue;
    co_await fail_before_response(x, classify_transport_error(ec), ec);
    co_return false;
  }
  co_return false;
}

void finish_connection(Exchange& x, const ResponseParser& parser, const BodyDecoder& body) {
  x.session.client_watch().set_upstream(nullptr);
  if (!x.connection) return;
  if (body.reusable() && parser.keep_alive()) {
    x.worker.pool().give_back(x.upstream(), std::move(x.connection));
  } else {
    x.connection->close();
    x.connection.reset();
  }
}

// Reads a whole (non-streamed) body into `out`, within the response size limit.
Task<error_code> read_whole_body(Exchange& x, BodyDecoder& decoder, std::string& out) {
  while (!decoder.done()) {
    auto [ec, piece] = co_await x.connection->read_body(decoder, x.upstream().timeouts.chunk_gap);
    if (ec) co_return ec;
    out.append(piece);
    if (out.size() > x.upstream().max_response_bytes) co_return http::error::body_limit;
  }
  co_return error_code{};
}

std::string passthrough_headers(const ResponseParser& parser) {
  std::string headers;
  for (const auto* name : {"retry-after", "retry-after-ms", "x-should-retry"}) {
    const auto value = parser.get()[name];
    if (!value.empty()) headers.append(name).append(": ").append(value).append("\r\n");
  }
  return headers;
}

// Relays a complete answer; a 2xx JSON body gets the alias back as its model.
Task<> relay_whole(Exchange& x, ResponseParser& parser) {
  auto decoder = BodyDecoder::for_head(parser);
  std::string body;
  if (const auto length = parser.content_length(); length && *length <= x.upstream().max_response_bytes)
    body.reserve(static_cast<std::size_t>(*length));
  const auto ec = co_await read_whole_body(x, decoder, body);
  if (ec) {
    if (ec == asio::error::operation_aborted) x.client_gone = true;
    const auto kind = ec == http::error::body_limit ? ErrorKind::upstream_bad_response : classify_transport_error(ec);
    co_await fail_before_response(x, kind, ec);
    co_return;
  }
  const int status = static_cast<int>(parser.get().result_int());
  std::string content_type(parser.get()[http::field::content_type]);
  if (content_type.empty()) content_type = "application/json";
  std::string relayed;
  if (status >= 200 && status < 300) {
    const auto scan = scan_upstream_json(body);
    if (scan.valid && scan.is_object) {
      note_usage(x, scan);
      rewrite_model_field(body, scan, x.route.alias, relayed, x.route.alias_json);
    } else {
      relayed = std::move(body);
    }
    x.deployment.upstream->record_success();
  } else {
    // The upstream's own error reaches the client as it was, status and body.
    relayed = std::move(body);
    if (status >= 500) {
      upstream_failed(x, "http_5xx");
    } else {
      x.worker.metrics().upstream_error(x.deployment.name, status == 429 ? "http_429" : "http_4xx");
    }
  }
  x.status = status;
  finish_connection(x, parser, decoder);
  const auto extra_headers = passthrough_headers(parser);
  const bool sent = co_await x.session.respond(x.context, status, content_type, relayed, extra_headers);
  if (!sent) x.client_gone = true;
}

// Appends `payload` as one SSE event's data lines.
void append_data_event(std::string& out, std::string_view event_name, std::string_view payload) {
  if (!event_name.empty()) out.append("event: ").append(event_name).append("\n");
  std::size_t start = 0;
  for (;;) {
    const auto newline = payload.find('\n', start);
    out.append("data: ").append(payload.substr(start, newline - start)).append("\n");
    if (newline == std::string_view::npos) break;
    start = newline + 1;
  }
  out.append("\n");
}

// Rewrites one upstream event for the client: alias as model, usage-only chunk kept only when asked for.
void relay_event(Exchange& x, const SseEvent& event, std::string& out) {
  for (const auto& comment : event.comments) out.append(":").append(comment).append("\n\n");
  if (!event.has_data) return;
  const std::string_view data = event.data;
  const auto scan = data == "[DONE]" ? JsonScan{} : scan_upstream_json(data);
  if (!scan.valid) {
    append_data_event(out, event.event, data);
    return;
  }
  note_usage(x, scan);
  if (scan.has_error) upstream_failed(x, "stream_error");
  if (scan.choices_count == 0 && scan.usage_type == JsonType::object && !x.client_wants_usage) return;
  if (scan.choices_count > 0 && !x.first_token_seen) {
    x.first_token_seen = true;
    x.worker.metrics().time_to_first_token(
        x.route.alias, std::chrono::duration<double>(Clock::now() - x.context.received).count());
  }
  if (data.find('\n') == std::string_view::npos) {
    // The common case, one data line: rewritten straight into the output.
    if (!event.event.empty()) out.append("event: ").append(event.event).append("\n");
    out.append("data: ");
    rewrite_model_field(data, scan, x.route.alias, out, x.route.alias_json);
    out.append("\n\n");
    return;
  }
  std::string rewritten;
  rewrite_model_field(data, scan, x.route.alias, rewritten, x.route.alias_json);
  append_data_event(out, event.event, rewritten);
}

// Relays an event stream as it arrives: each read's complete events go out as one chunk.
Task<> relay_stream(Exchange& x, ResponseParser& parser) {
  const int status = static_cast<int>(parser.get().result_int());
  x.session.begin_chunked(x.context, status, "text/event-stream");
  auto decoder = BodyDecoder::for_head(parser);
  SseParser sse;
  std::string out;
  out.reserve(16384);  // what one read can carry, give or take the framing
  error_code failure;
  while (!decoder.done()) {
    auto [ec, piece] = co_await x.connection->read_body(decoder, x.upstream().timeouts.chunk_gap);
    out.clear();
    sse.feed(piece, [&](const SseEvent& event) { relay_event(x, event, out); });
    if (!ec && decoder.done()) {
      // All in: the upstream connection goes back to the pool, and the end of the body leaves with
      // the last events in one write.
      x.deployment.upstream->record_success();
      x.status = status;
      finish_connection(x, parser, decoder);
      const bool sent = co_await x.session.write_chunk(out, true);
      if (!sent) x.client_gone = true;
      co_return;
    }
    if (!out.empty()) {
      const bool sent = co_await x.session.write_chunk(out);
      if (!sent) {
        x.client_gone = true;
        break;
      }
      x.status = status;
    }
    if (ec) {
      failure = ec;
      break;
    }
  }
  if (x.client_gone || failure == asio::error::operation_aborted) {
    x.client_gone = true;
    x.status = x.status ? x.status : 499;
    x.session.client_watch().set_upstream(nullptr);
    x.connection->close();
    x.connection.reset();
    co_return;
  }
  if (failure) {
    const auto kind = classify_transport_error(failure);
    if (x.status == 0) {
      // Nothing reached the client yet, so it can still get a plain error response.
      x.session.client_watch().set_upstream(nullptr);
      x.connection->close();
      x.connection.reset();
      co_await fail_before_response(x, kind, failure);
      co_return;
    }
    upstream_failed(x, error_kind_name(kind));
    const ApiError error{kind,
                         kind == ErrorKind::upstream_timeout
                             ? "Upstream '" + x.upstream().name + "' stopped sending in the middle of the stream."
                             : "Upstream '" + x.upstream().name + "' ended the stream early: " + failure.message() + ".",
                         {}};
    std::string event;
    append_data_event(event, {}, openai_error_body(error));
    x.session.client_watch().set_upstream(nullptr);
    x.connection->close();
    x.connection.reset();
    // The stream ends with the error event and a proper end of the chunked body: the client never hangs.
    const bool sent = co_await x.session.write_chunk(event, true);
    if (!sent) x.client_gone = true;
    co_return;
  }
  // Only an empty body (Content-Length: 0) gets here: the loop above never ran.
  x.deployment.upstream->record_success();
  x.status = status;
  finish_connection(x, parser, decoder);
  const bool sent = co_await x.session.end_chunked();
  if (!sent) x.client_gone = true;
}

Task<> run_exchange(Exchange& x) {
  std::optional<ResponseParser> parser;
  const bool have_head = co_await send_and_read_head(x, parser);
  if (!have_head) co_return;
  const auto& head = parser->get();
  const bool event_stream = head[http::field::content_type].starts_with("text/event-stream");
  const int status = static_cast<int>(head.result_int());
  if (event_stream && status >= 200 && status < 300) {
    co_await relay_stream(x, *parser);
  } else {
    co_await relay_whole(x, *parser);
  }
}

// Keeps the in-flight gauges and the final metrics right on every path out.
class InFlight {
 public:
  InFlight(Exchange& x) : x_(x) {
    x_.worker.metrics().in_flight_changed(1);
    x_.deployment.upstream->in_flight.fetch_add(1, std::memory_order_relaxed);
    x_.deployment.upstream->requests.fetch_add(1, std::memory_order_relaxed);
  }
  ~InFlight() {
    x_.worker.metrics().in_flight_changed(-1);
    x_.deployment.upstream->in_flight.fetch_sub(1, std::memory_order_relaxed);
    const auto seconds = std::chrono::duration<double>(Clock::now() - x_.context.received).count();
    x_.worker.metrics().request_finished(x_.route.alias, x_.deployment.name, x_.client_gone && x_.status == 0 ? 499 : x_.status,
                                         seconds);
    x_.worker.metrics().tokens(x_.route.alias, x_.prompt_tokens, x_.completion_tokens);
  }

 private:
  Exchange& x_;
};

std::string unknown_model_message(const std::string& model, const RouteTable& routes) {
  std::string message = "The model `" + model + "` does not exist. Available models: ";
  const auto& aliases = routes.aliases();
  for (std::size_t i = 0; i < aliases.size(); ++i) message.append(i ? ", " : "").append(aliases[i]);
  return message + ".";
}

}  // namespace

Task<> proxy_openai(HttpSession& session, Request& request, RequestContext& context, OpenAiEndpoint endpoint) {
  auto& worker = session.worker();
  const auto scan = scan_json(request.body());
  ApiError error;
  if (!validate_openai_request(endpoint, scan, error)) {
    worker.metrics().request_finished({}, {}, http_status(error.kind), 0);
    co_await session.respond_error(context, error);
    co_return;
  }
  const Route* route = worker.state().routes().find(scan.model);
  if (!route) {
    worker.metrics().request_finished({}, {}, 404, 0);
    const ApiError unknown{ErrorKind::model_not_found, unknown_model_message(scan.model, worker.state().routes()),
                           "model"};
    co_await session.respond_error(context, unknown);
    co_return;
  }
  const Deployment& deployment = worker.round_robin().pick(*route);
  context.routed_node = deployment.name;

  Exchange x{session, worker, context, *route, deployment, endpoint};
  x.client_wants_usage = client_wants_stream_usage(scan);
  rewrite_request_body(request.body(), scan, deployment.config->model, x.upstream_body, deployment.model_json);
  build_upstream_request_head(x.upstream_head, x.upstream(), endpoint_path(endpoint), x.upstream_body.size(),
                              context.request_id, request.base());

  InFlight in_flight(x);
  // A client that hangs up meanwhile aborts the upstream call (its pending reads and writes).
  session.client_watch().start();
  co_await run_exchange(x);
  co_await session.client_watch().stop();
  if (session.client_watch().client_gone()) x.client_gone = true;
  if (x.connection) {
    x.session.client_watch().set_upstream(nullptr);
    x.connection->close();
  }
  if (x.client_gone) context.keep_alive = false;
}

}  // namespace switchyard

#include "server/proxy.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <span>

#include "app/worker.hpp"
#include "protocol/sse_parser.hpp"
#include "protocol/upstream_json_scan.hpp"
#include "local/local_model.hpp"
#include "server/stream_bridge.hpp"
#include "upstream/image_fetcher.hpp"
#include "upstream/upstream_connection.hpp"
#include "upstream/upstream_request.hpp"

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;
using ResponseParser = http::response_parser<http::empty_body>;

constexpr std::size_t kMaxAttempts = 11;  // retries.max is at most 10

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

// A failed attempt's answer, kept while another deployment is tried: what the client gets if no
// later attempt does better.
struct HeldResponse {
  int status = 0;  // 0: nothing held
  std::string content_type;
  std::string body;
  std::string extra_headers;
};

// Everything about one proxied request; lives in proxy_request's coroutine frame. The fields under
// "this attempt" start over for each deployment tried.
struct Exchange {
  Exchange(HttpSession& session, Worker& worker, RequestContext& context, const Route& route, ClientApi api)
      : session(session), worker(worker), context(context), route(route), api(api) {}

  HttpSession& session;
  Worker& worker;
  RequestContext& context;
  const Route& route;
  ClientApi api;
  std::string_view client_body;  // as the client sent it
  std::string_view hub_body;     // the hub (OpenAI) request: the client's own, or translated to it
  std::optional<boost::json::object> hub_object;  // hub_body parsed, once an upstream needs translating to
  bool client_wants_usage = false;
  bool base64_embeddings = false;  // an OpenAI client asked for encoding_format base64
  bool images_inlined = false;     // remote images in hub_object were fetched (for Ollama upstreams)
  int status = 0;              // what the client got; 0 until something was sent
  bool client_gone = false;
  std::int64_t prompt_tokens = -1;
  std::int64_t completion_tokens = -1;
  bool first_token_seen = false;
  HeldResponse held;

  // This attempt.
  const Deployment* deployment = nullptr;
  int key = ApiKeyPool::kNoKey;  // the upstream credential it uses
  bool fast_path = false;        // OpenAI in and out: relayed with targeted edits, no translation
  std::string upstream_body;
  std::string upstream_head;
  std::unique_ptr<UpstreamConnection> connection;
  bool may_retry = false;        // another attempt is allowed, if the retry budget has one left
  bool retry_wanted = false;     // it failed that way
  bool retry_same = false;       // ...because of its key (429, 401, 403): the deployment's other keys may do
  bool outcome_recorded = false; // the deployment's circuit heard how it went
  Clock::time_point attempt_started;
  Clock::time_point first_byte_at;

  const UpstreamConfig& upstream() const { return deployment->upstream->config; }
};

void note_usage(Exchange& x, const JsonScan& scan) {
  if (scan.prompt_tokens >= 0) x.prompt_tokens = scan.prompt_tokens;
  if (scan.completion_tokens >= 0) x.completion_tokens = scan.completion_tokens;
}

void upstream_failed(Exchange& x, std::string_view kind) {
  x.deployment->upstream->record_failure();
  x.deployment->state->failed(Clock::now());
  x.outcome_recorded = true;
  x.worker.metrics().upstream_error(x.deployment->name, kind);
}

// The deployment answered (an answer, or a refusal such as 429 that shows it is alive).
void upstream_answered(Exchange& x) {
  const auto now = Clock::now();
  x.deployment->upstream->record_success();
  x.deployment->state->succeeded();
  const auto micros = [](Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); };
  x.deployment->state->record_latency(micros(x.first_byte_at - x.attempt_started), micros(now - x.attempt_started),
                                      now);
  x.outcome_recorded = true;
}

// Answers with an error when nothing has been sent yet.
// A client that already left gets nothing, and its leaving is no upstream failure.
// With another attempt allowed, the error is held back instead.
Task<> fail_before_response(Exchange& x, ErrorKind kind, const error_code& ec) {
  if (x.client_gone) co_return;
  upstream_failed(x, error_kind_name(kind));
  const ApiError error{kind, describe_failure(kind, x.upstream(), ec), {}};
  if (x.may_retry && x.route.retry_budget->try_spend()) {
    x.held = HeldResponse{http_status(kind), "application/json", error_body(x.context.protocol, error), {}};
    x.retry_wanted = true;
    co_return;
  }
  x.status = http_status(kind);
  const bool sent = co_await x.session.respond_error(x.context, error);
  if (!sent) x.client_gone = true;
}

// Connects (or reuses a pooled connection), sends the request and reads the response head.
// A pooled connection that turns out to be closed is replaced once by a fresh one.
Task<bool> send_and_read_head(Exchange& x, std::optional<ResponseParser>& parser) {
  auto& pool = x.worker.pool();
  for (int attempt = 0; attempt < 2; ++attempt) {
    // The second try always dials: the pool's other connections are likely as stale as the first.
    x.connection = attempt == 0 ? pool.take(x.upstream()) : nullptr;
    if (!x.connection) {
      x.connection = pool.create(x.deployment->upstream->tls_context.get());
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
    if (!ec) {
      x.first_byte_at = Clock::now();
      co_return true;
    }
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

// How long an upstream asked to be left alone (Retry-After in seconds, or retry-after-ms).
std::optional<std::chrono::milliseconds> retry_after(const ResponseParser& parser) {
  const auto parse = [](std::string_view text) -> std::optional<std::int64_t> {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
    return std::min<std::int64_t>(value, 3600 * 1000);
  };
  if (const auto ms = parse(parser.get()["retry-after-ms"])) return std::chrono::milliseconds(*ms);
  if (const auto s = parse(parser.get()["retry-after"])) return std::chrono::milliseconds(std::min<std::int64_t>(*s, 3600) * 1000);
  return std::nullopt;  // an HTTP date is not honoured: rare from APIs, and a clock skew risk
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
  auto extra_headers = passthrough_headers(parser);
  std::string relayed;
  if (status >= 200 && status < 300) {
    if (x.fast_path) {
      const auto scan = scan_upstream_json(body);
      if (scan.valid && scan.is_object) note_usage(x, scan);
      if (scan.valid && scan.is_object) {
        rewrite_model_field(body, scan, x.route.alias, relayed, x.route.alias_json);
      } else {
        relayed = std::move(body);
      }
    } else {
      AnswerIdentity identity{x.route.alias, x.context.request_id, x.base64_embeddings, {}};
      const auto now = Clock::now();
      identity.timings.total_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - x.context.received).count();
      identity.timings.prompt_eval_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(x.first_byte_at - x.attempt_started).count();
      UsageFacts usage;
      relayed = translate_answer(x.api, x.upstream().kind, body, identity, usage);
      if (usage.prompt_tokens >= 0) x.prompt_tokens = usage.prompt_tokens;
      if (usage.completion_tokens >= 0) x.completion_tokens = usage.completion_tokens;
      content_type = "application/json";
    }
    upstream_answered(x);
  } else {
    // The upstream's own error reaches the client with its status and message (unless another
    // deployment is tried and does better), in the client's protocol.
    if (!x.fast_path) {
      relayed = translate_error(x.api, x.upstream().kind, status, body);
      content_type = "application/json";
    } else {
      relayed = std::move(body);
    }
    const auto cool_down = retry_after(parser);
    // With several keys, the key (not the deployment) is what the upstream refused: it rests or is
    // disabled, and the deployment's other keys get the retry. A lone key's refusals pass on as they are.
    const bool rotated_keys = x.key != ApiKeyPool::kNoKey && x.deployment->upstream->config.api_keys.size() > 1;
    if (rotated_keys && (status == 429 || status == 401 || status == 403)) {
      auto& keys = x.deployment->upstream->keys;
      if (status == 429) {
        keys.cool_down(x.key, Clock::now() + cool_down.value_or(std::chrono::seconds(1)));
      } else {
        keys.disable(x.key, status);
        spdlog::warn("upstream {}: API key {} disabled after HTTP {}", x.upstream().name, x.key + 1, status);
      }
      x.retry_same = true;
    } else if (cool_down) {
      x.deployment->state->cool_down_until(Clock::now() + *cool_down);
    }
    if (status >= 500) {
      upstream_failed(x, "http_5xx");
    } else {
      x.worker.metrics().upstream_error(x.deployment->name, status == 429 ? "http_429" : "http_4xx");
      upstream_answered(x);
    }
    if (x.may_retry && (status >= 500 || status == 429 || x.retry_same) && x.route.retry_budget->try_spend()) {
      finish_connection(x, parser, decoder);
      x.held = HeldResponse{status, std::move(content_type), std::move(relayed), std::move(extra_headers)};
      x.retry_wanted = true;
      co_return;
    }
  }
  x.status = status;
  finish_connection(x, parser, decoder);
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
    x.first_byte_at = Clock::now();  // for a stream, the deployment's latency that matters
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
// What a translated stream taught the proxy so far: usage, first token, an upstream error event.
void note_stream_facts(Exchange& x, const StreamFacts& facts) {
  if (facts.usage.prompt_tokens >= 0) x.prompt_tokens = facts.usage.prompt_tokens;
  if (facts.usage.completion_tokens >= 0) x.completion_tokens = facts.usage.completion_tokens;
  if (facts.first_token && !x.first_token_seen) {
    x.first_token_seen = true;
    x.first_byte_at = Clock::now();
    x.worker.metrics().time_to_first_token(
        x.route.alias, std::chrono::duration<double>(Clock::now() - x.context.received).count());
  }
  if (facts.upstream_error && !x.outcome_recorded) upstream_failed(x, "stream_error");
}

Task<> relay_stream(Exchange& x, ResponseParser& parser) {
  const int status = static_cast<int>(parser.get().result_int());
  std::optional<StreamBridge> bridge;
  if (!x.fast_path)
    bridge.emplace(x.api, x.upstream().kind, x.route.alias, x.context.request_id, x.client_wants_usage, x.context.received);
  x.session.begin_chunked(x.context, status, bridge ? bridge->content_type() : std::string_view("text/event-stream"));
  auto decoder = BodyDecoder::for_head(parser);
  SseParser sse;
  std::string out;
  out.reserve(16384);  // what one read can carry, give or take the framing
  const auto on_event = [&](const SseEvent& event) { relay_event(x, event, out); };
  error_code failure;
  while (!decoder.done()) {
    auto [ec, piece] = co_await x.connection->read_body(decoder, x.upstream().timeouts.chunk_gap);
    out.clear();
    if (bridge) {
      bridge->feed(piece, out);
      note_stream_facts(x, bridge->facts());
    } else {
      sse.feed(piece, on_event);
    }
    if (!ec && decoder.done()) {
      // All in: the upstream connection goes back to the pool, and the end of the body leaves with
      // the last events in one write.
      if (bridge) {
        bridge->finish(out);
        note_stream_facts(x, bridge->facts());
      }
      if (!x.outcome_recorded) upstream_answered(x);
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
    if (bridge) {
      bridge->fail(error.message, event);
    } else {
      append_data_event(event, {}, openai_error_body(error));
    }
    x.session.client_watch().set_upstream(nullptr);
    x.connection->close();
    x.connection.reset();
    // The stream ends with the error event and a proper end of the chunked body: the client never hangs.
    const bool sent = co_await x.session.write_chunk(event, true);
    if (!sent) x.client_gone = true;
    co_return;
  }
  // Only an empty body (Content-Length: 0) gets here: the loop above never ran.
  upstream_answered(x);
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
  const auto content_type = head[http::field::content_type];
  const bool event_stream = content_type.starts_with("text/event-stream") ||
                            (x.upstream().kind == UpstreamKind::ollama && content_type.starts_with("application/x-ndjson"));
  const int status = static_cast<int>(head.result_int());
  if (event_stream && status >= 200 && status < 300) {
    co_await relay_stream(x, *parser);
  } else {
    co_await relay_whole(x, *parser);
  }
}

// Keeps the in-flight gauge and the request's final metrics right on every path out.
class RequestMetrics {
 public:
  explicit RequestMetrics(Exchange& x) : x_(x) { x_.worker.metrics().in_flight_changed(1); }
  ~RequestMetrics() {
    auto& metrics = x_.worker.metrics();
    metrics.in_flight_changed(-1);
    const auto seconds = std::chrono::duration<double>(Clock::now() - x_.context.received).count();
    const std::string_view deployment = x_.deployment ? std::string_view(x_.deployment->name) : std::string_view{};
    metrics.request_finished(x_.route.alias, deployment, x_.client_gone && x_.status == 0 ? 499 : x_.status, seconds);
    metrics.tokens(x_.route.alias, x_.prompt_tokens, x_.completion_tokens);
  }

 private:
  Exchange& x_;
};

// One attempt's claim on its deployment: counted in flight while it runs, and a half-open probe
// that ends without a verdict (the client left) is handed back for the next request.
// The router took the capacity slot; this gives it back and wakes the alias's queue.
class Attempt {
 public:
  explicit Attempt(Exchange& x) : x_(x) {
    x_.deployment->state->requests.fetch_add(1, std::memory_order_relaxed);
    x_.deployment->upstream->in_flight.fetch_add(1, std::memory_order_relaxed);
    x_.deployment->upstream->requests.fetch_add(1, std::memory_order_relaxed);
  }
  ~Attempt() {
    if (x_.deployment->local) x_.deployment->local->touch();  // idle time counts from the end
    x_.deployment->upstream->keys.release(x_.key);
    x_.key = ApiKeyPool::kNoKey;
    x_.deployment->state->release();
    x_.deployment->upstream->in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!x_.outcome_recorded) x_.deployment->state->abandoned();
    x_.route.queue->notify();
  }

 private:
  Exchange& x_;
};

void begin_attempt(Exchange& x, const Deployment& deployment) {
  x.deployment = &deployment;
  x.context.routed_node = deployment.name;
  x.retry_wanted = false;
  x.retry_same = false;
  x.outcome_recorded = false;
  x.attempt_started = Clock::now();
  x.first_byte_at = x.attempt_started;
  if (deployment.local) deployment.local->touch();
  const auto& upstream = deployment.upstream->config;
  x.fast_path = client_protocol(x.api) == ClientProtocol::openai && upstream.kind == UpstreamKind::openai &&
                upstream.drop_fields.empty() && upstream.rename_fields.empty();
}

// This attempt's failure before anything was sent upstream (no usable key, a request its upstream
// cannot take): the next deployment may do better, else the client gets `error`.
void attempt_refused(Exchange& x, const ApiError& error) {
  x.held = HeldResponse{http_status(error.kind), "application/json", error_body(x.context.protocol, error), {}};
  x.retry_wanted = true;
  x.outcome_recorded = true;  // says nothing about the deployment's health
}

// The upstream's body and head for this attempt, in its protocol. False when the attempt cannot go
// (held as the answer unless another deployment serves).
Task<bool> prepare_upstream_request(Exchange& x, const Request& request, const JsonScan& scan) {
  const auto& deployment = *x.deployment;
  const auto& upstream = x.upstream();
  auto& keys = deployment.upstream->keys;
  if (!keys.empty()) {
    x.key = keys.acquire(deployment.config->model, Clock::now());
    if (x.key == ApiKeyPool::kNoKey) {
      attempt_refused(x, ApiError{ErrorKind::no_deployment, keys.unavailable_reason(deployment.config->model, Clock::now()) + ".", {}});
      co_return false;
    }
  }
  if (x.fast_path) {
    rewrite_request_body(x.hub_body, scan, deployment.config->model, x.upstream_body, deployment.model_json);
  } else if (is_passthrough(x.api, upstream.kind)) {
    // Same protocol: only the model is renamed, unless an Ollama deployment adds its num_ctx.
    const bool with_num_ctx = upstream.kind == UpstreamKind::ollama &&
                              ollama_passthrough_needs_num_ctx(*deployment.config, x.client_body) &&
                              ollama_passthrough_body(*deployment.config, x.client_body, x.upstream_body);
    if (!with_num_ctx) {
      const auto client_scan = scan_json(x.client_body);
      rewrite_model_field(x.client_body, client_scan, deployment.config->model, x.upstream_body, deployment.model_json);
    }
  } else {
    if (!x.hub_object) {
      boost::system::error_code ec;
      auto parsed = boost::json::parse(x.hub_body, ec);
      x.hub_object.emplace(ec || !parsed.is_object() ? boost::json::object{} : std::move(parsed.get_object()));
    }
    if (upstream.kind == UpstreamKind::ollama && !x.images_inlined) {
      // Ollama takes image bytes only: images given by URL are fetched once, for every attempt.
      const auto& images = x.worker.state().config().images;
      const ImageFetchLimits limits{images.max_bytes, images.timeout, images.allow_private_addresses, 3};
      ApiError error;
      const bool fetched = co_await inline_remote_images(*x.hub_object, limits, x.worker.image_tls(), error);
      if (!fetched) {
        x.status = http_status(error.kind);
        const bool sent = co_await x.session.respond_error(x.context, error);
        if (!sent) x.client_gone = true;
        x.outcome_recorded = true;
        co_return false;
      }
      x.images_inlined = true;
    }
    ApiError error;
    if (!hub_to_upstream_body(x.api, upstream, *deployment.config, *x.hub_object, x.upstream_body, error)) {
      attempt_refused(x, error);
      co_return false;
    }
  }
  const std::string_view key = x.key == ApiKeyPool::kNoKey ? std::string_view{} : std::string_view(keys.secret(x.key));
  build_upstream_request_head(x.upstream_head, upstream, upstream_path(x.api, upstream.kind), x.upstream_body.size(),
                              x.context.request_id, key, request.base());
  co_return true;
}

// Answers a request the gateway refuses itself (queue full or timed out), with Retry-After.
Task<> refuse(Exchange& x, ErrorKind kind, const std::string& message) {
  const ApiError error{kind, message, {}};
  const auto body = error_body(x.context.protocol, error);
  x.status = http_status(kind);
  const bool sent = co_await x.session.respond(x.context, x.status, "application/json", body, "Retry-After: 1\r\n");
  if (!sent) x.client_gone = true;
}

// The first attempt's deployment. When every deployment that could serve is full (or others already
// wait), the request joins the alias's queue and waits for a slot: woken when one frees, moving on
// to the next tier after overflow_after_ms, refused after timeout_ms. False when it was answered
// here (429, 503) or the client left; `pick` is then empty.
Task<bool> first_deployment(Exchange& x, Priority priority, PickResult& pick) {
  auto& queue = *x.route.queue;
  auto& router = x.worker.router();
  if (queue.empty()) {
    pick = router.pick(x.route, {}, false);
    if (pick.deployment || !pick.wait) co_return true;
  }
  const auto executor = co_await asio::this_coro::executor;
  const auto ticket = queue.join(executor, priority);
  if (!ticket) {
    const std::string message = "Every deployment of model `" + x.route.alias + "` is busy and its queue is full; retry later.";
    co_await refuse(x, ErrorKind::queue_full, message);
    co_return false;
  }
  const auto& config = queue.config();
  auto deadline = ticket->enqueued + config.timeout;
  const LocalModel* local = x.route.local;
  const auto overflow_at = ticket->enqueued + config.overflow_after;
  x.session.client_watch().set_wake_timer(&ticket->timer);
  for (;;) {
    const auto now = Clock::now();
    if (x.session.client_watch().client_gone()) {
      x.session.client_watch().set_wake_timer(nullptr);
      queue.leave(ticket, now - ticket->enqueued, false);
      queue.count_abandoned(priority);
      x.client_gone = true;
      co_return false;
    }
    if (queue.is_head(*ticket)) {
      pick = router.pick(x.route, {}, now >= overflow_at);
      if (pick.deployment || !pick.wait) {
        x.session.client_watch().set_wake_timer(nullptr);
        queue.leave(ticket, now - ticket->enqueued, true);
        x.worker.metrics().queue_wait(x.route.alias, priority_name(priority),
                                      std::chrono::duration<double>(now - ticket->enqueued).count());
        co_return true;
      }
    }
    if (local && (local->state() == LocalState::starting || local->state() == LocalState::loading))
      deadline = std::max(deadline, local->load_deadline() + config.timeout);  // a load takes what it takes
    if (now >= deadline) {
      x.session.client_watch().set_wake_timer(nullptr);
      queue.leave(ticket, now - ticket->enqueued, false);
      queue.count_timeout(priority);
      const std::string message = "Waited " + std::to_string(config.timeout.count()) +
                            " ms for a free deployment of model `" + x.route.alias + "`; retry later.";
      co_await refuse(x, ErrorKind::queue_timeout, message);
      co_return false;
    }
    if (ticket->woken) {
      ticket->woken = false;
      continue;
    }
    // Until woken (a slot freed, or the client left), the overflow point or the deadline; and a
    // short poll, in case a slot freed where nobody could tell this worker.
    auto wake = std::min(deadline, now + std::chrono::milliseconds(100));
    if (now < overflow_at) wake = std::min(wake, overflow_at);
    ticket->timer.expires_at(wake);
    co_await ticket->timer.async_wait(use_nothrow);  // woken early or at the time: either way, look again
    ticket->woken = false;
  }
}

std::string no_deployment_message(const Route& route) {
  if (route.local && route.local->state() != LocalState::ready) {
    const auto error = route.local->last_error();
    return "Model `" + route.alias + "` cannot be served: its local model is " + local_state_name(route.local->state()) +
           (error.empty() ? std::string(".") : ": " + error);
  }
  return "No deployment of model `" + route.alias +
         "` can take requests right now (all are failing health checks, open-circuited or cooling down).";
}

std::string unknown_model_message(const std::string& model, const RouteTable& routes) {
  std::string message = "The model `" + model + "` does not exist. Available models: ";
  const auto& aliases = routes.aliases();
  for (std::size_t i = 0; i < aliases.size(); ++i) message.append(i ? ", " : "").append(aliases[i]);
  return message + ".";
}

// encoding_format "base64" (the openai SDK's default for embeddings): a translated answer must
// encode its vectors that way too.
bool wants_base64_embeddings(std::string_view body) {
  if (body.find("base64") == std::string_view::npos) return false;
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  if (ec || !parsed.is_object()) return false;
  const auto* format = parsed.get_object().if_contains("encoding_format");
  return format && format->is_string() && format->get_string() == "base64";
}

// The request in the hub shape, validated. False when the client was answered here (400).
bool bring_to_hub(ClientApi api, const Request& request, std::string& translated, std::string_view& hub_body,
                  JsonScan& scan, ApiError& error) {
  hub_body = request.body();
  // count_tokens goes to Anthropic upstreams as it came: only its model and messages are checked.
  if (client_protocol(api) != ClientProtocol::openai && api != ClientApi::anthropic_count_tokens) {
    if (!client_request_to_hub(api, request.body(), translated, error)) return false;
    hub_body = translated;
  }
  scan = scan_json(hub_body);
  return validate_openai_request(hub_endpoint(api), scan, error);
}

}  // namespace

Task<> proxy_request(HttpSession& session, Request& request, RequestContext& context, ClientApi api) {
  auto& worker = session.worker();
  std::string translated;  // an Anthropic or Ollama request as the hub request
  std::string_view hub_body;
  JsonScan scan;
  ApiError invalid;
  if (!bring_to_hub(api, request, translated, hub_body, scan, invalid)) {
    worker.metrics().request_finished({}, {}, http_status(invalid.kind), 0);
    co_await session.respond_error(context, invalid);
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
  worker.router().count_request(*route);

  Exchange x{session, worker, context, *route, api};
  x.client_body = request.body();
  x.hub_body = hub_body;
  x.client_wants_usage = client_wants_stream_usage(scan);
  x.base64_embeddings = api == ClientApi::openai_embeddings && wants_base64_embeddings(hub_body);
  RequestMetrics request_metrics(x);
  // A client that hangs up meanwhile aborts the upstream call (its pending reads and writes).
  session.client_watch().start();
  // Each attempt goes to a deployment not tried yet (or, after a key was refused, to the same one
  // with another key); a failure before anything reached the client is held back while the alias's
  // retries and its retry budget allow another one.
  std::array<const Deployment*, kMaxAttempts> tried{};
  std::size_t attempts = 0;
  const std::size_t allowed = std::min<std::size_t>(route->config->retries.max + 1, tried.size());
  const auto priority = parse_priority(request["X-Request-Priority"]);
  const Deployment* again = nullptr;
  while (attempts < allowed) {
    PickResult pick;
    if (attempts == 0) {
      const bool go_on = co_await first_deployment(x, priority, pick);
      if (!go_on) break;
    } else if (again && again->state->try_acquire(again->config->capacity)) {
      pick.deployment = again;
    } else {
      pick = worker.router().pick(*route, std::span(tried.data(), attempts), true);
    }
    const Deployment* deployment = pick.deployment;
    if (!deployment) break;
    tried[attempts++] = deployment;
    if (attempts > 1) worker.metrics().retried(route->alias);
    context.attempts = static_cast<unsigned>(attempts);
    begin_attempt(x, *deployment);
    x.may_retry = attempts < allowed;
    {
      Attempt attempt(x);
      const bool ready = co_await prepare_upstream_request(x, request, scan);
      if (ready) co_await run_exchange(x);
    }
    again = x.retry_same ? deployment : nullptr;
    if (x.connection) {
      x.session.client_watch().set_upstream(nullptr);
      x.connection->close();
      x.connection.reset();
    }
    if (!x.retry_wanted || x.client_gone || x.status != 0 || session.client_watch().client_gone()) break;
  }
  co_await session.client_watch().stop();
  if (session.client_watch().client_gone()) x.client_gone = true;
  if (!x.client_gone && x.status == 0) {
    // Nothing answered: the last failure held back, or no deployment could be tried at all.
    bool sent = false;
    if (x.held.status != 0) {
      x.status = x.held.status;
      sent = co_await session.respond(context, x.held.status, x.held.content_type, x.held.body, x.held.extra_headers);
    } else {
      x.status = 503;
      const ApiError none{ErrorKind::no_deployment, no_deployment_message(*route), {}};
      sent = co_await session.respond_error(context, none);
    }
    if (!sent) x.client_gone = true;
  }
  if (x.client_gone) context.keep_alive = false;
}

}  // namespace switchyard

// HTTP sessions and listeners of the fake upstream.
//
// Requests are read with Beast's parser; responses are written as raw bytes (head and body in one
// gather write; streams as chunked SSE, one event per chunk). Only requests that sleep or hang start
// a second coroutine that reads the socket, so a client that goes away is noticed at once; the fast
// path (no delays) costs one read and one write per request. Bodies are only SAX-scanned
// (request_scan); a DOM walk (request_inspect) is paid only by requests that carry images, tool
// messages or tool results, and by the rarely used embed/show endpoints.
//
// llama-server mode (Options::llama) runs one worker and adds llama-server's own routes (/props,
// /slots, /metrics), API keys, a request log line per request, slots (SlotGate: at most --parallel
// requests answered at once, the rest wait), and the FAKE_LLAMA_* load, crash and exit faults.
//
// Every co_await result is stored in a local before it is tested: GCC 12 miscompiled
// `if (!co_await f())` here (the member coroutine resumed with a garbage `this`).
#include "server.hpp"

#include "llama_args.hpp"
#include "llama_responses.hpp"
#include "request_inspect.hpp"
#include "request_scan.hpp"
#include "responses.hpp"
#include "anthropic_responses.hpp"
#include "ollama_responses.hpp"
#include "slot_gate.hpp"
#include "stats.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

namespace fake_upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHeaderLimit = 64 * 1024;
constexpr std::uint64_t kBodyLimit = 256ull * 1024 * 1024;
constexpr std::size_t kFlushAt = 64 * 1024;       // stream bytes batched before a write
constexpr std::size_t kMaxPipelined = 1 << 20;    // stop watching a client that sends this much
constexpr int kMaxTokens = 10'000'000;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLoadingBody =
    R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})";
constexpr std::string_view kHealthOkBody = R"({"status":"ok"})";
constexpr std::string_view kNotFoundBody =
    R"({"error":{"code":404,"message":"File Not Found","type":"not_found_error"}})";

// State shared by all workers; immutable after start-up except the stats.
struct Shared {
  explicit Shared(Options opts)
      : options(std::move(opts)), stats(options.threads), start(Clock::now()),
        ready_at(start + std::chrono::milliseconds(options.loading_ms)) {}

  Options options;
  Stats stats;
  Clock::time_point start;
  Clock::time_point ready_at;
  std::string models_body;  // GET /v1/models
  std::optional<asio::ssl::context> tls;

  // llama-server mode only (one worker thread, so plain members).
  std::optional<SlotGate> slots;
  LlamaCounters llama_counters;
  std::string models_loading_body;  // GET /v1/models while the model loads (meta null)
  std::string flags_json;           // GET /fake/args
  int inference_done = 0;           // completed inference requests, for FAKE_LLAMA_CRASH_AFTER
  int health_answered = 0;          // 200s of /health once loaded, for FAKE_LLAMA_HANG_HEALTH=N
};

constexpr std::string_view kInvalidKeyBody =
    R"({"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}})";
constexpr std::string_view kNoSlotBody =
    R"({"error":{"code":503,"message":"no slot available","type":"unavailable_error"}})";
constexpr std::string_view kNoMetricsBody =
    R"({"error":{"code":501,"message":"This server does not support metrics endpoint. Start it with `--metrics`","type":"not_supported_error"}})";
constexpr std::string_view kNoSlotsBody =
    R"({"error":{"code":501,"message":"This server does not support slots endpoint. Start it with `--slots`","type":"not_supported_error"}})";

// FAKE_LLAMA_CRASH_AFTER: the process ends at once, as a crashed llama-server does.
[[noreturn]] void crash(const LlamaServer& llama) {
  std::fputs("fake crash\n", stderr);
  std::fflush(stdout);
  std::fflush(stderr);
  if (llama.crash_abort) {
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);  // a deliberate crash leaves no core file in the test's directory
    std::abort();
  }
  std::_Exit(1);
}

// A slot held (or waited for) by one inference request; gives it back however the request ends.
struct SlotHold {
  SlotGate* gate = nullptr;
  SlotGate::Waiter waiter;
  int slot = -1;

  SlotHold() = default;
  SlotHold(const SlotHold&) = delete;
  SlotHold& operator=(const SlotHold&) = delete;
  ~SlotHold() {
    if (gate != nullptr) {
      gate->remove(waiter);
      if (slot >= 0) {
        gate->release(slot);
      }
    }
  }
};

// Per worker thread; touched only by that thread (stats are atomics inside Shared).
struct Worker {
  int index = 0;
  Shared* shared = nullptr;
  WorkerStats* stats = nullptr;
  std::uint64_t next_id = 1;
  std::uint64_t rng = 0;

  std::uint64_t take_id() {
    const std::uint64_t id = next_id;
    next_id += static_cast<std::uint64_t>(shared->options.threads);
    return id;
  }
  // xorshift64*: uniform in [0, 1).
  double random() {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return static_cast<double>((rng * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
  }
};

bool parse_int(std::string_view s, int& out) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    return false;
  }
  out = v;
  return true;
}

bool parse_bool(std::string_view s, bool& out) {
  if (s == "1" || beast::iequals(s, "true") || beast::iequals(s, "yes") || beast::iequals(s, "on")) {
    out = true;
    return true;
  }
  if (s == "0" || beast::iequals(s, "false") || beast::iequals(s, "no") || beast::iequals(s, "off")) {
    out = false;
    return true;
  }
  return false;
}

bool parse_double(std::string_view s, double& out) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    return false;
  }
  out = v;
  return true;
}

// x-fake-* request headers override the command-line behaviour; unparsable values are ignored.
void apply_overrides(const Request& req, Behaviour& b) {
  constexpr std::string_view kPrefix = "x-fake-";
  for (const auto& field : req) {
    const std::string_view name = field.name_string();
    if (name.size() <= kPrefix.size() || !beast::iequals(name.substr(0, kPrefix.size()), kPrefix)) {
      continue;
    }
    const std::string_view key = name.substr(kPrefix.size());
    const std::string_view value = field.value();
    if (beast::iequals(key, "tokens")) {
      parse_int(value, b.tokens);
    } else if (beast::iequals(key, "ttft-ms")) {
      parse_int(value, b.ttft_ms);
    } else if (beast::iequals(key, "gap-ms")) {
      parse_int(value, b.gap_ms);
    } else if (beast::iequals(key, "status")) {
      int status = 0;
      if (parse_int(value, status) && status >= 200 && status <= 599) {
        b.status = status;
      }
    } else if (beast::iequals(key, "retry-after")) {
      parse_int(value, b.retry_after_s);
    } else if (beast::iequals(key, "error-rate")) {
      parse_double(value, b.error_rate);
    } else if (beast::iequals(key, "hang")) {
      parse_bool(value, b.hang);
    } else if (beast::iequals(key, "drop-after")) {
      parse_int(value, b.drop_after);
    } else if (beast::iequals(key, "close")) {
      parse_bool(value, b.close);
    }
  }
}

// --key-status: the status a provider gives this request's key (Authorization: Bearer or x-api-key).
void apply_key_status(const Request& req, const std::vector<std::pair<std::string, int>>& key_status, Behaviour& b) {
  if (key_status.empty()) {
    return;
  }
  std::string_view key = req["x-api-key"];
  const std::string_view authorization = req[http::field::authorization];
  if (key.empty() && authorization.starts_with("Bearer ")) {
    key = authorization.substr(7);
  }
  for (const auto& [k, status] : key_status) {
    if (k == key) {
      b.status = status;
    }
  }
}

template <class Stream>
class Session {
 public:
  Session(Stream stream, Worker& worker)
      : stream_(std::move(stream)), worker_(worker), shared_(*worker.shared),
        timer_(stream_.get_executor()), joined_(stream_.get_executor()) {}

  asio::awaitable<void> run() {
    if (shared_.options.llama.enabled) {
      boost::system::error_code ec;
      const auto remote = beast::get_lowest_layer(stream_).remote_endpoint(ec);
      remote_ = ec ? "?" : remote.address().to_string();
    }
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, use_nothrow);
      if (ec) {
        close();
        co_return;
      }
    }
    for (;;) {
      const bool have_request = co_await read_request();
      if (!have_request) {
        break;
      }
      const bool keep_open = co_await handle();
      if (!keep_open) {
        break;
      }
    }
    close();
  }

 private:
  enum class Outcome : std::uint8_t { completed, cancelled, dropped };

  // One read op in the common case (the whole request in one segment); answers
  // "Expect: 100-continue" once the header is in and the body is not.
  asio::awaitable<bool> read_request() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    parser_->eager(true);
    bool continue_sent = false;
    while (!parser_->is_done()) {
      auto [ec, n] = co_await http::async_read_some(stream_, buffer_, *parser_, use_nothrow);
      if (ec) {
        co_return false;
      }
      if (!continue_sent && parser_->is_header_done() && !parser_->is_done() &&
          beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
        auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(kContinue), use_nothrow);
        if (wec) {
          co_return false;
        }
        continue_sent = true;
      }
    }
    co_return true;
  }

  // Returns whether to keep the connection for another request.
  asio::awaitable<bool> handle() {
    if (!shared_.options.llama.enabled) {
      co_return co_await route();
    }
    status_ = 200;
    const bool keep_open = co_await llama_route();
    if (status_ != 0) {
      const Request& req = parser_->get();
      std::string_view target = req.target();
      target = target.substr(0, target.find('?'));
      std::fprintf(stderr, "srv  log_server_r: request: %.*s %.*s %s %d\n",
                   static_cast<int>(req.method_string().size()), req.method_string().data(),
                   static_cast<int>(target.size()), target.data(), remote_.c_str(), status_);
    }
    if (crash_now_) {
      crash(shared_.options.llama);
    }
    co_return keep_open;
  }

  // llama-server mode: its own endpoints, API keys and load state, then the common routes.
  asio::awaitable<bool> llama_route() {
    const LlamaServer& llama = shared_.options.llama;
    const Request& req = parser_->get();
    std::string_view path = req.target();
    const std::string_view query = path.find('?') == std::string_view::npos ? std::string_view{}
                                                                             : path.substr(path.find('?'));
    path = path.substr(0, path.find('?'));
    if (path.starts_with("/v1/")) {
      path.remove_prefix(3);
    }
    if (path.starts_with("/fake/")) {
      co_return co_await route();
    }
    const bool is_public = path == "/health" || path == "/models" || path == "/api/tags";
    if (!is_public && !api_key_ok(req, llama.api_keys)) {
      co_return co_await reply(401, kInvalidKeyBody);
    }
    const bool loading = Clock::now() < shared_.ready_at;
    if (req.method() != http::verb::get) {
      co_return co_await route();  // inference answers 503 itself while loading
    }
    if (path == "/health") {
      if (loading) {
        co_return co_await reply(503, kLoadingBody);
      }
      if (llama.hang_health && shared_.health_answered++ >= llama.hang_health_after) {
        status_ = 0;
        start_watch();
        co_await sleep_forever();
        co_await stop_watch();
        co_return false;
      }
      co_return co_await reply(200, kHealthOkBody);
    }
    if (path == "/models") {
      co_return co_await reply(200, loading ? shared_.models_loading_body : shared_.models_body);
    }
    if (loading) {
      co_return co_await reply(503, kLoadingBody);
    }
    const SlotGate& slots = *shared_.slots;
    if (path == "/props") {
      const std::string body = llama_props_body(shared_.options, slots);
      co_return co_await reply(200, body);
    }
    if (path == "/slots") {
      if (!llama.slots_endpoint) {
        co_return co_await reply(501, kNoSlotsBody);
      }
      const bool fail_on_no_slot = query.find("fail_on_no_slot=1") != std::string_view::npos ||
                                   query.find("fail_on_no_slot=true") != std::string_view::npos;
      if (fail_on_no_slot && slots.busy() == slots.total()) {
        co_return co_await reply(503, kNoSlotBody);
      }
      const std::string body = llama_slots_body(slots);
      co_return co_await reply(200, body);
    }
    if (path == "/metrics") {
      if (!llama.metrics) {
        co_return co_await reply(501, kNoMetricsBody);
      }
      const std::string body = llama_metrics_body(shared_.llama_counters, slots);
      const bool sent = co_await write_typed(200, "text/plain; version=0.0.4", body);
      co_return sent && keep_alive_;
    }
    co_return co_await route();
  }

  // --api-key: "Authorization: Bearer KEY" or "X-Api-Key: KEY", as llama-server accepts.
  static bool api_key_ok(const Request& req, const std::vector<std::string>& keys) {
    if (keys.empty()) {
      return true;
    }
    std::string_view key = req["x-api-key"];
    const std::string_view authorization = req[http::field::authorization];
    if (authorization.starts_with("Bearer ")) {
      key = authorization.substr(7);
    }
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  }

  asio::awaitable<bool> route() {
    const Request& req = parser_->get();
    keep_alive_ = req.keep_alive();
    std::string_view path = req.target();
    path = path.substr(0, path.find('?'));
    if (path.starts_with("/v1/")) {
      path.remove_prefix(3);
    }
    const http::verb method = req.method();

    if (method == http::verb::post) {
      if (path == "/chat/completions") {
        co_return co_await inference(Endpoint::chat);
      }
      if (path == "/completions") {
        co_return co_await inference(Endpoint::text);
      }
      if (path == "/embeddings") {
        co_return co_await inference(Endpoint::embeddings);
      }
      if (path == "/messages") {
        co_return co_await inference(Endpoint::messages);
      }
      if (path == "/messages/count_tokens") {
        co_return co_await inference(Endpoint::count_tokens);
      }
      if (path == "/api/chat") {
        co_return co_await inference(Endpoint::ollama_chat);
      }
      if (path == "/api/generate") {
        co_return co_await inference(Endpoint::ollama_generate);
      }
      if (path == "/api/embed") {
        co_return co_await inference(Endpoint::ollama_embed);
      }
      if (path == "/api/embeddings") {
        co_return co_await inference(Endpoint::ollama_embeddings);
      }
      if (path == "/api/show") {
        co_return co_await ollama_show();
      }
      if (path == "/fake/reset") {
        shared_.stats.reset();
        co_return co_await reply(200, R"({"ok":true})");
      }
    } else if (method == http::verb::get) {
      if (path == "/health") {
        if (Clock::now() < shared_.ready_at) {
          co_return co_await reply(503, kLoadingBody);
        }
        co_return co_await reply(200, kHealthOkBody);
      }
      if (path == "/models") {
        co_return co_await reply(200, shared_.models_body);
      }
      if (path == "/api/version") {
        body_.clear();
        append_ollama_version_body(body_);
        co_return co_await reply(200, body_);
      }
      if (path == "/api/tags") {
        body_.clear();
        append_ollama_tags_body(body_, shared_.options.models);
        co_return co_await reply(200, body_);
      }
      if (path == "/api/ps") {
        body_.clear();
        append_ollama_ps_body(body_, shared_.options.models, static_cast<std::int64_t>(std::time(nullptr)));
        co_return co_await reply(200, body_);
      }
      if (path.starts_with("/models/")) {
        co_return co_await model(path.substr(8));
      }
      if (path == "/fake/args" && shared_.options.llama.enabled) {
        co_return co_await reply(200, shared_.flags_json);
      }
      if (path == "/fake/stats") {
        const std::string body = shared_.stats.stats_json();
        co_return co_await reply(200, body);
      }
      if (path == "/fake/last") {
        const std::string body = shared_.stats.last_json();
        if (body.empty()) {
          body_.clear();
          append_error_body(body_, 404, "no inference request yet");
          co_return co_await reply(404, body_);
        }
        co_return co_await reply(200, body);
      }
    }
    co_return co_await reply(404, kNotFoundBody);
  }

  asio::awaitable<bool> model(std::string_view id) {
    for (const std::string& name : shared_.options.models) {
      if (name == id) {
        boost::json::object o;
        o["id"] = name;
        o["object"] = "model";
        o["created"] = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
        o["owned_by"] = "llamacpp";
        o["meta"] = nullptr;
        const std::string body = boost::json::serialize(o);
        co_return co_await reply(200, body);
      }
    }
    co_return co_await reply(404, kNotFoundBody);
  }

  // POST /api/show: any model, or with --model given only those (404 otherwise, as Ollama says).
  asio::awaitable<bool> ollama_show() {
    const std::string name = ollama_show_name(parser_->get().body());
    body_.clear();
    if (name.empty()) {
      append_ollama_error_body(body_, "model is required");
      co_return co_await reply(400, body_);
    }
    bool known = !shared_.options.models_given;
    const std::string tagged = ollama_tagged_name(name);
    for (const std::string& model : shared_.options.models) {
      known = known || ollama_tagged_name(model) == tagged;
    }
    if (!known) {
      append_ollama_error_body(body_, "model '" + name + "' not found");
      co_return co_await reply(404, body_);
    }
    append_ollama_show_body(body_, name);
    co_return co_await reply(200, body_);
  }

  asio::awaitable<bool> inference(Endpoint endpoint) {
    WorkerStats& ws = *worker_.stats;
    ws.requests.fetch_add(1, std::memory_order_relaxed);
    ws.active.fetch_add(1, std::memory_order_relaxed);
    const Request& req = parser_->get();
    shared_.stats.record_last(worker_.index, req);
    Behaviour b = shared_.options.behaviour;
    apply_overrides(req, b);
    apply_key_status(req, shared_.options.key_status, b);

    const bool ready = Clock::now() >= shared_.ready_at;
    const Outcome outcome = co_await serve(endpoint, b);

    ws.active.fetch_sub(1, std::memory_order_relaxed);
    if (outcome == Outcome::completed) {
      ws.completed.fetch_add(1, std::memory_order_relaxed);
    } else if (outcome == Outcome::cancelled) {
      ws.cancelled.fetch_add(1, std::memory_order_relaxed);
    }
    const LlamaServer& llama = shared_.options.llama;
    if (llama.enabled && ready && outcome == Outcome::completed && llama.crash_after > 0 &&
        ++shared_.inference_done >= llama.crash_after) {
      crash_now_ = true;  // handle() logs the request, then ends the process
      co_return false;
    }
    co_return outcome == Outcome::completed && keep_alive_;
  }

  asio::awaitable<Outcome> serve(Endpoint endpoint, const Behaviour& b) {
    if (Clock::now() < shared_.ready_at) {
      const bool sent = co_await write_json(503, kLoadingBody);
      co_return sent ? Outcome::completed : Outcome::cancelled;
    }
    if (shared_.options.llama.crash_after == 0) {
      crash(shared_.options.llama);
    }
    if (b.close) {
      co_return Outcome::dropped;
    }
    scan_request(parser_->get().body(), facts_);
    endpoint_ = endpoint;

    bool watch = b.hang || b.ttft_ms > 0 || b.gap_ms > 0;
    SlotHold hold;
    slot_ = -1;
    if (shared_.slots && endpoint != Endpoint::count_tokens) {
      SlotGate& gate = *shared_.slots;
      hold.gate = &gate;
      hold.waiter.task = gate.next_task();
      hold.slot = gate.try_acquire(hold.waiter.task);
      if (hold.slot < 0) {
        // Every slot is busy: wait in line, watching the socket so a client that leaves is dropped.
        start_watch();
        watch = false;
        const bool got = co_await wait_for_slot(gate, hold);
        if (!got) {
          co_await stop_watch();
          co_return Outcome::cancelled;
        }
        watch = true;
      }
      slot_ = hold.slot;
    }
    if (watch && !watching_) {
      start_watch();
    }
    const Outcome outcome = co_await respond(endpoint, b);
    if (watch) {
      co_await stop_watch();
    }
    co_return outcome;
  }

  // True with hold.slot set once release() hands this request a slot; false if the client left.
  asio::awaitable<bool> wait_for_slot(SlotGate& gate, SlotHold& hold) {
    hold.waiter.timer = &timer_;
    hold.waiter.slot = -1;
    gate.enqueue(hold.waiter);
    while (hold.waiter.slot < 0 && !client_gone_) {
      timer_.expires_at(Clock::time_point::max());
      co_await timer_.async_wait(use_nothrow);
    }
    hold.waiter.timer = nullptr;
    gate.remove(hold.waiter);
    hold.slot = hold.waiter.slot;  // a slot handed over just as the client left is given back later
    co_return hold.slot >= 0 && !client_gone_;
  }

  asio::awaitable<Outcome> respond(Endpoint endpoint, const Behaviour& b) {
    if (b.hang) {
      co_await sleep_forever();
      co_return Outcome::cancelled;
    }
    if (b.ttft_ms > 0) {
      const bool still_there = co_await sleep(b.ttft_ms);
      if (!still_there) {
        co_return Outcome::cancelled;
      }
    }
    int status = b.status;
    if (status == 200 && b.error_rate > 0 && worker_.random() < b.error_rate) {
      status = 500;
    }
    if (status != 200) {
      std::string message = "fake error ";
      append_int(message, status);
      const bool sent = co_await write_error(status, message, b.retry_after_s);
      co_return sent ? Outcome::completed : Outcome::cancelled;
    }
    if (!facts_.error.empty()) {
      const bool sent = co_await write_error(400, facts_.error);
      co_return sent ? Outcome::completed : Outcome::cancelled;
    }
    if (endpoint == Endpoint::messages && !facts_.anthropic_max_tokens) {
      const bool sent = co_await write_error(400, "max_tokens: Field required");
      co_return sent ? Outcome::completed : Outcome::cancelled;
    }
    // Images and tool results need a DOM walk; the scan says when (plain requests skip it).
    const bool inspected = facts_.deep && (endpoint == Endpoint::chat || is_anthropic(endpoint) ||
                                           endpoint == Endpoint::ollama_chat || endpoint == Endpoint::ollama_generate);
    if (inspected) {
      inspect_request(endpoint, parser_->get().body(), inspection_);
      if (inspection_.status != 0) {
        const bool sent = co_await write_rejection(inspection_);
        co_return sent ? Outcome::completed : Outcome::cancelled;
      }
    }

    Completion c;
    c.endpoint = endpoint;
    c.id = worker_.take_id();
    c.created = static_cast<std::int64_t>(std::time(nullptr));
    model_json_.clear();
    append_json_string(model_json_,
                       facts_.has_model ? facts_.model : shared_.options.models.front());
    c.model_json = model_json_;
    const bool can_call_tools =
        endpoint == Endpoint::chat || endpoint == Endpoint::messages || endpoint == Endpoint::ollama_chat;
    const bool answers_tool_result = inspected && inspection_.last_is_tool_result;
    if (can_call_tools && !facts_.tool_name.empty() && !answers_tool_result) {
      tool_json_.clear();
      append_json_string(tool_json_, facts_.tool_name);
      c.tool_json = tool_json_;
    }
    if (inspected) {
      c.text_prefix = inspection_.text_prefix;
    }
    c.prompt_tokens = static_cast<int>(std::max<std::size_t>(1, parser_->get().body().size() / 4));
    int n = std::clamp(b.tokens, 0, kMaxTokens);
    if (facts_.max_tokens >= 0 && facts_.max_tokens <= n) {
      n = static_cast<int>(facts_.max_tokens);
      c.length_limited = true;
    }
    const bool embeddings = endpoint == Endpoint::embeddings || endpoint == Endpoint::ollama_embed ||
                            endpoint == Endpoint::ollama_embeddings || endpoint == Endpoint::count_tokens;
    c.completion_tokens = embeddings ? 0 : n;
    if (shared_.slots) {
      shared_.llama_counters.prompt_tokens += static_cast<std::uint64_t>(c.prompt_tokens);
      shared_.llama_counters.predicted_tokens += static_cast<std::uint64_t>(c.completion_tokens);
      shared_.llama_counters.decodes += static_cast<std::uint64_t>(c.completion_tokens) + 1;
      if (slot_ >= 0) {
        SlotGate::Slot& slot = shared_.slots->slot(slot_);
        slot.prompt_tokens = c.prompt_tokens;
        slot.planned_tokens = c.completion_tokens;
      }
    }
    c.timings.prompt_ms = b.ttft_ms > 0 ? b.ttft_ms : c.prompt_tokens * 0.05;
    c.timings.predicted_ms = b.gap_ms > 0 ? static_cast<double>(b.gap_ms) * n : n * 0.5;

    body_.clear();
    switch (endpoint) {
      case Endpoint::embeddings:
        append_embeddings_body(body_, c, facts_.inputs, facts_.base64);
        co_return co_await write_body(b);
      case Endpoint::count_tokens:
        append_count_tokens_body(body_, c.prompt_tokens);  // what /v1/messages reports as input_tokens
        co_return co_await write_body(b);
      case Endpoint::ollama_embed: {
        const int inputs = ollama_embed_inputs(parser_->get().body());
        if (inputs < 0) {
          const bool sent = co_await write_error(400, "invalid input type");
          co_return sent ? Outcome::completed : Outcome::cancelled;
        }
        append_ollama_embed_body(body_, c, inputs);
        co_return co_await write_body(b);
      }
      case Endpoint::ollama_embeddings:
        append_ollama_embedding_body(body_, ollama_prompt_empty(parser_->get().body()));
        co_return co_await write_body(b);
      default:
        break;
    }
    const bool ollama = endpoint == Endpoint::ollama_chat || endpoint == Endpoint::ollama_generate;
    const bool stream = ollama && !facts_.stream_given ? true : facts_.stream;  // Ollama streams by default
    if (!stream) {
      if (endpoint == Endpoint::messages) {
        append_message_body(body_, c);
      } else if (ollama) {
        append_ollama_body(body_, c, endpoint == Endpoint::ollama_chat);
      } else {
        append_completion_body(body_, c);
      }
      co_return co_await write_body(b);
    }
    co_return co_await write_stream(c, b);
  }

  // Non-stream: head and body in one write; with drop-after, half the body and then close.
  asio::awaitable<Outcome> write_body(const Behaviour& b) {
    head_.clear();
    append_head(head_, 200, "application/json", body_.size(), keep_alive_);
    const bool drop = b.drop_after >= 0;
    const std::size_t body_bytes = drop ? body_.size() / 2 : body_.size();
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_),
                                                    asio::buffer(body_.data(), body_bytes)};
    auto [ec, n] = co_await asio::async_write(stream_, buffers, use_nothrow);
    if (ec) {
      co_return Outcome::cancelled;
    }
    co_return drop ? Outcome::dropped : Outcome::completed;
  }

  // A streamed tool call in the request's API. The argument pieces are separate writes when there
  // is a gap, so a client sees a call split across reads.
  asio::awaitable<Outcome> write_tool_call_stream(const Completion& c, const Behaviour& b) {
    out_.clear();
    if (c.endpoint == Endpoint::ollama_chat) {
      append_ndjson_head(out_, keep_alive_);
      append_ollama_tool_call_line(out_, event_, c);
      append_ollama_done_line(out_, event_, c, true);
      const bool flushed = co_await flush();
      co_return flushed ? Outcome::completed : Outcome::cancelled;
    }
    const bool anthropic = c.endpoint == Endpoint::messages;
    append_stream_head(out_, keep_alive_);
    if (anthropic) {
      append_tool_use_stream_start(out_, event_, c);
    } else {
      prefix_.clear();
      append_stream_prefix(prefix_, c);
      append_role_chunk(out_, event_, prefix_);
      append_tool_call_start_chunk(out_, event_, prefix_, c);
    }
    for (const auto piece : kToolArgumentPieces) {
      if (b.gap_ms > 0) {
        const bool still_there = co_await pause(b.gap_ms);
        if (!still_there) {
          co_return Outcome::cancelled;
        }
      }
      if (anthropic) {
        append_input_json_delta(out_, event_, piece);
      } else {
        append_tool_arguments_chunk(out_, event_, prefix_, piece);
      }
    }
    if (anthropic) {
      append_message_stream_end(out_, event_, c);
    } else {
      append_openai_stream_end(c);
    }
    const bool flushed = co_await flush();
    co_return flushed ? Outcome::completed : Outcome::cancelled;
  }

  // Sends what is buffered, then waits `ms`. False when the client left.
  asio::awaitable<bool> pause(int ms) {
    const bool flushed = co_await flush();
    if (!flushed) {
      co_return false;
    }
    co_return co_await sleep(ms);
  }

  // The finish chunk, the usage chunk when asked for, [DONE] and the end of the chunked body.
  void append_openai_stream_end(const Completion& c) {
    append_finish_chunk(out_, event_, prefix_, c);
    if (facts_.include_usage) {
      append_usage_chunk(out_, event_, prefix_, c);
    }
    append_done_and_end(out_);
  }

  // Chunked SSE. Events produced together (no gap) go out in one write.
  asio::awaitable<Outcome> write_stream(const Completion& c, const Behaviour& b) {
    if (!c.tool_json.empty()) {
      co_return co_await write_tool_call_stream(c, b);
    }
    prefix_.clear();
    append_stream_prefix(prefix_, c);
    out_.clear();
    const bool anthropic = c.endpoint == Endpoint::messages;
    const bool ollama = c.endpoint == Endpoint::ollama_chat || c.endpoint == Endpoint::ollama_generate;
    const bool ollama_chat = c.endpoint == Endpoint::ollama_chat;
    if (ollama) {
      append_ndjson_head(out_, keep_alive_);
    } else {
      append_stream_head(out_, keep_alive_);
    }
    if (c.endpoint == Endpoint::chat) {
      append_role_chunk(out_, event_, prefix_);
    } else if (anthropic) {
      append_message_stream_start(out_, event_, c);
    }
    if (!c.text_prefix.empty()) {
      if (anthropic) {
        append_text_delta(out_, event_, c.text_prefix);
      } else if (ollama) {
        append_ollama_text_line(out_, event_, c, ollama_chat, c.text_prefix);
      } else {
        append_text_chunk(out_, event_, prefix_, c.text_prefix);
      }
    }
    const bool drop = b.drop_after >= 0;
    const int content_chunks = drop ? std::min(b.drop_after, c.completion_tokens)
                                    : c.completion_tokens;
    for (int i = 0; i < content_chunks; ++i) {
      if (i > 0 && b.gap_ms > 0) {
        const bool still_there = co_await pause(b.gap_ms);
        if (!still_there) {
          co_return Outcome::cancelled;
        }
      }
      if (anthropic) {
        append_text_delta(out_, event_, i);
      } else if (ollama) {
        append_ollama_token_line(out_, event_, c, ollama_chat, i);
      } else {
        append_token_chunk(out_, event_, prefix_, c.endpoint, i);
      }
      if (out_.size() >= kFlushAt) {
        const bool flushed = co_await flush();
        if (!flushed) {
          co_return Outcome::cancelled;
        }
      }
    }
    if (drop) {
      const bool flushed = co_await flush();
      co_return flushed ? Outcome::dropped : Outcome::cancelled;
    }
    if (anthropic) {
      append_message_stream_end(out_, event_, c);  // usage always comes in message_delta
    } else if (ollama) {
      append_ollama_done_line(out_, event_, c, ollama_chat);
    } else {
      append_openai_stream_end(c);
    }
    const bool flushed = co_await flush();
    co_return flushed ? Outcome::completed : Outcome::cancelled;
  }

  asio::awaitable<bool> flush() {
    if (client_gone_) {
      co_return false;
    }
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(out_), use_nothrow);
    out_.clear();
    co_return !ec;
  }

  asio::awaitable<bool> write_json(int status, std::string_view body, int retry_after_s = 0) {
    status_ = status;
    head_.clear();
    append_head(head_, status, "application/json", body.size(), keep_alive_);
    if (retry_after_s > 0) {
      std::string header = "Retry-After: ";
      append_int(header, retry_after_s);
      head_.insert(head_.size() - 2, header.append("\r\n"));  // before the blank line ending the head
    }
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body)};
    auto [ec, n] = co_await asio::async_write(stream_, buffers, use_nothrow);
    co_return !ec;
  }

  asio::awaitable<bool> write_typed(int status, std::string_view content_type, std::string_view body) {
    status_ = status;
    head_.clear();
    append_head(head_, status, content_type, body.size(), keep_alive_);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body)};
    auto [ec, n] = co_await asio::async_write(stream_, buffers, use_nothrow);
    co_return !ec;
  }

  // For handle(): answers and says whether the connection stays open.
  asio::awaitable<bool> reply(int status, std::string_view body) {
    const bool sent = co_await write_json(status, body);
    co_return sent && keep_alive_;
  }

  asio::awaitable<bool> write_error(int status, std::string_view message, int retry_after_s = 0) {
    body_.clear();
    if (is_anthropic(endpoint_)) {
      append_anthropic_error_body(body_, status, message);
    } else if (is_ollama(endpoint_)) {
      append_ollama_error_body(body_, message);
    } else {
      append_error_body(body_, status, message);
    }
    co_return co_await write_json(status, body_, retry_after_s);
  }

  // A request the real server would refuse (request_inspect): OpenAI's own error shape with param
  // and code; the other APIs' usual error bodies.
  asio::awaitable<bool> write_rejection(const Inspection& rejected) {
    if (endpoint_ != Endpoint::chat) {
      co_return co_await write_error(rejected.status, rejected.message);
    }
    body_.clear();
    append_openai_invalid_request_body(body_, rejected.message, rejected.param, rejected.code);
    co_return co_await write_json(rejected.status, body_);
  }

  // False when the client went away during the wait.
  asio::awaitable<bool> sleep(int ms) {
    if (client_gone_) {
      co_return false;
    }
    timer_.expires_after(std::chrono::milliseconds(ms));
    co_await timer_.async_wait(use_nothrow);
    co_return !client_gone_;
  }

  asio::awaitable<void> sleep_forever() {
    while (!client_gone_) {
      timer_.expires_at(Clock::time_point::max());
      co_await timer_.async_wait(use_nothrow);
    }
  }

  // The watcher reads the socket while the response is delayed: end of stream or an error means
  // the client went away. Bytes that arrive (a pipelined request) stay in buffer_ for the parser.
  void start_watch() {
    watching_ = true;
    stopping_ = false;
    client_gone_ = false;
    asio::co_spawn(stream_.get_executor(), watch(), asio::detached);
  }

  asio::awaitable<void> watch() {
    while (buffer_.size() < kMaxPipelined) {
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), use_nothrow);
      if (ec) {
        if (!stopping_) {
          client_gone_ = true;
          timer_.cancel();
        }
        break;
      }
      buffer_.commit(n);
    }
    watching_ = false;
    joined_.cancel();
  }

  asio::awaitable<void> stop_watch() {
    if (!watching_) {
      co_return;
    }
    stopping_ = true;
    boost::system::error_code ec;
    beast::get_lowest_layer(stream_).cancel(ec);
    while (watching_) {
      joined_.expires_at(Clock::time_point::max());
      co_await joined_.async_wait(use_nothrow);
    }
  }

  void close() {
    auto& socket = beast::get_lowest_layer(stream_);
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
  }

  Stream stream_;
  Worker& worker_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  RequestFacts facts_;
  Inspection inspection_;              // of the request being answered, when facts_.deep
  Endpoint endpoint_ = Endpoint::chat;  // of the request being answered (error bodies follow its API)
  std::string tool_json_;              // the tool a fake tool call names, as a JSON literal
  std::string head_;
  std::string body_;
  std::string out_;
  std::string prefix_;
  std::string event_;
  std::string model_json_;
  asio::steady_timer timer_;   // delays of the response being served
  asio::steady_timer joined_;  // wakes stop_watch() when the watcher has finished
  std::string remote_;       // the client's address, for llama-server's request log
  int status_ = 200;         // of the response being sent (0: none), for that log
  int slot_ = -1;            // llama-server slot of the request being answered
  bool crash_now_ = false;   // FAKE_LLAMA_CRASH_AFTER reached: end the process after this request
  bool keep_alive_ = true;
  bool watching_ = false;
  bool stopping_ = false;
  bool client_gone_ = false;
};

template <class Stream>
asio::awaitable<void> run_session(Stream stream, Worker& worker) {
  Session<Stream> session(std::move(stream), worker);
  try {
    co_await session.run();
  } catch (...) {
    // Nothing to report to: the connection just ends.
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, Worker& worker) {
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      // Out of descriptors or similar: give the system a moment.
      backoff.expires_after(std::chrono::milliseconds(10));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    boost::system::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    if (worker.shared->tls) {
      asio::co_spawn(acceptor.get_executor(),
                     run_session(asio::ssl::stream<tcp::socket>(std::move(socket), *worker.shared->tls),
                                 worker),
                     asio::detached);
    } else {
      asio::co_spawn(acceptor.get_executor(), run_session(std::move(socket), worker),
                     asio::detached);
    }
  }
}

std::string build_models_body(const Options& options) {
  const auto created = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  boost::json::array data;
  for (const std::string& name : options.models) {
    boost::json::object m;
    m["id"] = name;
    m["object"] = "model";
    m["created"] = created;
    m["owned_by"] = "llamacpp";
    m["meta"] = nullptr;
    data.push_back(std::move(m));
  }
  boost::json::object o;
  o["object"] = "list";
  o["data"] = std::move(data);
  return boost::json::serialize(o);
}

tcp::endpoint resolve(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    return {address, port};
  }
  asio::io_context ctx;
  tcp::resolver resolver(ctx);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot resolve listen host '" + host + "': " + ec.message());
  }
  for (const auto& entry : results) {
    if (entry.endpoint().address().is_v4()) {
      return entry.endpoint();
    }
  }
  return results.begin()->endpoint();
}

// `share_port`: SO_REUSEPORT, so that every worker has its own acceptor. llama-server mode has one
// worker and leaves it off, so a second process on the same port fails as a real one would.
void open_acceptor(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, bool share_port) {
  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  if (share_port) {
    acceptor.set_option(reuse_port(true));
  }
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
}

}  // namespace

struct Server::Impl {
  explicit Impl(Options options) : shared(std::move(options)) {}

  Shared shared;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<Worker> workers;
  tcp::endpoint bound;
  // Made with the acceptors, so a SIGTERM sent as soon as the port is announced is queued, not fatal.
  std::optional<asio::signal_set> signals;
};

Server::Server(Options options) {
  if (options.threads < 1) {
    options.threads = 1;
  }
  impl_ = std::make_unique<Impl>(std::move(options));
  Shared& shared = impl_->shared;
  const Options& opts = shared.options;
  shared.models_body = build_models_body(opts);
  if (opts.llama.enabled) {
    shared.slots.emplace(opts.llama.parallel, opts.llama.slot_ctx);
    shared.models_body = llama_models_body(opts, true);
    shared.models_loading_body = llama_models_body(opts, false);
    shared.flags_json = llama_flags_json(opts);
  }

  if (!opts.tls_cert.empty()) {
    auto& tls = shared.tls.emplace(asio::ssl::context::tls_server);
    tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3);
    try {
      tls.use_certificate_chain_file(opts.tls_cert);
      tls.use_private_key_file(opts.tls_key, asio::ssl::context::pem);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot load --tls-cert/--tls-key: " + std::string(e.what()));
    }
  }

  tcp::endpoint endpoint = resolve(opts.host, opts.port);
  std::random_device seed;
  for (int i = 0; i < opts.threads; ++i) {
    auto& ctx = impl_->contexts.emplace_back(std::make_unique<asio::io_context>(1));
    auto& acceptor = impl_->acceptors.emplace_back(std::make_unique<tcp::acceptor>(*ctx));
    try {
      open_acceptor(*acceptor, endpoint, !opts.llama.enabled);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen on " + endpoint.address().to_string() + ":" +
                               std::to_string(endpoint.port()) + ": " + e.code().message());
    }
    if (i == 0) {
      endpoint = acceptor->local_endpoint();  // port 0: the others share the port it got
      impl_->bound = endpoint;
    }
    Worker& w = impl_->workers.emplace_back();
    w.index = i;
    w.shared = &shared;
    w.stats = &shared.stats.worker(i);
    w.next_id = static_cast<std::uint64_t>(i) + 1;
    w.rng = (static_cast<std::uint64_t>(seed()) << 32 | seed()) | 1;
  }
  impl_->signals.emplace(*impl_->contexts[0], SIGINT, SIGTERM);
}

Server::~Server() = default;

std::string Server::url() const {
  std::string host = impl_->shared.options.host;
  if (host.find(':') != std::string::npos) {
    host = "[" + host + "]";
  }
  return (impl_->shared.tls ? "https://" : "http://") + host + ":" +
         std::to_string(impl_->bound.port());
}

void Server::run() {
  auto& contexts = impl_->contexts;
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    asio::co_spawn(*contexts[i], accept_loop(*impl_->acceptors[i], impl_->workers[i]),
                   asio::detached);
  }
  const Shared& shared = impl_->shared;
  const LlamaServer& llama = shared.options.llama;
  asio::signal_set& signals = *impl_->signals;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal_number) {
        if (!ec && signal_number == SIGTERM && llama.ignore_sigterm) {
          std::fputs("fake llama-server: SIGTERM ignored (FAKE_LLAMA_IGNORE_SIGTERM)\n", stderr);
          signals.async_wait(on_signal);
          return;
        }
        for (auto& ctx : contexts) {
          ctx->stop();
        }
      };
  signals.async_wait(on_signal);

  // llama-server mode: the end of loading, and FAKE_LLAMA_EXIT_AFTER_MS.
  asio::steady_timer loaded(*contexts[0]);
  asio::steady_timer exit_timer(*contexts[0]);
  if (llama.enabled) {
    const std::string listening_url = url();
    loaded.expires_at(shared.ready_at);
    loaded.async_wait([&shared, listening_url](const boost::system::error_code& ec) {
      if (!ec) {
        std::fputs(llama_loaded_log(shared.options, listening_url).c_str(), stderr);
      }
    });
    if (llama.exit_after_ms >= 0) {
      exit_timer.expires_at(shared.start + std::chrono::milliseconds(llama.exit_after_ms));
      exit_timer.async_wait([&shared](const boost::system::error_code& ec) {
        if (ec) {
          return;
        }
        const LlamaServer& l = shared.options.llama;
        if (Clock::now() < shared.ready_at) {
          const std::string why = "fake load failure after " + std::to_string(l.exit_after_ms) +
                                  " ms (FAKE_LLAMA_EXIT_AFTER_MS)";
          std::fputs(llama_load_failed_log(shared.options, why).c_str(), stderr);
        } else {
          std::fprintf(stderr, "fake exit after %d ms (FAKE_LLAMA_EXIT_AFTER_MS)\n", l.exit_after_ms);
        }
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(1);
      });
    }
  }
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts.size(); ++i) {
    threads.emplace_back([ctx = contexts[i].get()] { ctx->run(); });
  }
  contexts[0]->run();
  for (auto& ctx : contexts) {
    ctx->stop();
  }
  for (auto& t : threads) {
    t.join();
  }
}

}  // namespace fake_upstream

// stream-load: keeps N server-sent-event streams open against one URL and measures time to first event
// and the gap between events as the client sees them. Everything runs on one io_context on one thread.
//
// Each stream slot owns one keep-alive connection and runs one request at a time on it; when a stream
// ends the slot immediately opens the next one, so N streams stay open for the whole run. Slots start
// gradually (--ramp-s) so that the server's accept queue is not overrun.
//
// Timing: an event is timestamped when the read that completes it (the blank line ending the SSE event)
// returns. TTFT is measured from just before the request is written to the first `data:` event; a gap is
// the time between two consecutive `data:` events of one stream. The `data: [DONE]` terminator is neither
// a first token nor a gap.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "80";
  std::string target = "/v1/chat/completions";
  std::vector<std::string> headers;
  std::string body = R"({"model":"bench-model","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  int streams = 100;
  double duration_s = 10;
  double ramp_s = -1;   // < 0: chosen from the stream count
  double grace_s = 15;  // after the duration, streams in flight get this long to finish
  bool json = false;
};

struct Stats {
  std::vector<std::uint32_t> ttft_us;
  std::vector<std::uint32_t> gap_us;
  std::uint64_t completed = 0;      // streams that ended with a complete 200 response
  std::uint64_t failed = 0;         // connect/read/write errors, bad status, truncated streams
  std::uint64_t unfinished = 0;     // still in flight when the grace period ran out
  std::uint64_t events = 0;         // data events received (without [DONE])
  std::uint64_t connections = 0;    // connections opened (1 per slot when keep-alive works)
  std::uint64_t empty_streams = 0;  // complete 200 responses without a single data event
  int open_now = 0;
  int open_peak = 0;
  std::map<std::string, std::uint64_t> errors;

  void error(std::string what) {
    ++failed;
    ++errors[std::move(what)];
  }
};

bool parse_url(std::string_view url, Options& o) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  url.remove_prefix(kScheme.size());
  auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  o.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    o.host = std::string(authority);
    o.port = "80";
  } else {
    o.host = std::string(authority.substr(0, colon));
    o.port = std::string(authority.substr(colon + 1));
  }
  return !o.host.empty() && !o.port.empty();
}

std::string build_request(const Options& o) {
  std::string r;
  r.reserve(512 + o.body.size());
  r += "POST ";
  r += o.target;
  r += " HTTP/1.1\r\nHost: ";
  r += o.host;
  r += ':';
  r += o.port;
  r += "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n";
  for (const auto& h : o.headers) {
    r += h;
    r += "\r\n";
  }
  r += "Content-Length: ";
  r += std::to_string(o.body.size());
  r += "\r\n\r\n";
  r += o.body;
  return r;
}

// Incremental SSE framing: finds the end of each event in the decoded body and reports whether it was
// a data event, the [DONE] terminator, or something else (comments, keep-alives).
class SseScanner {
 public:
  enum class Event { kData, kDone, kOther };

  template <typename F>
  void feed(std::string_view bytes, F&& on_event) {
    for (char c : bytes) {
      if (c == '\r') continue;
      if (c == '\n') {
        if (line_.empty()) {
          if (have_event_) on_event(done_ ? Event::kDone : (data_ ? Event::kData : Event::kOther));
          have_event_ = data_ = done_ = false;
        } else {
          have_event_ = true;
          std::string_view l = line_;
          if (l.substr(0, 5) == "data:") {
            data_ = true;
            l.remove_prefix(5);
            while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
            if (l == "[DONE]") done_ = true;
          }
          line_.clear();
        }
      } else if (line_.size() < 64) {  // only the start of a line matters
        line_ += c;
      }
    }
  }

 private:
  std::string line_;
  bool have_event_ = false;
  bool data_ = false;
  bool done_ = false;
};

std::uint32_t micros(Clock::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint32_t>(std::min<long long>(us, UINT32_MAX));
}

struct Run {
  const Options& opt;
  const std::string& request;
  tcp::endpoint endpoint;
  Clock::time_point stop_starting;  // no new stream starts after this
  Stats& stats;
};

// Runs one stream on `sock`. Returns false when the connection cannot be reused.
asio::awaitable<bool> one_stream(Run& run, tcp::socket& sock, beast::flat_buffer& buf) {
  Stats& st = run.stats;
  const auto t0 = Clock::now();
  auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(run.request), kToken);
  if (wec) {
    st.error("write: " + wec.message());
    co_return false;
  }

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  parser.header_limit(64 * 1024);
  auto [hec, hn] = co_await http::async_read_header(sock, buf, parser, kToken);
  if (hec) {
    st.error("read header: " + hec.message());
    co_return false;
  }
  const unsigned status = parser.get().result_int();

  SseScanner sse;
  bool first = true;
  bool saw_done = false;
  Clock::time_point last{};
  std::uint64_t data_events = 0;
  char chunk[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    auto [ec, n] = co_await http::async_read_some(sock, buf, parser, kToken);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      st.error("read body: " + ec.message());
      co_return false;
    }
    const std::size_t got = sizeof chunk - parser.get().body().size;
    if (got == 0 || status != 200) continue;
    const auto now = Clock::now();
    sse.feed(std::string_view(chunk, got), [&](SseScanner::Event e) {
      if (e == SseScanner::Event::kDone) {
        saw_done = true;
      } else if (e == SseScanner::Event::kData) {
        ++data_events;
        if (first) {
          st.ttft_us.push_back(micros(now - t0));
          first = false;
        } else {
          st.gap_us.push_back(micros(now - last));
        }
        last = now;
      }
    });
  }
  st.events += data_events;
  if (status != 200) {
    st.error("status " + std::to_string(status));
  } else if (data_events == 0) {
    ++st.empty_streams;
    st.error("no data events");
  } else {
    (void)saw_done;  // an OpenAI stream ends with [DONE]; a clean end of body is accepted too
    ++st.completed;
  }
  co_return parser.keep_alive() && status == 200;
}

asio::awaitable<void> slot(Run& run, Clock::duration start_delay) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  timer.expires_after(start_delay);
  co_await timer.async_wait(kToken);

  Stats& st = run.stats;
  while (Clock::now() < run.stop_starting) {
    tcp::socket sock(ex);
    auto [cec] = co_await sock.async_connect(run.endpoint, kToken);
    if (cec) {
      st.error("connect: " + cec.message());
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(kToken);
      continue;
    }
    boost::system::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    ++st.connections;
    ++st.open_now;
    st.open_peak = std::max(st.open_peak, st.open_now);
    beast::flat_buffer buf;
    bool reusable = true;
    while (reusable && Clock::now() < run.stop_starting) {
      ++st.unfinished;  // counted until the stream ends either way
      reusable = co_await one_stream(run, sock, buf);
      --st.unfinished;
    }
    --st.open_now;
    sock.shutdown(tcp::socket::shutdown_both, ignored);
    sock.close(ignored);
    if (!reusable && Clock::now() < run.stop_starting) {
      timer.expires_after(std::chrono::milliseconds(1));
      co_await timer.async_wait(kToken);
    }
  }
}

json::object summarize(std::vector<std::uint32_t>& v) {
  json::object o;
  o["count"] = v.size();
  if (v.empty()) return o;
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) {
    std::size_t rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()));
    return v[std::min(rank, v.size() - 1)];
  };
  double sum = 0;
  for (auto x : v) sum += x;
  o["mean"] = sum / static_cast<double>(v.size());
  o["p50"] = pct(50);
  o["p90"] = pct(90);
  o["p99"] = pct(99);
  o["p999"] = pct(99.9);
  o["max"] = v.back();
  return o;
}

void raise_fd_limit(int streams) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < static_cast<rlim_t>(streams) + 64) {
    std::fprintf(stderr, "stream-load: warning: open-file limit %llu is too low for %d streams\n",
                 static_cast<unsigned long long>(rl.rlim_cur), streams);
  }
}

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: stream-load --url http://HOST:PORT/PATH [--streams N] [--duration-s S]\n"
               "                   [--ramp-s S] [--grace-s S] [--header 'Name: value']... [--body JSON]\n"
               "                   [--json]\n");
  std::exit(code);
}

Options parse_args(int argc, char** argv) {
  Options o;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "stream-load: %s needs a value\n", argv[i]);
        usage(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--url") {
        if (!parse_url(value(), o)) {
          std::fprintf(stderr, "stream-load: --url must look like http://HOST:PORT/PATH\n");
          std::exit(2);
        }
        have_url = true;
      } else if (a == "--streams") {
        o.streams = std::stoi(value());
      } else if (a == "--duration-s") {
        o.duration_s = std::stod(value());
      } else if (a == "--ramp-s") {
        o.ramp_s = std::stod(value());
      } else if (a == "--grace-s") {
        o.grace_s = std::stod(value());
      } else if (a == "--header") {
        o.headers.push_back(value());
      } else if (a == "--body") {
        o.body = value();
      } else if (a == "--json") {
        o.json = true;
      } else if (a == "--help" || a == "-h") {
        usage(0);
      } else {
        std::fprintf(stderr, "stream-load: unknown option %s\n", argv[i]);
        usage(2);
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "stream-load: bad value for %s\n", argv[i - 1]);
      std::exit(2);
    }
  }
  if (!have_url) usage(2);
  if (o.streams < 1 || o.duration_s <= 0) {
    std::fprintf(stderr, "stream-load: --streams and --duration-s must be positive\n");
    std::exit(2);
  }
  if (o.ramp_s < 0) o.ramp_s = std::min(2.0, o.streams / 1000.0);  // 2,000 streams over 2 s
  return o;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);
  raise_fd_limit(opt.streams);
  const std::string request = build_request(opt);

  Stats stats;  // declared before the io_context so that it outlives the coroutine frames
  stats.ttft_us.reserve(1 << 16);
  stats.gap_us.reserve(1 << 20);
  asio::io_context ioc(1);

  tcp::resolver resolver(ioc);
  boost::system::error_code rec;
  auto results = resolver.resolve(opt.host, opt.port, rec);
  if (rec || results.empty()) {
    std::fprintf(stderr, "stream-load: cannot resolve %s:%s: %s\n", opt.host.c_str(), opt.port.c_str(),
                 rec.message().c_str());
    return 2;
  }

  const auto start = Clock::now();
  const auto duration = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.duration_s));
  const auto grace = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.grace_s));
  Run run{opt, request, results.begin()->endpoint(), start + duration, stats};

  const auto ramp = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.ramp_s));
  for (int i = 0; i < opt.streams; ++i) {
    asio::co_spawn(ioc, slot(run, ramp * i / opt.streams), asio::detached);
  }

  // Streams in flight at the end of the duration may finish during the grace period; then stop.
  asio::steady_timer hard_stop(ioc, start + duration + grace);
  bool cut = false;
  hard_stop.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      cut = true;
      ioc.stop();
    }
  });
  // The timer would keep run() alive; count the slots instead and cancel it when all are done.
  asio::steady_timer poll(ioc);
  std::function<void()> check = [&] {
    poll.expires_after(std::chrono::milliseconds(50));
    poll.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      if (Clock::now() >= start + duration && stats.unfinished == 0 && stats.open_now == 0) {
        hard_stop.cancel();
        return;
      }
      check();
    });
  };
  check();

  ioc.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (!cut) stats.unfinished = 0;

  json::object out;
  out["url"] = "http://" + opt.host + ":" + opt.port + opt.target;
  out["streams"] = opt.streams;
  out["duration_s"] = opt.duration_s;
  out["elapsed_s"] = elapsed;
  out["completed"] = stats.completed;
  out["failed"] = stats.failed;
  out["unfinished"] = stats.unfinished;
  out["empty_streams"] = stats.empty_streams;
  out["connections"] = stats.connections;
  out["open_peak"] = stats.open_peak;
  out["events"] = stats.events;
  out["streams_per_s"] = static_cast<double>(stats.completed) / opt.duration_s;
  out["events_per_s"] = static_cast<double>(stats.events) / elapsed;
  out["cpu_s"] = cpu_seconds();
  out["ttft_us"] = summarize(stats.ttft_us);
  out["gap_us"] = summarize(stats.gap_us);
  json::object errs;
  for (const auto& [k, v] : stats.errors) errs[k] = v;
  out["errors"] = std::move(errs);

  if (opt.json) {
    std::cout << json::serialize(out) << '\n';
  } else {
    auto num = [&](const json::object& o, const char* k) -> std::string {
      auto* v = o.if_contains(k);
      return v ? json::serialize(*v) : "-";
    };
    const auto& t = out["ttft_us"].as_object();
    const auto& g = out["gap_us"].as_object();
    std::printf("streams %d for %.1f s: completed %llu, failed %llu, unfinished %llu, connections %llu, "
                "peak open %d\n",
                opt.streams, opt.duration_s, static_cast<unsigned long long>(stats.completed),
                static_cast<unsigned long long>(stats.failed), static_cast<unsigned long long>(stats.unfinished),
                static_cast<unsigned long long>(stats.connections), stats.open_peak);
    std::printf("ttft us: p50 %s p99 %s max %s\n", num(t, "p50").c_str(), num(t, "p99").c_str(),
                num(t, "max").c_str());
    std::printf("gap  us: p50 %s p99 %s max %s\n", num(g, "p50").c_str(), num(g, "p99").c_str(),
                num(g, "max").c_str());
    for (const auto& [k, v] : stats.errors) std::printf("error %s: %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  }
  return stats.completed > 0 ? 0 : 1;
}

// fake-upstream: a fast stand-in for the servers behind the gateway, used by tests and benchmarks:
// llama-server (OpenAI-compatible), the Anthropic Messages API and Ollama's native API. Besides
// text it answers tool calls, tool results (quoting them), images (counting them), embeddings and
// Ollama's model endpoints, and rejects what the real servers reject. See docs/fake-upstream.md
// and kEndpoints below. Started with llama-server's command line (llama_args.hpp) it acts as a
// llama-server process instead: binds --host/--port, loads, crashes and limits concurrency to
// --parallel as told by FAKE_LLAMA_* variables, so a model manager can be tested with real processes.
#include "llama_args.hpp"
#include "options.hpp"
#include "server.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace {

// "HOST:PORT", "[V6]:PORT" or ":PORT".
void parse_listen(const std::string& listen, fake_upstream::Options& options) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    throw CLI::ValidationError("--listen", "expected HOST:PORT, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long value = 0;
  try {
    std::size_t used = 0;
    value = std::stoul(port, &used);
    if (used != port.size() || value > 65535) {
      throw std::out_of_range("port");
    }
  } catch (const std::exception&) {
    throw CLI::ValidationError("--listen", "bad port in '" + listen + "'");
  }
  options.host = host.empty() ? "127.0.0.1" : host;
  options.port = static_cast<std::uint16_t>(value);
}

constexpr const char* kEndpoints = R"(Endpoints (the /v1 prefix is optional):
  OpenAI / llama-server: GET /health, GET /v1/models[/NAME], POST /v1/chat/completions,
    /v1/completions, /v1/embeddings
  Anthropic: POST /v1/messages (max_tokens required), POST /v1/messages/count_tokens
  Ollama: POST /api/chat, /api/generate, /api/embed, /api/embeddings, /api/show;
    GET /api/version, /api/tags, /api/ps
  Test hooks: GET /fake/stats, GET /fake/last, POST /fake/reset
Answers: token i is "tok<i> "; a request offering tools gets a call of the first one with
{"location":"Paris"}, unless its last turn is tool results: then text that starts with
"The tool said: <content>. " per result. A request with N>0 images (OpenAI image_url parts,
Anthropic image blocks, Ollama "images") gets text starting "I see N image(s). ". Images are
checked like the real servers do (Ollama: base64; Anthropic: media type and base64), and so are
tool results (OpenAI tool_call_id, Anthropic tool_use_id must answer the previous call).
Embedding vectors are the same deterministic values on every API.
Per-request headers x-fake-tokens, -ttft-ms, -gap-ms, -status, -error-rate, -hang, -drop-after,
-close and -retry-after override the options of the same name.
Started with llama-server's flags (-m FILE --port N ...) or with --llama-server first, it acts as a
llama-server process instead: see `fake-upstream --llama-server --help`.
)";

// llama-server mode (llama_args.hpp): llama-server's command line, log lines and exit statuses.
int run_llama_server(int argc, char** argv) {
  fake_upstream::LlamaCommandLine parsed = fake_upstream::parse_llama_server_command_line(argc, argv);
  if (parsed.help) {
    std::fputs(fake_upstream::llama_server_usage().c_str(), stdout);
    return 0;
  }
  fake_upstream::Options& options = parsed.options;
  std::fputs(fake_upstream::llama_startup_log(options).c_str(), stderr);
  for (const auto& warning : parsed.warnings) {
    std::fprintf(stderr, "%s\n", warning.c_str());
  }
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "%s\n", parsed.error.c_str());
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const std::string host = options.host;
  const unsigned port = options.port;
  try {
    const fake_upstream::Options shown = options;  // options moves into the server
    const fake_upstream::LlamaServer& llama = shown.llama;
    const std::string flags = fake_upstream::llama_flags_json(shown);
    fake_upstream::Server server(std::move(options));
    const std::string url = server.url();
    const auto bound_port = static_cast<std::uint16_t>(std::stoul(url.substr(url.rfind(':') + 1)));
    std::fputs(fake_upstream::llama_listening_log(shown, bound_port).c_str(), stderr);
    std::printf("fake llama-server pid %d listening on %s ctx %d parallel %d ngl %s\n", static_cast<int>(getpid()),
                url.c_str(), llama.n_ctx, llama.parallel, llama.n_gpu_layers.c_str());
    std::printf("fake llama-server flags %s\n", flags.c_str());
    std::fflush(stdout);
    server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "main: couldn't bind HTTP server socket, hostname: %s, port: %u (%s)\n", host.c_str(), port,
                 e.what());
    return 1;
  }
  std::fputs("srv    operator(): operator(): cleaning up before exit...\n", stderr);
  std::fflush(stdout);
  std::fflush(stderr);
  // Skip the destructors: requests still waiting for a slot need not be unwound one by one.
  std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (fake_upstream::is_llama_server_command_line(argc, argv)) {
    return run_llama_server(argc, argv);
  }
  fake_upstream::Options options;
  fake_upstream::Behaviour& b = options.behaviour;
  std::string listen = "127.0.0.1:8001";

  CLI::App app{"fake-upstream: a fast fake llama-server, Anthropic API and Ollama for tests and benchmarks"};
  app.footer(kEndpoints);
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0 picks a free port)")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "worker threads (one acceptor each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  auto* model = app.add_option("--model", options.models,
                               "model listed by /v1/models, /api/tags and /api/ps (repeatable); when "
                               "given, /api/show answers 404 for any other")
                    ->capture_default_str();
  app.add_option("--tokens", b.tokens, "completion tokens generated")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ttft-ms", b.ttft_ms, "delay before the first byte of a response")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--gap-ms", b.gap_ms, "delay between stream chunks")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--retry-after", b.retry_after_s, "error answers carry Retry-After: this many seconds");
  std::vector<std::string> key_status;
  app.add_option("--key-status", key_status, "KEY=STATUS: requests with this API key get this status (repeatable)");
  app.add_option("--status", b.status, "answer completions with this status and an error body")
      ->capture_default_str()
      ->check(CLI::Range(200, 599));
  app.add_option("--error-rate", b.error_rate, "fraction of completions answered 500")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--hang", b.hang, "accept completions and never answer");
  app.add_option("--drop-after", b.drop_after,
                 "close abruptly after N content chunks (non-stream: after half the body)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--close", b.close, "close the connection right after reading a completion request");
  app.add_option("--loading-ms", options.loading_ms,
                 "answer 503 'Loading model' for this long after start")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  auto* cert = app.add_option("--tls-cert", options.tls_cert, "PEM certificate chain: serve HTTPS")
                   ->check(CLI::ExistingFile);
  auto* key = app.add_option("--tls-key", options.tls_key, "PEM private key for --tls-cert")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);

  try {
    app.parse(argc, argv);
    parse_listen(listen, options);
    options.models_given = model->count() > 0;
    for (const auto& item : key_status) {
      const auto equals = item.rfind('=');
      if (equals == std::string::npos || equals == 0) throw CLI::ValidationError("--key-status", "expects KEY=STATUS");
      options.key_status.emplace_back(item.substr(0, equals), std::stoi(item.substr(equals + 1)));
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (options.models.empty()) {
    options.models.emplace_back("fake-model");
  }

  std::signal(SIGPIPE, SIG_IGN);
  try {
    fake_upstream::Server server(std::move(options));
    std::printf("listening on %s\n", server.url().c_str());
    std::fflush(stdout);
    server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake-upstream: %s\n", e.what());
    return 1;
  }
  return 0;
}

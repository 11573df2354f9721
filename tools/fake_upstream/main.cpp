// fake-upstream: a fast stand-in for the servers behind the gateway, used by tests and benchmarks:
// llama-server (OpenAI-compatible), the Anthropic Messages API and Ollama's native API. Besides
// text it answers tool calls, tool results (quoting them), images (counting them), embeddings and
// Ollama's model endpoints, and rejects what the real servers reject. See docs/fake-upstream.md
// and kEndpoints below.
#include "options.hpp"
#include "server.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
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
)";

}  // namespace

int main(int argc, char** argv) {
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

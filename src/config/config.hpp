// The gateway's configuration as plain structs with their defaults. Built once by the loader and then
// shared read-only (std::shared_ptr<const Config>) by every worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

using Millis = std::chrono::milliseconds;

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 9300;
  unsigned workers = 0;                       // 0: one per core
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  Millis header_timeout{10'000};              // first request's headers
  Millis body_timeout{30'000};                // a request's body, once its headers arrived
  Millis idle_timeout{60'000};                // between requests on a kept-alive connection
  Millis shutdown_grace{30'000};              // SIGTERM: how long in-flight work may take to finish
};

// The wire protocol an upstream speaks. The gateway translates between it and the client's.
enum class UpstreamKind { openai, anthropic, ollama };
std::string_view upstream_kind_name(UpstreamKind kind);  // as written in the config file

struct UpstreamTimeouts {
  Millis connect{5'000};
  Millis first_byte{120'000};   // from request sent to response headers (a cold model can be slow)
  Millis chunk_gap{60'000};     // between two reads of a streamed body
};

struct TlsOptions {
  bool verify = true;
  std::string ca_file;          // empty: the system's trust store
};

// Active health checks: a GET every `interval` that must answer 2xx within `timeout`.
struct HealthCheckConfig {
  bool enabled = true;
  std::string path;             // empty: the kind's default (openai: "/models" under the base URL)
  Millis interval{5'000};
  Millis timeout{2'000};
  unsigned unhealthy_after = 2; // consecutive failed checks that mark the upstream down
  unsigned healthy_after = 1;   // consecutive good checks that bring it back
};

// Passive detection from real traffic: consecutive connect errors, timeouts and 5xx open the circuit;
// after `open` (doubling on each failed probe, up to `max_open`) one request probes it (half-open).
struct CircuitConfig {
  unsigned failures = 5;
  Millis open{1'000};
  Millis max_open{30'000};
};

// One credential of an upstream. Several are rotated; `models`, when not empty, lists the only
// upstream model names this key may be used for.
struct ApiKeyConfig {
  std::string key;              // never logged
  std::vector<std::string> models;
};

enum class KeyRotation { round_robin, least_used };

// What answers at an upstream beyond its protocol, when that tells more: `switchyard` is another
// Switchyard, whose GET /v1/models/status says which of its local models are loaded.
enum class UpstreamNode { plain, switchyard };

struct UpstreamConfig {
  std::string name;
  UpstreamKind kind = UpstreamKind::openai;
  std::string preset;           // the preset it was built from, empty when none
  std::string base_url;         // as that kind's own SDK takes it: openai .../v1, anthropic and ollama the host
  // Parsed from base_url by the loader.
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string path_prefix;      // e.g. "/v1", no trailing slash
  // Sent as Authorization: Bearer (openai, ollama) or x-api-key (anthropic); never logged.
  std::vector<ApiKeyConfig> api_keys;
  KeyRotation key_rotation = KeyRotation::round_robin;
  // Provider quirks: request fields the upstream rejects, and fields it names differently.
  std::vector<std::string> drop_fields;
  std::map<std::string, std::string> rename_fields;
  std::string anthropic_version = "2023-06-01";   // kind anthropic: the API version header
  std::int64_t default_max_tokens = 4096;          // kind anthropic: when the client gave none
  UpstreamTimeouts timeouts;
  TlsOptions tls_options;
  std::size_t max_idle_connections = 256;   // per worker
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  HealthCheckConfig health;
  CircuitConfig circuit;
  UpstreamNode node = UpstreamNode::plain;  // kind openai only
};

struct DeploymentConfig {
  std::string upstream;         // name of an entry in upstreams
  std::string model;            // model name sent upstream
  unsigned weight = 1;          // for the weighted strategy
  unsigned tier = 0;            // 0 first; higher tiers take the overflow
  unsigned capacity = 0;        // requests at once; 0: no limit
  // Ollama upstreams: the context window, sent as options.num_ctx when the client set none. Without
  // it Ollama uses its server default and silently cuts longer prompts.
  unsigned num_ctx = 0;
};

enum class Strategy { round_robin, weighted, least_loaded, latency_based, random };
std::string_view strategy_name(Strategy strategy);  // as written in the config file

struct RetryConfig {
  unsigned max = 2;             // further attempts after the first, each on another deployment
  double budget_ratio = 0.2;    // retries may add at most this share of the alias's requests...
  unsigned budget_min = 10;     // ...plus this many, so a quiet alias can still retry
};

struct QueueConfig {
  std::size_t max_size = 500;
  Millis timeout{30'000};
  Millis overflow_after{250};
};

// llama-server's parameters for one local model (the seed's `params` keys). 0 or empty: llama-server's
// own default, flag not passed.
struct LocalModelParams {
  int n_gpu_layers = 99;          // -ngl; 99: all layers
  unsigned n_ctx = 4096;          // -c; the total, shared by the `parallel` slots
  unsigned parallel = 1;          // -np: requests served at once; the rest wait in the gateway's queue
  std::string flash_attention;    // -fa on|off|auto
  std::string type_k = "f16";     // -ctk
  std::string type_v = "f16";     // -ctv
  bool embedding = false;         // --embedding
  unsigned threads = 0;           // -t
  unsigned batch_size = 0;        // -b
  unsigned ubatch_size = 0;       // -ub
  std::vector<std::string> extra_args;  // passed as they are, last
};

// A model this gateway runs itself, with llama-server, on the local GPUs.
struct LocalModelConfig {
  std::string model_path;         // the GGUF file
  LocalModelParams params;
  Millis load_timeout{300'000};
  bool pinned = false;            // never evicted or idle-unloaded
  std::map<std::string, std::string> env;  // set for its process (on top of the gateway's environment)
  std::uint64_t vram_mib = 0;     // overrides the estimate from the GGUF header when > 0
  std::uint16_t port = 0;         // its loopback port, chosen free when the config is loaded
};

struct ModelConfig {
  std::string alias;
  Strategy strategy = Strategy::round_robin;
  std::vector<DeploymentConfig> deployments;
  RetryConfig retries;
  QueueConfig queue;
  std::optional<LocalModelConfig> local;  // run here; its deployment is the first, upstream "local:<alias>"
};

// Images given by http(s) URL are fetched by the gateway when the upstream needs their bytes (Ollama).
struct ImageFetchConfig {
  std::size_t max_bytes = 20 * 1024 * 1024;
  Millis timeout{10'000};
  bool allow_private_addresses = false;  // loopback and private networks: off, against SSRF
};

// A GPU that tests and demos can have without one: the manager places models on it by its memory.
struct FakeGpuConfig {
  std::string name = "Fake GPU";
  std::uint64_t total_mib = 0;
  std::uint64_t used_mib = 0;     // taken by something else
};

// The local model manager (the seed's `system` keys, so its users feel at home).
struct LocalConfig {
  std::string llama_server_path = "llama-server";
  unsigned max_concurrent_models = 3;
  std::vector<std::string> preload_models;  // aliases, or "*" for all
  std::chrono::seconds idle_timeout{300};   // 0: never unload
  std::vector<unsigned> gpu_devices;        // empty: every GPU found
  double vram_multiplier = 1.1;
  std::string state_dir;                    // logs and pid files; empty: /tmp/switchyard-<uid>
  Millis health_interval{2'000};
  // How long one /health may take: a server busy with long prompts answers late, which is not hung.
  Millis health_timeout{5'000};
  unsigned max_restarts = 3;                // crashes within restart_window before the model is failed
  Millis restart_window{600'000};
  Millis restart_backoff{1'000};            // doubled after each crash
  std::size_t log_max_bytes = 10 * 1024 * 1024;
  std::string nvidia_smi = "nvidia-smi";
  std::vector<FakeGpuConfig> fake_gpus;     // instead of the real GPUs (tests, demos)
};

struct LoggingConfig {
  std::string level = "info";   // trace, debug, info, warn, error, off
};

struct Config {
  std::string source_path;
  ServerConfig server;
  LoggingConfig logging;
  ImageFetchConfig images;
  LocalConfig local;
  std::map<std::string, UpstreamConfig> upstreams;
  std::map<std::string, ModelConfig> models;
};

}  // namespace switchyard

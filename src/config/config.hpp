// The gateway's configuration as plain structs with their defaults. Built once by the loader and then
// shared read-only (std::shared_ptr<const Config>) by every worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
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
};

struct DeploymentConfig {
  std::string upstream;         // name of an entry in upstreams
  std::string model;            // model name sent upstream
  unsigned weight = 1;          // for the weighted strategy
  unsigned tier = 0;            // 0 first; higher tiers take the overflow
  unsigned capacity = 0;        // requests at once; 0: no limit
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

struct ModelConfig {
  std::string alias;
  Strategy strategy = Strategy::round_robin;
  std::vector<DeploymentConfig> deployments;
  RetryConfig retries;
  QueueConfig queue;
};

// Images given by http(s) URL are fetched by the gateway when the upstream needs their bytes (Ollama).
struct ImageFetchConfig {
  std::size_t max_bytes = 20 * 1024 * 1024;
  Millis timeout{10'000};
  bool allow_private_addresses = false;  // loopback and private networks: off, against SSRF
};

struct LoggingConfig {
  std::string level = "info";   // trace, debug, info, warn, error, off
};

struct Config {
  std::string source_path;
  ServerConfig server;
  LoggingConfig logging;
  ImageFetchConfig images;
  std::map<std::string, UpstreamConfig> upstreams;
  std::map<std::string, ModelConfig> models;
};

}  // namespace switchyard

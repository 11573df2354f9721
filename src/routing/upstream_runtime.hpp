// What the gateway knows about an upstream at run time: its config, its TLS context, passive
// health counters and, where the upstream says so, which models it has loaded. One object per
// upstream, shared by all workers; counters are relaxed atomics. The loaded models are written by the
// health checks (worker 0) and read by every worker's router behind a mutex, taken only when the set
// changed since that worker last looked (see `loaded_models_version`).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "routing/api_key_pool.hpp"
#include "core/asio.hpp"

namespace switchyard {

// Which models an upstream reported loaded (Ollama's /api/ps, another Switchyard's
// /v1/models/status). With `complete`, a model not in `loaded` is not loaded (Ollama lists every
// model it has in memory); without it, only those in `unloaded` are known to be off and the rest is
// unknown (a Switchyard lists its local models only; its other aliases go elsewhere).
struct LoadedModels {
  std::vector<std::string> loaded;
  std::vector<std::string> unloaded;
  bool complete = false;
  bool operator==(const LoadedModels&) const = default;
};

enum class ModelLoaded : std::int8_t { no = 0, unknown = 1, yes = 2 };

// Whether `reported` (a name an upstream listed) is `model` (a deployment's model name): the same, or
// the same with Ollama's default tag ":latest" added.
bool same_model(std::string_view reported, std::string_view model);

struct UpstreamRuntime {
  explicit UpstreamRuntime(const UpstreamConfig& config);

  const UpstreamConfig& config;
  std::unique_ptr<ssl::context> tls_context;  // null for http:// upstreams
  ApiKeyPool keys;

  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> failures{0};             // transport failures and 5xx
  std::atomic<std::uint64_t> consecutive_failures{0};
  std::atomic<std::int64_t> last_success_unix_ms{0};
  std::atomic<std::int64_t> last_failure_unix_ms{0};
  // Set by the active health checks (true until they say otherwise, and always when they are off).
  std::atomic<bool> healthy{true};

  // False until the health checks learn which models the upstream has loaded (and again when they
  // cannot tell any more): the routers skip everything below without a lock.
  std::atomic<bool> has_loaded_info{false};
  // Changes whenever the loaded models do; a router keeps its answers until then.
  std::atomic<std::uint64_t> loaded_models_version{0};

  void record_success();
  void record_failure();

  // The health checks: what the upstream reports now (`nullptr`: it cannot tell).
  void set_loaded_models(const LoadedModels* models);
  // Whether `model` is loaded there; `version` is set to the loaded_models_version it answers for.
  ModelLoaded model_loaded(std::string_view model, std::uint64_t& version) const;

 private:
  mutable std::mutex loaded_mutex_;
  LoadedModels loaded_models_;  // meaningful while has_loaded_info
};

}  // namespace switchyard

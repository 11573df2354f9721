// What the gateway knows about an upstream at run time: its config, its TLS context and passive
// health counters. One object per upstream, shared by all workers; counters are relaxed atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "config/config.hpp"
#include "routing/api_key_pool.hpp"
#include "core/asio.hpp"

namespace switchyard {

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

  void record_success();
  void record_failure();
};

}  // namespace switchyard

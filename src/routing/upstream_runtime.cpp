#include "routing/upstream_runtime.hpp"

#include <chrono>
#include <stdexcept>

namespace switchyard {
namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<ssl::context> make_tls_context(const UpstreamConfig& config) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  if (config.tls_options.ca_file.empty()) {
    context->set_default_verify_paths(ec);
  } else {
    context->load_verify_file(config.tls_options.ca_file, ec);
  }
  if (ec)
    throw std::runtime_error("upstreams." + config.name + ".tls: cannot load trusted certificates: " + ec.message());
  return context;
}

}  // namespace

UpstreamRuntime::UpstreamRuntime(const UpstreamConfig& upstream_config) : config(upstream_config), keys(upstream_config) {
  if (config.tls) tls_context = make_tls_context(config);
}

void UpstreamRuntime::record_success() {
  // Stores to these shared fields only when they change (or once per 100 ms for the time), so
  // workers do not bounce their cache line on every request.
  if (consecutive_failures.load(std::memory_order_relaxed) != 0) consecutive_failures.store(0, std::memory_order_relaxed);
  const auto now = unix_ms();
  if (now - last_success_unix_ms.load(std::memory_order_relaxed) >= 100)
    last_success_unix_ms.store(now, std::memory_order_relaxed);
}

void UpstreamRuntime::record_failure() {
  failures.fetch_add(1, std::memory_order_relaxed);
  consecutive_failures.fetch_add(1, std::memory_order_relaxed);
  last_failure_unix_ms.store(unix_ms(), std::memory_order_relaxed);
}

}  // namespace switchyard

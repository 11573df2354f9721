#include "routing/upstream_runtime.hpp"

#include <algorithm>
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

bool same_model(std::string_view reported, std::string_view model) {
  if (reported == model) return true;
  // Ollama names "llama3" as "llama3:latest"; a tag is a ':' after the last '/' (a registry host may
  // carry a port: "host:5000/llama3").
  constexpr std::string_view kLatest = ":latest";
  const auto slash = model.rfind('/');
  if (model.find(':', slash == std::string_view::npos ? 0 : slash) != std::string_view::npos) return false;
  return reported.size() == model.size() + kLatest.size() && reported.starts_with(model) && reported.ends_with(kLatest);
}

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

void UpstreamRuntime::set_loaded_models(const LoadedModels* models) {
  std::lock_guard lock(loaded_mutex_);
  const bool had = has_loaded_info.load(std::memory_order_relaxed);
  if (!models) {
    if (!had) return;
    loaded_models_ = {};
    has_loaded_info.store(false, std::memory_order_relaxed);
  } else {
    if (had && loaded_models_ == *models) return;
    loaded_models_ = *models;
    has_loaded_info.store(true, std::memory_order_relaxed);
  }
  loaded_models_version.fetch_add(1, std::memory_order_release);
}

ModelLoaded UpstreamRuntime::model_loaded(std::string_view model, std::uint64_t& version) const {
  std::lock_guard lock(loaded_mutex_);
  version = loaded_models_version.load(std::memory_order_relaxed);
  if (!has_loaded_info.load(std::memory_order_relaxed)) return ModelLoaded::unknown;
  const auto matches = [&](const std::string& name) { return same_model(name, model); };
  if (std::any_of(loaded_models_.loaded.begin(), loaded_models_.loaded.end(), matches)) return ModelLoaded::yes;
  if (loaded_models_.complete) return ModelLoaded::no;
  if (std::any_of(loaded_models_.unloaded.begin(), loaded_models_.unloaded.end(), matches)) return ModelLoaded::no;
  return ModelLoaded::unknown;
}

}  // namespace switchyard

// State shared by every worker thread: the immutable config and route table, upstream run-time
// counters, metrics, and the draining flag. Built on the main thread before the workers start.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "local/model_manager.hpp"
#include "routing/route_table.hpp"
#include "routing/upstream_runtime.hpp"
#include "telemetry/metrics.hpp"

namespace switchyard {

class GatewayState {
 public:
  GatewayState(std::shared_ptr<const Config> config, unsigned workers);

  const Config& config() const { return *config_; }
  const RouteTable& routes() const { return *routes_; }
  const std::map<std::string, std::unique_ptr<UpstreamRuntime>, std::less<>>& upstreams() const { return upstreams_; }
  Metrics& metrics() { return metrics_; }
  // The local models' manager (empty when the config has none).
  ModelManager& local_models() { return *local_models_; }

  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  void start_draining() { draining_.store(true, std::memory_order_relaxed); }
  std::chrono::system_clock::time_point started_at() const { return started_at_; }

 private:
  std::shared_ptr<const Config> config_;
  std::map<std::string, std::unique_ptr<UpstreamRuntime>, std::less<>> upstreams_;
  std::unique_ptr<RouteTable> routes_;
  std::unique_ptr<ModelManager> local_models_;
  Metrics metrics_;
  std::atomic<bool> draining_{false};
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
};

}  // namespace switchyard

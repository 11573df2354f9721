// Alias -> deployments, resolved against the upstreams once at start-up, with the state every worker
// shares about each deployment (in flight, latency, circuit) and each alias (retry budget). The table
// itself is immutable after start-up and shared by all workers; the states are atomics.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "routing/admission_queue.hpp"
#include "routing/deployment_state.hpp"
#include "routing/retry_budget.hpp"
#include "routing/upstream_runtime.hpp"

namespace switchyard {

class LocalModel;

struct Deployment {
  const DeploymentConfig* config;
  UpstreamRuntime* upstream;
  std::string name;        // reported in X-Routed-Node and metrics: the upstream's name
  std::string model_json;  // config->model as a JSON string literal, for request rewrites
  DeploymentState* state;  // owned by the Route
  std::size_t index;       // in Route::deployments
  const LocalModel* local = nullptr;  // a model this gateway runs itself (local/model_manager)
};

struct Route {
  std::string alias;
  std::string alias_json;  // the alias as a JSON string literal, quotes included, for response rewrites
  const ModelConfig* config;
  std::size_t index;       // in RouteTable order, for per-worker router state
  std::vector<Deployment> deployments;
  std::vector<unsigned> tiers;  // the distinct tiers, lowest first
  std::vector<std::unique_ptr<DeploymentState>> states;
  std::unique_ptr<RetryBudget> retry_budget;
  std::unique_ptr<AdmissionQueue> queue;
  const LocalModel* local = nullptr;  // the alias's local model, if it has one
};

class RouteTable {
 public:
  RouteTable(const Config& config, std::map<std::string, std::unique_ptr<UpstreamRuntime>, std::less<>>& upstreams);

  const Route* find(std::string_view alias) const;
  // Before the table is shared: ties the alias's deployment on `upstream` to its local model.
  void attach_local(std::string_view alias, const UpstreamRuntime* upstream, const LocalModel* model);
  const std::vector<std::string>& aliases() const { return aliases_; }
  std::size_t size() const { return routes_.size(); }
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (const auto& [alias, route] : routes_) visit(route);
  }

 private:
  std::map<std::string, Route, std::less<>> routes_;
  std::vector<std::string> aliases_;
};

}  // namespace switchyard

// Alias -> deployments, resolved against the upstreams once at start-up. Immutable afterwards and
// shared by all workers. Choosing among several deployments is the router's job (round robin for now;
// strategies, tiers and health come with the routing work).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "routing/upstream_runtime.hpp"

namespace switchyard {

struct Deployment {
  const DeploymentConfig* config;
  UpstreamRuntime* upstream;
  std::string name;  // reported in X-Routed-Node and metrics: the upstream's name
  std::string model_json;  // config->model as a JSON string literal, for request rewrites
};

struct Route {
  std::string alias;
  std::string alias_json;  // the alias as a JSON string literal, quotes included, for response rewrites
  std::vector<Deployment> deployments;
};

class RouteTable {
 public:
  RouteTable(const Config& config, std::map<std::string, std::unique_ptr<UpstreamRuntime>, std::less<>>& upstreams);

  const Route* find(std::string_view alias) const;
  const std::vector<std::string>& aliases() const { return aliases_; }

 private:
  std::map<std::string, Route, std::less<>> routes_;
  std::vector<std::string> aliases_;
};

// Per-worker cursor over a route's deployments (no shared state, no locks).
class RoundRobin {
 public:
  const Deployment& pick(const Route& route) { return route.deployments[next_++ % route.deployments.size()]; }

 private:
  std::size_t next_ = 0;
};

}  // namespace switchyard

// A config with one alias over `n` upstreams gpu0, gpu1, ... (127.0.0.1:9000 + i) and the route
// table built from it, for the router's unit tests. `shape(i, deployment)` sets what a test varies
// (model, weight, tier, capacity).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "routing/route_table.hpp"

namespace switchyard {

struct RouteFixture {
  RouteFixture(std::size_t n, Strategy strategy, const std::string& alias,
               const std::function<void(std::size_t, DeploymentConfig&)>& shape) {
    for (std::size_t i = 0; i < n; ++i) {
      UpstreamConfig up;
      up.name = "gpu" + std::to_string(i);
      up.host = "127.0.0.1";
      up.port = static_cast<std::uint16_t>(9000 + i);
      config.upstreams.emplace(up.name, up);
    }
    ModelConfig model;
    model.alias = alias;
    model.strategy = strategy;
    for (std::size_t i = 0; i < n; ++i) {
      DeploymentConfig d;
      d.upstream = "gpu" + std::to_string(i);
      shape(i, d);
      model.deployments.push_back(d);
    }
    config.models.emplace(alias, model);
    for (const auto& [name, up] : config.upstreams) runtimes.emplace(name, std::make_unique<UpstreamRuntime>(up));
    table = std::make_unique<RouteTable>(config, runtimes);
    route = table->find(alias);
  }

  Config config;
  std::map<std::string, std::unique_ptr<UpstreamRuntime>, std::less<>> runtimes;
  std::unique_ptr<RouteTable> table;
  const Route* route = nullptr;
};

}  // namespace switchyard

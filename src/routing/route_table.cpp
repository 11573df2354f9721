#include "routing/route_table.hpp"

#include <algorithm>

#include "protocol/openai_body.hpp"

namespace switchyard {

RouteTable::RouteTable(const Config& config,
                       std::map<std::string, std::unique_ptr<UpstreamRuntime>, std::less<>>& upstreams) {
  std::size_t index = 0;
  for (const auto& [alias, model] : config.models) {
    Route route;
    route.alias = alias;
    append_json_string(route.alias_json, alias);
    route.config = &model;
    route.index = index++;
    route.retry_budget = std::make_unique<RetryBudget>(model.retries);
    route.queue = std::make_unique<AdmissionQueue>(model.queue);
    for (const auto& deployment : model.deployments) {
      auto& upstream = upstreams.at(deployment.upstream);
      route.states.push_back(std::make_unique<DeploymentState>(upstream->config.circuit));
      auto& added = route.deployments.emplace_back(Deployment{&deployment, upstream.get(), deployment.upstream, {},
                                                              route.states.back().get(), route.deployments.size()});
      append_json_string(added.model_json, deployment.model);
      route.tiers.push_back(deployment.tier);
    }
    std::sort(route.tiers.begin(), route.tiers.end());
    route.tiers.erase(std::unique(route.tiers.begin(), route.tiers.end()), route.tiers.end());
    routes_.emplace(alias, std::move(route));
    aliases_.push_back(alias);
  }
}

const Route* RouteTable::find(std::string_view alias) const {
  auto it = routes_.find(alias);
  return it == routes_.end() ? nullptr : &it->second;
}

void RouteTable::attach_local(std::string_view alias, const UpstreamRuntime* upstream, const LocalModel* model) {
  const auto it = routes_.find(alias);
  if (it == routes_.end()) return;
  it->second.local = model;
  for (auto& deployment : it->second.deployments)
    if (deployment.upstream == upstream) deployment.local = model;
}

}  // namespace switchyard

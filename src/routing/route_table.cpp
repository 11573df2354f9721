#include "routing/route_table.hpp"

#include "protocol/openai_body.hpp"

namespace switchyard {

RouteTable::RouteTable(const Config& config,
                       std::map<std::string, std::unique_ptr<UpstreamRuntime>, std::less<>>& upstreams) {
  for (const auto& [alias, model] : config.models) {
    Route route;
    route.alias = alias;
    append_json_string(route.alias_json, alias);
    for (const auto& deployment : model.deployments) {
      auto& upstream = upstreams.at(deployment.upstream);
      auto& added = route.deployments.emplace_back(Deployment{&deployment, upstream.get(), deployment.upstream, {}});
      append_json_string(added.model_json, deployment.model);
    }
    routes_.emplace(alias, std::move(route));
    aliases_.push_back(alias);
  }
}

const Route* RouteTable::find(std::string_view alias) const {
  auto it = routes_.find(alias);
  return it == routes_.end() ? nullptr : &it->second;
}

}  // namespace switchyard

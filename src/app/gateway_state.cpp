#include "app/gateway_state.hpp"

namespace switchyard {

GatewayState::GatewayState(std::shared_ptr<const Config> config, unsigned workers)
    : config_(std::move(config)), metrics_(workers) {
  for (const auto& [name, upstream] : config_->upstreams)
    upstreams_.emplace(name, std::make_unique<UpstreamRuntime>(upstream));
  routes_ = std::make_unique<RouteTable>(*config_, upstreams_);
  local_models_ = std::make_unique<ModelManager>(*config_, *routes_, upstreams_);
  for (const auto& [alias, model] : config_->models) {
    if (!model.local) continue;
    const auto upstream = upstreams_.find("local:" + alias);
    routes_->attach_local(alias, upstream->second.get(), local_models_->find(alias));
  }
}

}  // namespace switchyard

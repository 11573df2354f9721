#include "app/gateway_state.hpp"

namespace switchyard {

GatewayState::GatewayState(std::shared_ptr<const Config> config, unsigned workers)
    : config_(std::move(config)), metrics_(workers) {
  for (const auto& [name, upstream] : config_->upstreams)
    upstreams_.emplace(name, std::make_unique<UpstreamRuntime>(upstream));
  routes_ = std::make_unique<RouteTable>(*config_, upstreams_);
}

}  // namespace switchyard

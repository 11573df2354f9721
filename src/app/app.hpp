// The running gateway: builds shared state from a config, starts the workers, waits for SIGTERM or
// SIGINT and drains. Lives on the main thread.
#pragma once

#include <memory>
#include <vector>

#include "app/gateway_state.hpp"
#include "app/worker.hpp"

namespace switchyard {

class App {
 public:
  explicit App(std::shared_ptr<const Config> config);
  ~App();

  // Binds the listening port on every worker and starts their threads. Returns the bound port.
  std::uint16_t start();
  // Blocks until SIGTERM/SIGINT, then drains (up to server.shutdown_grace) and stops. Returns the
  // process exit code.
  int run_until_signal();

 private:
  void drain_and_stop();

  std::unique_ptr<GatewayState> state_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace switchyard

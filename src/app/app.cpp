#include "app/app.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <thread>

namespace switchyard {
namespace {

unsigned worker_count(const Config& config) {
  if (config.server.workers > 0) return config.server.workers;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

App::App(std::shared_ptr<const Config> config) {
  const auto workers = worker_count(*config);
  state_ = std::make_unique<GatewayState>(std::move(config), workers);
  for (unsigned i = 0; i < workers; ++i) workers_.push_back(std::make_unique<Worker>(i, *state_));
}

App::~App() {
  for (auto& worker : workers_) worker->stop();
  state_->local_models().stop();
}

std::uint16_t App::start() {
  // Signals are taken by run_until_signal() on this thread only; workers inherit the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const auto& server = state_->config().server;
  tcp::endpoint endpoint(asio::ip::make_address(server.listen_host), server.listen_port);
  std::uint16_t port = 0;
  for (auto& worker : workers_) {
    // With port 0 the first worker picks the port and the others share it.
    port = worker->listen(endpoint);
    endpoint.port(port);
  }
  for (auto& worker : workers_) worker->start();
  state_->local_models().start();
  return port;
}

int App::run_until_signal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("received {}, draining (up to {} ms)", received == SIGTERM ? "SIGTERM" : "SIGINT",
               state_->config().server.shutdown_grace.count());
  drain_and_stop();
  return 0;
}

void App::drain_and_stop() {
  state_->start_draining();
  for (auto& worker : workers_) worker->begin_drain();
  const auto deadline = std::chrono::steady_clock::now() + state_->config().server.shutdown_grace;
  for (;;) {
    std::size_t open = 0;
    for (const auto& worker : workers_) open += worker->open_sessions();
    if (open == 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("shutdown grace period over with {} connection(s) still open; closing them", open);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& worker : workers_) worker->stop();
  state_->local_models().stop();
  spdlog::info("stopped");
}

}  // namespace switchyard

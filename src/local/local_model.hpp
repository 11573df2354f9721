// One model the gateway runs itself: what workers may read and ask of it. Its state changes only on
// the model manager's thread; workers read the atomics (is it ready, may it be loaded, did a load of
// it get refused) and ask for a load through want(), which posts to the manager. The strings behind
// the mutex (failure reason, GPU name) are read for error messages and status pages only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "config/config.hpp"

namespace switchyard {

struct Route;
struct UpstreamRuntime;

enum class LocalState : std::uint8_t {
  off,       // no process
  starting,  // process started, its HTTP listener not up yet (connection refused)
  loading,   // listening, answering 503 while it loads the weights
  ready,     // /health answered 200: requests go to it
  stopping,  // being stopped (eject, eviction, idle, shutdown)
  failed,    // gave up: early exit, load timeout or crashes; POST /v1/models/{alias}/reset clears it
};
const char* local_state_name(LocalState state);

class LocalModel {
 public:
  using Clock = std::chrono::steady_clock;

  LocalModel(std::string alias, const LocalModelConfig& config, UpstreamRuntime& upstream)
      : alias_(std::move(alias)), config_(config), upstream_(upstream) {}

  const std::string& alias() const { return alias_; }
  const LocalModelConfig& config() const { return config_; }
  UpstreamRuntime& upstream() const { return upstream_; }
  const Route* route() const { return route_; }

  LocalState state() const { return state_.load(std::memory_order_acquire); }
  // A request may wait for it: off (it will be started) or on its way up; not for a while after a
  // load was refused (no memory, every model busy), so requests go elsewhere or get the reason.
  bool loadable() const {
    const auto s = state();
    if (s == LocalState::off && Clock::now().time_since_epoch().count() < refused_until_ns_.load(std::memory_order_relaxed))
      return false;
    return s == LocalState::off || s == LocalState::starting || s == LocalState::loading || s == LocalState::stopping;
  }
  // Asks the manager to load it (any thread; several asks start one process).
  void want() const {
    if (state() != LocalState::ready && request_load_) request_load_(const_cast<LocalModel&>(*this));
  }
  void touch() const { last_used_ns_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed); }
  Clock::time_point last_used() const { return Clock::time_point(Clock::duration(last_used_ns_.load(std::memory_order_relaxed))); }
  // Bumped each time a load is refused (not enough memory, every slot busy) or fails, so waiting
  // requests can tell their wait is over.
  std::uint64_t refusals() const { return refusals_.load(std::memory_order_acquire); }
  // While starting or loading: when the load must be done by.
  Clock::time_point load_deadline() const { return Clock::time_point(Clock::duration(load_deadline_ns_.load(std::memory_order_relaxed))); }
  std::string last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
  }

 private:
  friend class ModelManager;

  std::string alias_;
  const LocalModelConfig& config_;
  UpstreamRuntime& upstream_;
  const Route* route_ = nullptr;
  std::function<void(LocalModel&)> request_load_;

  std::atomic<LocalState> state_{LocalState::off};
  mutable std::atomic<Clock::rep> last_used_ns_{0};
  std::atomic<std::uint64_t> refusals_{0};
  std::atomic<Clock::rep> refused_until_ns_{0};
  std::atomic<Clock::rep> load_deadline_ns_{0};
  mutable std::mutex mutex_;
  std::string last_error_;  // guarded by mutex_
};

}  // namespace switchyard

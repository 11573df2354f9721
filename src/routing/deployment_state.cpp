#include "routing/deployment_state.hpp"

#include <algorithm>

namespace switchyard {
namespace {

constexpr double kEwmaWeight = 0.2;  // of the newest sample: reacts within a handful of requests

double blend(double average, double sample) {
  return average == 0 ? sample : average + kEwmaWeight * (sample - average);
}

}  // namespace

bool DeploymentState::admit(Clock::time_point now) {
  auto state = state_.load(std::memory_order_relaxed);
  if (state == CircuitState::closed) return true;
  if (state == CircuitState::half_open) return false;  // its probe is out
  if (ticks(now) < open_until_.load(std::memory_order_relaxed)) return false;
  // Time is up: whoever turns it half-open carries the probe.
  return state_.compare_exchange_strong(state, CircuitState::half_open, std::memory_order_relaxed);
}

bool DeploymentState::may_admit(Clock::time_point now) const {
  const auto state = state_.load(std::memory_order_relaxed);
  if (state == CircuitState::closed) return true;
  return state == CircuitState::open && ticks(now) >= open_until_.load(std::memory_order_relaxed);
}

void DeploymentState::succeeded() {
  // Written only when they change: every worker succeeds on every request, and stores to a shared
  // cache line that did not change would still bounce it between cores.
  if (failures_.load(std::memory_order_relaxed) != 0) failures_.store(0, std::memory_order_relaxed);
  if (open_for_ms_.load(std::memory_order_relaxed) != 0) open_for_ms_.store(0, std::memory_order_relaxed);
  if (state_.load(std::memory_order_relaxed) != CircuitState::closed)
    state_.store(CircuitState::closed, std::memory_order_relaxed);
}

void DeploymentState::failed(Clock::time_point now) {
  errors.fetch_add(1, std::memory_order_relaxed);
  const auto failures = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  const auto state = state_.load(std::memory_order_relaxed);
  if (state == CircuitState::closed && failures < circuit_.failures) return;
  // Open (again): a failed probe doubles the back-off, up to the cap.
  const auto previous = open_for_ms_.load(std::memory_order_relaxed);
  const auto open_for = state == CircuitState::half_open
                            ? std::min<std::int64_t>(std::max<std::int64_t>(previous, circuit_.open.count()) * 2,
                                                     circuit_.max_open.count())
                            : std::max<std::int64_t>(previous, circuit_.open.count());
  open_for_ms_.store(open_for, std::memory_order_relaxed);
  open_until_.store(ticks(now + std::chrono::milliseconds(open_for)), std::memory_order_relaxed);
  state_.store(CircuitState::open, std::memory_order_relaxed);
}

void DeploymentState::abandoned() {
  auto expected = CircuitState::half_open;
  state_.compare_exchange_strong(expected, CircuitState::open, std::memory_order_relaxed);  // open_until has passed
}

void DeploymentState::cool_down_until(Clock::time_point until) {
  auto current = cool_down_until_.load(std::memory_order_relaxed);
  while (current < ticks(until) &&
         !cool_down_until_.compare_exchange_weak(current, ticks(until), std::memory_order_relaxed)) {
  }
}

bool DeploymentState::cooling_down(Clock::time_point now) const {
  return ticks(now) < cool_down_until_.load(std::memory_order_relaxed);
}

void DeploymentState::record_latency(double ttft_us, double total_us, Clock::time_point now) {
  // Racing updates from two workers may lose one sample; an average that steers load can afford it.
  ewma_ttft_us_.store(blend(ewma_ttft_us_.load(std::memory_order_relaxed), ttft_us), std::memory_order_relaxed);
  ewma_latency_us_.store(blend(ewma_latency_us_.load(std::memory_order_relaxed), total_us), std::memory_order_relaxed);
  samples_.fetch_add(1, std::memory_order_relaxed);
  last_sample_.store(ticks(now), std::memory_order_relaxed);
}

}  // namespace switchyard

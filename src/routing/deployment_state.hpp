// What every worker knows about one deployment right now: requests in flight, latency averages, the
// circuit breaker and a Retry-After cool-down. One per deployment, shared by all workers, so atomics
// only (relaxed: these steer load, they do not guard memory). Owned by the RouteTable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "config/config.hpp"

namespace switchyard {

enum class CircuitState : std::uint8_t { closed, open, half_open };

class DeploymentState {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DeploymentState(const CircuitConfig& circuit) : circuit_(circuit) {}

  // Requests being served right now, by all workers. Taken with try_acquire (which keeps it at or
  // below a capacity other than 0) and given back with release.
  std::atomic<std::uint32_t> in_flight{0};
  bool try_acquire(std::uint32_t capacity) {
    auto current = in_flight.load(std::memory_order_relaxed);
    do {
      if (capacity != 0 && current >= capacity) return false;
    } while (!in_flight.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
    return true;
  }
  void release() { in_flight.fetch_sub(1, std::memory_order_relaxed); }

  // --- circuit breaker ---
  // Whether this deployment may take a request now. Open turns half-open once its time is up, and
  // then exactly one caller gets `true` (the probe) until the probe reports back.
  bool admit(Clock::time_point now);
  // What admit() would say, without claiming the probe.
  bool may_admit(Clock::time_point now) const;
  // Outcome of a request admitted above. A probe that could not tell (the client left) is abandoned:
  // the next request probes again.
  void succeeded();
  void failed(Clock::time_point now);
  void abandoned();
  CircuitState circuit() const { return state_.load(std::memory_order_relaxed); }
  std::uint32_t consecutive_failures() const { return failures_.load(std::memory_order_relaxed); }

  // --- Retry-After ---
  void cool_down_until(Clock::time_point until);
  bool cooling_down(Clock::time_point now) const;

  // --- latency (microseconds; 0 until the first sample) ---
  void record_latency(double ttft_us, double total_us, Clock::time_point now);
  double ewma_ttft_us() const { return ewma_ttft_us_.load(std::memory_order_relaxed); }
  double ewma_latency_us() const { return ewma_latency_us_.load(std::memory_order_relaxed); }
  std::uint64_t samples() const { return samples_.load(std::memory_order_relaxed); }
  Clock::time_point last_sample() const { return Clock::time_point(Clock::duration(last_sample_.load(std::memory_order_relaxed))); }

  // Counters for /stats.
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};

 private:
  static std::int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

  const CircuitConfig& circuit_;
  std::atomic<CircuitState> state_{CircuitState::closed};
  std::atomic<std::uint32_t> failures_{0};
  std::atomic<std::int64_t> open_until_{0};     // steady clock ticks
  std::atomic<std::int64_t> open_for_ms_{0};    // the current back-off
  std::atomic<std::int64_t> cool_down_until_{0};
  std::atomic<double> ewma_ttft_us_{0};
  std::atomic<double> ewma_latency_us_{0};
  std::atomic<std::uint64_t> samples_{0};
  std::atomic<std::int64_t> last_sample_{0};
};

}  // namespace switchyard

// Keeps retries from multiplying load when an upstream is down: every request of an alias earns a
// fraction of a retry (budget_percent), every retry spends a whole one, and a small reserve
// (budget_min) lets a quiet alias retry at all. The Finagle/Envoy idea, as one atomic per alias.
// Shared by all workers.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "config/config.hpp"

namespace switchyard {

class RetryBudget {
 public:
  explicit RetryBudget(const RetryConfig& config)
      : earn_(static_cast<std::int64_t>(config.budget_ratio * kOne)),
        cap_((static_cast<std::int64_t>(config.budget_min) + 10) * kOne),
        tokens_(static_cast<std::int64_t>(config.budget_min) * kOne) {}

  void on_requests(unsigned count) {
    const auto earned = earn_ * static_cast<std::int64_t>(count);
    auto current = tokens_.load(std::memory_order_relaxed);
    while (current < cap_ && !tokens_.compare_exchange_weak(current, std::min(current + earned, cap_),
                                                            std::memory_order_relaxed)) {
    }
  }

  // Takes one retry from the budget; false when it is spent.
  bool try_spend() {
    auto current = tokens_.load(std::memory_order_relaxed);
    while (current >= kOne) {
      if (tokens_.compare_exchange_weak(current, current - kOne, std::memory_order_relaxed)) return true;
    }
    return false;
  }

  double available() const { return static_cast<double>(tokens_.load(std::memory_order_relaxed)) / kOne; }

 private:
  static constexpr std::int64_t kOne = 1000;  // thousandths of a retry
  const std::int64_t earn_;
  const std::int64_t cap_;
  std::atomic<std::int64_t> tokens_;
};

}  // namespace switchyard

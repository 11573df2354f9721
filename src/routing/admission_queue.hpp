// The waiting line of one alias for when every deployment that could serve it is full. Three
// priority classes (X-Request-Priority: high, normal, low), first come first served within a class,
// and aging: a waiter's place is its arrival time plus a handicap per class (normal 2 s, low 4 s), so
// a low-priority request that has waited long enough goes before fresh high-priority ones and never
// starves. Only the waiter at the head may take a freed slot; when one frees, the head is woken on
// its own worker. Shared by all workers: one mutex, held for list operations only.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "config/config.hpp"
#include "core/asio.hpp"

namespace switchyard {

enum class Priority : std::uint8_t { high, normal, low };

// "high", "normal" or "low" (any case); anything else is normal.
Priority parse_priority(std::string_view header);
std::string_view priority_name(Priority priority);

class AdmissionQueue {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kAgingStep = std::chrono::seconds(2);

  // One waiting request. Its timer lives on the waiter's worker; wake() is posted there.
  struct Ticket {
    Ticket(const asio::any_io_executor& executor, Priority priority, Clock::time_point now)
        : timer(executor), priority(priority), enqueued(now), place(now + kAgingStep * static_cast<int>(priority)) {}
    asio::steady_timer timer;
    const Priority priority;
    const Clock::time_point enqueued;
    const Clock::time_point place;  // ordering key: earlier goes first
    std::uint64_t sequence = 0;     // ties
    bool woken = false;             // set on the waiter's own worker, so no race with its wait
  };

  explicit AdmissionQueue(const QueueConfig& config) : config_(config) {}

  // Joins the line; null when it is full (the caller answers 429).
  std::shared_ptr<Ticket> join(const asio::any_io_executor& executor, Priority priority);
  // Leaves it: served, timed out, or the client left. Wakes the next head if this one was it.
  void leave(const std::shared_ptr<Ticket>& ticket, Clock::duration waited, bool served);
  bool is_head(const Ticket& ticket) const;
  bool empty() const { return size_.load(std::memory_order_relaxed) == 0; }
  // A slot freed somewhere: wake the head so it tries again.
  void notify();

  struct ClassStats {
    std::size_t depth = 0;
    std::uint64_t served = 0;
    std::uint64_t rejected_full = 0;
    std::uint64_t timed_out = 0;
    std::uint64_t abandoned = 0;
    std::vector<double> recent_waits_ms;  // last waits of served requests, for percentiles
  };
  std::array<ClassStats, 3> stats() const;
  void count_timeout(Priority priority);
  void count_abandoned(Priority priority);

  const QueueConfig& config() const { return config_; }

 private:
  struct Order {
    bool operator()(const std::shared_ptr<Ticket>& a, const std::shared_ptr<Ticket>& b) const {
      return a->place != b->place ? a->place < b->place : a->sequence < b->sequence;
    }
  };
  void wake_head_locked();

  const QueueConfig& config_;
  mutable std::mutex mutex_;
  std::set<std::shared_ptr<Ticket>, Order> waiting_;
  std::uint64_t next_sequence_ = 0;
  std::atomic<std::size_t> size_{0};  // read without the lock on every request
  std::array<ClassStats, 3> stats_;
};

}  // namespace switchyard

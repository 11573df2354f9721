// The credentials of one upstream and what the gateway learnt about each: a key answered with 429
// cools down for its Retry-After, one answered with 401/403 is disabled (and shown in /health).
// Keys are handed out round robin or least used, honouring per-key model allowlists. One pool per
// upstream, shared by all workers: the per-key state is relaxed atomics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace switchyard {

class ApiKeyPool {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kNoKey = -1;

  explicit ApiKeyPool(const UpstreamConfig& config);

  bool empty() const { return keys_.empty(); }
  // A usable key for `model` (the upstream's model name), counted in use until release();
  // kNoKey when every allowed key is cooling down or disabled, or none allows the model.
  int acquire(std::string_view model, Clock::time_point now);
  void release(int key);
  const std::string& secret(int key) const { return config_.api_keys[static_cast<std::size_t>(key)].key; }

  void cool_down(int key, Clock::time_point until);
  void disable(int key, int status);
  // Why acquire() found nothing, for the client's error message.
  std::string unavailable_reason(std::string_view model, Clock::time_point now) const;

  struct KeyStatus {
    std::string label;       // "key 1 (...abcd)": the last four characters only, never the key
    std::string state;       // ok, cooling_down, disabled
    int disabled_status = 0; // 401 or 403
    std::int64_t in_flight = 0;
    std::uint64_t uses = 0;
  };
  std::vector<KeyStatus> status(Clock::time_point now) const;

 private:
  struct KeyState {
    std::atomic<std::int64_t> cool_until_ns{0};  // Clock ticks since epoch
    std::atomic<int> disabled_status{0};
    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::uint64_t> uses{0};
  };
  bool usable(std::size_t key, std::string_view model, Clock::time_point now) const;

  const UpstreamConfig& config_;
  std::vector<std::unique_ptr<KeyState>> keys_;
  std::atomic<std::uint64_t> cursor_{0};
};

}  // namespace switchyard

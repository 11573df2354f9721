#include "routing/api_key_pool.hpp"

#include <algorithm>

namespace switchyard {

ApiKeyPool::ApiKeyPool(const UpstreamConfig& config) : config_(config) {
  for (std::size_t i = 0; i < config.api_keys.size(); ++i) keys_.push_back(std::make_unique<KeyState>());
}

bool ApiKeyPool::usable(std::size_t key, std::string_view model, Clock::time_point now) const {
  const auto& state = *keys_[key];
  if (state.disabled_status.load(std::memory_order_relaxed) != 0) return false;
  if (state.cool_until_ns.load(std::memory_order_relaxed) > now.time_since_epoch().count()) return false;
  const auto& allowed = config_.api_keys[key].models;
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), model) != allowed.end();
}

int ApiKeyPool::acquire(std::string_view model, Clock::time_point now) {
  const std::size_t count = keys_.size();
  if (count == 0) return kNoKey;
  int chosen = kNoKey;
  if (config_.key_rotation == KeyRotation::round_robin) {
    const auto start = cursor_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < count && chosen == kNoKey; ++i) {
      const auto key = (start + i) % count;
      if (usable(key, model, now)) chosen = static_cast<int>(key);
    }
  } else {
    // Fewest requests in flight, then fewest uses overall: spreads load and quota alike.
    for (std::size_t key = 0; key < count; ++key) {
      if (!usable(key, model, now)) continue;
      if (chosen == kNoKey) {
        chosen = static_cast<int>(key);
        continue;
      }
      const auto& best = *keys_[static_cast<std::size_t>(chosen)];
      const auto& candidate = *keys_[key];
      const auto best_busy = best.in_flight.load(std::memory_order_relaxed);
      const auto busy = candidate.in_flight.load(std::memory_order_relaxed);
      if (busy < best_busy ||
          (busy == best_busy && candidate.uses.load(std::memory_order_relaxed) < best.uses.load(std::memory_order_relaxed)))
        chosen = static_cast<int>(key);
    }
  }
  if (chosen != kNoKey) {
    auto& state = *keys_[static_cast<std::size_t>(chosen)];
    state.in_flight.fetch_add(1, std::memory_order_relaxed);
    state.uses.fetch_add(1, std::memory_order_relaxed);
  }
  return chosen;
}

void ApiKeyPool::release(int key) {
  if (key != kNoKey) keys_[static_cast<std::size_t>(key)]->in_flight.fetch_sub(1, std::memory_order_relaxed);
}

void ApiKeyPool::cool_down(int key, Clock::time_point until) {
  if (key == kNoKey) return;
  auto& cool = keys_[static_cast<std::size_t>(key)]->cool_until_ns;
  const auto ticks = until.time_since_epoch().count();
  auto current = cool.load(std::memory_order_relaxed);
  while (current < ticks && !cool.compare_exchange_weak(current, ticks, std::memory_order_relaxed)) {
  }
}

void ApiKeyPool::disable(int key, int status) {
  if (key != kNoKey) keys_[static_cast<std::size_t>(key)]->disabled_status.store(status, std::memory_order_relaxed);
}

std::string ApiKeyPool::unavailable_reason(std::string_view model, Clock::time_point now) const {
  std::size_t allowed = 0, disabled = 0, cooling = 0;
  for (std::size_t key = 0; key < keys_.size(); ++key) {
    const auto& models = config_.api_keys[key].models;
    if (!models.empty() && std::find(models.begin(), models.end(), model) == models.end()) continue;
    ++allowed;
    if (keys_[key]->disabled_status.load(std::memory_order_relaxed) != 0) {
      ++disabled;
    } else if (keys_[key]->cool_until_ns.load(std::memory_order_relaxed) > now.time_since_epoch().count()) {
      ++cooling;
    }
  }
  if (allowed == 0) return "no API key of upstream '" + config_.name + "' may be used for model `" + std::string(model) + "`";
  return "every API key of upstream '" + config_.name + "' is unavailable (" + std::to_string(cooling) +
         " cooling down after 429, " + std::to_string(disabled) + " disabled after 401/403)";
}

std::vector<ApiKeyPool::KeyStatus> ApiKeyPool::status(Clock::time_point now) const {
  std::vector<KeyStatus> out;
  for (std::size_t key = 0; key < keys_.size(); ++key) {
    const auto& secret = config_.api_keys[key].key;
    const auto& state = *keys_[key];
    KeyStatus s;
    s.label = "key " + std::to_string(key + 1) +
              (secret.size() >= 12 ? " (..." + secret.substr(secret.size() - 4) + ")" : std::string());
    s.disabled_status = state.disabled_status.load(std::memory_order_relaxed);
    s.state = s.disabled_status != 0 ? "disabled"
              : state.cool_until_ns.load(std::memory_order_relaxed) > now.time_since_epoch().count() ? "cooling_down"
                                                                                                     : "ok";
    s.in_flight = state.in_flight.load(std::memory_order_relaxed);
    s.uses = state.uses.load(std::memory_order_relaxed);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace switchyard

// Lock-free-on-the-hot-path metric cells. Each worker thread owns one shard per family and is its only
// writer; the /metrics scrape (any thread) reads every shard under the shard's mutex, which the owner
// takes only to insert a label combination it has not seen before.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchyard {

// Single-writer increment: a plain load and store, no locked instruction.
inline void bump(std::atomic<std::uint64_t>& cell, std::uint64_t by = 1) {
  cell.store(cell.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct HistogramCell {
  explicit HistogramCell(std::size_t buckets) : counts(buckets + 1) {}
  std::vector<std::atomic<std::uint64_t>> counts;  // per bucket, last one is +Inf
  std::atomic<std::uint64_t> sum_ns{0};
};

// Cells of one metric family on one worker, keyed by the label values joined with '\x1f'.
template <typename Cell>
class ShardedFamily {
 public:
  template <typename... Args>
  Cell& at(std::string_view key, Args&&... cell_args) {
    if (auto it = cells_.find(key); it != cells_.end()) return *it->second;
    std::lock_guard lock(mutex_);
    auto [it, _] = cells_.emplace(std::string(key), std::make_unique<Cell>(std::forward<Args>(cell_args)...));
    return *it->second;
  }

  template <typename Visit>
  void for_each(Visit&& visit) const {
    std::lock_guard lock(mutex_);
    for (const auto& [key, cell] : cells_) visit(key, *cell);
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Cell>, StringHash, std::equal_to<>> cells_;
};

using CounterCell = std::atomic<std::uint64_t>;

}  // namespace switchyard

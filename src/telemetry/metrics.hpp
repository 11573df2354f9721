// Every metric family of the gateway, declared in one place. Workers record through their own
// MetricsShard (no locks, no allocation once a label combination has been seen); render() builds the
// Prometheus text exposition with prometheus-cpp's serializer for GET /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/metric_shard.hpp"

namespace switchyard {

// Owned by one worker thread; the only writer of its cells.
class MetricsShard {
 public:
  void request_finished(std::string_view alias, std::string_view upstream, int status, double seconds);
  void time_to_first_token(std::string_view alias, double seconds);
  void tokens(std::string_view alias, std::int64_t input, std::int64_t output);
  void upstream_error(std::string_view upstream, std::string_view kind);
  void retried(std::string_view alias);
  void queue_wait(std::string_view alias, std::string_view priority, double seconds);
  void in_flight_changed(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }

 private:
  friend class Metrics;
  std::string& key(std::string_view a, std::string_view b = {}, std::string_view c = {});

  std::string key_;  // reused for lookups so a hit allocates nothing
  ShardedFamily<CounterCell> requests_;          // alias, upstream, status
  ShardedFamily<HistogramCell> duration_;        // alias
  ShardedFamily<HistogramCell> ttft_;            // alias
  ShardedFamily<CounterCell> tokens_;            // alias, direction
  ShardedFamily<CounterCell> upstream_errors_;   // upstream, kind
  ShardedFamily<CounterCell> retries_;           // alias
  ShardedFamily<HistogramCell> queue_wait_;      // alias, priority
  std::atomic<std::int64_t> in_flight_{0};
};

// Shared by all threads; created before the workers start.
class Metrics {
 public:
  explicit Metrics(unsigned shards);
  MetricsShard& shard(unsigned index) { return *shards_[index]; }
  // Prometheus text format, version 0.0.4.
  std::string render() const;

  static const std::vector<double>& duration_buckets();
  static const std::vector<double>& ttft_buckets();

 private:
  std::vector<std::unique_ptr<MetricsShard>> shards_;
};

}  // namespace switchyard

#include "telemetry/metrics.hpp"

#include <charconv>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace switchyard {
namespace {

constexpr char kSeparator = '\x1f';

std::vector<std::string> split_key(std::string_view key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto end = key.find(kSeparator, start);
    parts.emplace_back(key.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

void observe(HistogramCell& cell, const std::vector<double>& bounds, double seconds) {
  const auto bucket = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  bump(cell.counts[bucket]);
  bump(cell.sum_ns, static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e9));
}

prometheus::ClientMetric labelled(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  prometheus::ClientMetric metric;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) metric.label.push_back({names[i], values[i]});
  return metric;
}

using ShardList = std::vector<std::unique_ptr<MetricsShard>>;

template <typename Family>
prometheus::MetricFamily counter_family(const ShardList& shards, Family MetricsShard::*member, std::string name,
                                        std::string help, std::vector<std::string> label_names) {
  std::map<std::string, std::uint64_t> totals;
  for (const auto& shard : shards)
    ((*shard).*member).for_each([&](const std::string& key, const CounterCell& cell) {
      totals[key] += cell.load(std::memory_order_relaxed);
    });
  prometheus::MetricFamily family{std::move(name), std::move(help), prometheus::MetricType::Counter, {}};
  for (const auto& [key, value] : totals) {
    auto metric = labelled(label_names, split_key(key));
    metric.counter.value = static_cast<double>(value);
    family.metric.push_back(std::move(metric));
  }
  return family;
}

template <typename Family>
prometheus::MetricFamily histogram_family(const ShardList& shards, Family MetricsShard::*member,
                                          const std::vector<double>& bounds, std::string name, std::string help,
                                          std::vector<std::string> label_names) {
  struct Total {
    std::vector<std::uint64_t> counts;
    std::uint64_t sum_ns = 0;
  };
  std::map<std::string, Total> totals;
  for (const auto& shard : shards)
    ((*shard).*member).for_each([&](const std::string& key, const HistogramCell& cell) {
      auto& total = totals[key];
      total.counts.resize(cell.counts.size());
      for (std::size_t i = 0; i < cell.counts.size(); ++i) total.counts[i] += cell.counts[i].load(std::memory_order_relaxed);
      total.sum_ns += cell.sum_ns.load(std::memory_order_relaxed);
    });
  prometheus::MetricFamily family{std::move(name), std::move(help), prometheus::MetricType::Histogram, {}};
  for (const auto& [key, total] : totals) {
    auto metric = labelled(label_names, split_key(key));
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < total.counts.size(); ++i) {
      cumulative += total.counts[i];
      const double bound = i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity();
      metric.histogram.bucket.push_back({cumulative, bound});
    }
    metric.histogram.sample_count = cumulative;
    metric.histogram.sample_sum = static_cast<double>(total.sum_ns) / 1e9;
    family.metric.push_back(std::move(metric));
  }
  return family;
}

}  // namespace

std::string& MetricsShard::key(std::string_view a, std::string_view b, std::string_view c) {
  key_.assign(a);
  if (!b.empty()) (key_ += kSeparator).append(b);
  if (!c.empty()) (key_ += kSeparator).append(c);
  return key_;
}

void MetricsShard::request_finished(std::string_view alias, std::string_view upstream, int status, double seconds) {
  char status_text[8];
  const auto length = static_cast<std::size_t>(std::to_chars(status_text, status_text + sizeof status_text, status).ptr -
                                               status_text);
  // An empty label value still needs its slot, so stand in "none" for a request that never got routed.
  bump(requests_.at(key(alias.empty() ? "none" : alias, upstream.empty() ? "none" : upstream,
                        std::string_view(status_text, length))));
  auto& histogram = duration_.at(key(alias.empty() ? "none" : alias), Metrics::duration_buckets().size());
  observe(histogram, Metrics::duration_buckets(), seconds);
}

void MetricsShard::time_to_first_token(std::string_view alias, double seconds) {
  auto& histogram = ttft_.at(key(alias), Metrics::ttft_buckets().size());
  observe(histogram, Metrics::ttft_buckets(), seconds);
}

void MetricsShard::tokens(std::string_view alias, std::int64_t input, std::int64_t output) {
  if (input > 0) bump(tokens_.at(key(alias, "input")), static_cast<std::uint64_t>(input));
  if (output > 0) bump(tokens_.at(key(alias, "output")), static_cast<std::uint64_t>(output));
}

void MetricsShard::upstream_error(std::string_view upstream, std::string_view kind) {
  bump(upstream_errors_.at(key(upstream, kind)));
}

void MetricsShard::retried(std::string_view alias) { bump(retries_.at(key(alias))); }

void MetricsShard::queue_wait(std::string_view alias, std::string_view priority, double seconds) {
  auto& histogram = queue_wait_.at(key(alias, priority), Metrics::duration_buckets().size());
  observe(histogram, Metrics::duration_buckets(), seconds);
}

Metrics::Metrics(unsigned shards) {
  for (unsigned i = 0; i < std::max(1u, shards); ++i) shards_.push_back(std::make_unique<MetricsShard>());
}

const std::vector<double>& Metrics::duration_buckets() {
  static const std::vector<double> buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                           1,     2.5,    5,     10,   30,    60,   120, 300};
  return buckets;
}

const std::vector<double>& Metrics::ttft_buckets() {
  static const std::vector<double> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                           0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return buckets;
}

std::string Metrics::render() const {
  std::vector<prometheus::MetricFamily> families;
  families.push_back(counter_family(shards_, &MetricsShard::requests_, "switchyard_requests_total",
                                    "Requests answered, by model alias, upstream and HTTP status.",
                                    {"alias", "upstream", "status"}));
  families.push_back(histogram_family(shards_, &MetricsShard::duration_, duration_buckets(),
                                      "switchyard_request_duration_seconds",
                                      "Time from request received to response complete.", {"alias"}));
  families.push_back(histogram_family(shards_, &MetricsShard::ttft_, ttft_buckets(),
                                      "switchyard_time_to_first_token_seconds",
                                      "Time from request received to the first streamed token sent.", {"alias"}));
  prometheus::MetricFamily in_flight{"switchyard_in_flight_requests", "Requests being served now.",
                                     prometheus::MetricType::Gauge, {}};
  std::int64_t now = 0;
  for (const auto& shard : shards_) now += shard->in_flight_.load(std::memory_order_relaxed);
  prometheus::ClientMetric gauge;
  gauge.gauge.value = static_cast<double>(now);
  in_flight.metric.push_back(gauge);
  families.push_back(std::move(in_flight));
  families.push_back(counter_family(shards_, &MetricsShard::tokens_, "switchyard_tokens_total",
                                    "Tokens by model alias and direction (input = prompt, output = completion).",
                                    {"alias", "direction"}));
  families.push_back(counter_family(shards_, &MetricsShard::upstream_errors_, "switchyard_upstream_errors_total",
                                    "Failed upstream exchanges by upstream and kind (connect, reset, timeout, "
                                    "bad_response, status_5xx, status_4xx).",
                                    {"upstream", "kind"}));
  families.push_back(counter_family(shards_, &MetricsShard::retries_, "switchyard_retries_total",
                                    "Requests sent to another deployment after a failed attempt, by model alias.",
                                    {"alias"}));
  families.push_back(histogram_family(shards_, &MetricsShard::queue_wait_, duration_buckets(),
                                      "switchyard_queue_wait_seconds",
                                      "Time requests waited in their alias's queue before a deployment took them.",
                                      {"alias", "priority"}));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace switchyard

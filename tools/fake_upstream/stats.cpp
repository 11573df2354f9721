// Counters and last-request capture for /fake/stats, /fake/last and /fake/reset.
#include "stats.hpp"

#include <boost/json.hpp>

namespace fake_upstream {

Stats::Stats(int workers) {
  workers_.reserve(static_cast<std::size_t>(workers));
  for (int i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<WorkerStats>());
  }
}

void Stats::record_last(int i, const Request& req) {
  WorkerStats& w = worker(i);
  const std::uint64_t seq = seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  std::lock_guard lock(w.last_mutex);
  w.last_seq = seq;
  w.last_method.assign(req.method_string());
  w.last_target.assign(req.target());
  w.last_body.assign(req.body());
  std::size_t n = 0;
  for (const auto& field : req) {
    if (n == w.last_headers.size()) {
      w.last_headers.emplace_back();
    }
    auto& [name, value] = w.last_headers[n++];
    name.assign(field.name_string());
    for (char& ch : name) {
      if (ch >= 'A' && ch <= 'Z') {
        ch = static_cast<char>(ch - 'A' + 'a');
      }
    }
    value.assign(field.value());
  }
  w.last_header_count = n;
}

std::string Stats::stats_json() const {
  std::uint64_t requests = 0;
  std::uint64_t completed = 0;
  std::uint64_t cancelled = 0;
  std::int64_t active = 0;
  for (const auto& w : workers_) {
    requests += w->requests.load(std::memory_order_relaxed);
    completed += w->completed.load(std::memory_order_relaxed);
    cancelled += w->cancelled.load(std::memory_order_relaxed);
    active += w->active.load(std::memory_order_relaxed);
  }
  boost::json::object o;
  o["requests"] = requests;
  o["active"] = active;
  o["completed"] = completed;
  o["cancelled"] = cancelled;
  return boost::json::serialize(o);
}

std::string Stats::last_json() const {
  const WorkerStats* newest = nullptr;
  std::uint64_t newest_seq = 0;
  for (const auto& w : workers_) {
    std::lock_guard lock(w->last_mutex);
    if (w->last_seq > newest_seq) {
      newest_seq = w->last_seq;
      newest = w.get();
    }
  }
  if (newest == nullptr) {
    return {};
  }
  std::lock_guard lock(newest->last_mutex);
  boost::json::object headers;
  for (std::size_t i = 0; i < newest->last_header_count; ++i) {
    const auto& [name, value] = newest->last_headers[i];
    auto it = headers.find(name);
    if (it == headers.end()) {
      headers.emplace(name, value);
    } else {
      // A repeated header: join the values as HTTP allows.
      boost::json::string& joined = it->value().as_string();
      joined.append(", ");
      joined.append(value);
    }
  }
  boost::json::object o;
  o["method"] = newest->last_method;
  o["target"] = newest->last_target;
  o["headers"] = std::move(headers);
  o["body"] = newest->last_body;
  return boost::json::serialize(o);
}

void Stats::reset() {
  for (auto& w : workers_) {
    w->requests.store(0, std::memory_order_relaxed);
    w->completed.store(0, std::memory_order_relaxed);
    w->cancelled.store(0, std::memory_order_relaxed);
  }
}

}  // namespace fake_upstream

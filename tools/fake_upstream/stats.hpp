// Test introspection: request counters and the most recent inference request.
// One WorkerStats per worker thread (written by its owner, read by any); sums are taken on read.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace fake_upstream {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

struct alignas(64) WorkerStats {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> cancelled{0};
  std::atomic<std::int64_t> active{0};

  // The last inference request seen by this worker; `seq` orders them across workers.
  mutable std::mutex last_mutex;
  std::uint64_t last_seq = 0;
  std::string last_method;
  std::string last_target;
  std::string last_body;
  std::vector<std::pair<std::string, std::string>> last_headers;  // names lower-cased
  std::size_t last_header_count = 0;
};

class Stats {
 public:
  explicit Stats(int workers);

  WorkerStats& worker(int i) { return *workers_[static_cast<std::size_t>(i)]; }

  // Copies the request into worker i's slot (reusing its buffers).
  void record_last(int i, const Request& req);

  std::string stats_json() const;
  // Empty when no inference request has been seen since start.
  std::string last_json() const;
  // Zeroes the counters; `active` stays a true gauge of requests in flight.
  void reset();

 private:
  std::vector<std::unique_ptr<WorkerStats>> workers_;
  std::atomic<std::uint64_t> seq_{0};
};

}  // namespace fake_upstream

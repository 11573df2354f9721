// Idle keep-alive connections to the upstreams, one pool per worker thread (no locks: only that
// thread touches it). Also owns the TLS contexts' use on this worker.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "upstream/upstream_connection.hpp"

namespace switchyard {

class ConnectionPool {
 public:
  explicit ConnectionPool(asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // An idle connection to `upstream`, or null when there is none (the caller connects a new one).
  std::unique_ptr<UpstreamConnection> take(const UpstreamConfig& upstream);
  std::unique_ptr<UpstreamConnection> create(ssl::context* tls_context);
  // Keeps a connection whose last response ended cleanly, up to max_idle_connections.
  void give_back(const UpstreamConfig& upstream, std::unique_ptr<UpstreamConnection> connection);
  std::size_t idle_count(const UpstreamConfig& upstream) const;
  void close_all();

 private:
  asio::any_io_executor executor_;
  std::unordered_map<const UpstreamConfig*, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

}  // namespace switchyard

// A worker: one thread running one io_context with its own SO_REUSEPORT acceptor on the shared port.
// A connection accepted here lives here for life, with this worker's upstream pool, metrics shard,
// request id generator and router (load-balancer cursors), none of which need locks.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <unordered_set>

#include "app/gateway_state.hpp"
#include "core/asio.hpp"
#include "core/request_id.hpp"
#include "routing/router.hpp"
#include "upstream/connection_pool.hpp"

namespace switchyard {

class Worker {
 public:
  Worker(unsigned index, GatewayState& state);
  ~Worker();

  // Binds the acceptor; returns the port actually bound (useful with port 0).
  std::uint16_t listen(const tcp::endpoint& endpoint);
  void start();
  // From any thread: stop accepting, close idle keep-alive connections, finish in-flight requests.
  void begin_drain();
  // From any thread: stop the event loop now and join the thread.
  void stop();
  std::size_t open_sessions() const { return sessions_.load(std::memory_order_relaxed); }

  // For sessions (this worker's thread only).
  unsigned index() const { return index_; }
  GatewayState& state() { return state_; }
  asio::io_context& io() { return io_; }
  ConnectionPool& pool() { return pool_; }
  MetricsShard& metrics() { return metrics_; }
  RequestIdGenerator& request_ids() { return request_ids_; }
  Router& router() { return router_; }
  // The TLS client context for images fetched from https URLs (the system's trust store).
  ssl::context& image_tls();
  void session_opened() { sessions_.fetch_add(1, std::memory_order_relaxed); }
  void session_closed() { sessions_.fetch_sub(1, std::memory_order_relaxed); }
  // A session waiting for its next request registers its socket so a drain can close it.
  void mark_idle(tcp::socket* socket) { idle_sockets_.insert(socket); }
  void mark_busy(tcp::socket* socket) { idle_sockets_.erase(socket); }

 private:
  Task<> accept_loop();

  unsigned index_;
  GatewayState& state_;
  MetricsShard& metrics_;
  RequestIdGenerator request_ids_;
  Router router_;
  // Declared before io_ so they outlive it: destroying io_ destroys the sessions' coroutine frames,
  // whose destructors still report to them.
  std::unordered_set<tcp::socket*> idle_sockets_;
  std::atomic<std::size_t> sessions_{0};
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  ConnectionPool pool_{io_.get_executor()};
  std::unique_ptr<ssl::context> image_tls_;  // made on first use
  std::thread thread_;
};

}  // namespace switchyard

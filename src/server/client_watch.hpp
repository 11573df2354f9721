// Notices a client that hangs up while its request is being proxied, and aborts the upstream call
// (a client that leaves must not keep a GPU busy). One peeking receive on the client socket, pending
// for the life of one exchange: cheaper than running a second coroutine beside the exchange, which
// showed up in profiles as a tenth of the per-request cost.
// Belongs to one session, on its worker thread.
#pragma once

#include <memory>

#include "core/asio.hpp"

namespace switchyard {

class UpstreamConnection;

class ClientWatch {
 public:
  explicit ClientWatch(tcp::socket& socket);
  ~ClientWatch();
  ClientWatch(const ClientWatch&) = delete;
  ClientWatch& operator=(const ClientWatch&) = delete;

  // Starts watching; a hang-up from now on cancels `upstream`'s pending operations (if one is set).
  void start();
  // Stops watching and waits until the wait is really gone, so nothing refers to the exchange after.
  Task<> stop();

  // The upstream connection the exchange is using right now (null between connections).
  void set_upstream(UpstreamConnection* upstream);
  // A timer to cancel when the client hangs up (a request waiting in a queue); null for none.
  void set_wake_timer(asio::steady_timer* timer);
  // True once the client hung up (closed or reset) during this exchange.
  bool client_gone() const;

 private:
  struct State;
  static void wait(const std::shared_ptr<State>& state);

  // Shared with the pending wait's handler, which may outlive this object (it is then told so).
  std::shared_ptr<State> state_;
};

}  // namespace switchyard

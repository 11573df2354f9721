// The timeout of whatever a connection is doing right now, cheap enough to re-arm before every read
// and write. Arming only records the new deadline; the one timer underneath wakes at the earliest
// deadline it was given and, when the deadline has moved on since, sleeps again for the rest. A stream
// that reads and writes thousands of times a minute so costs one kernel timer update per timeout
// period instead of two per operation (as beast::tcp_stream's per-operation timers do).
// Lives on one worker thread, like the socket it guards.
#pragma once

#include <chrono>
#include <memory>

#include "core/asio.hpp"

namespace switchyard {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // On expiry the socket's pending operations are cancelled (they complete with operation_aborted)
  // and expired() turns true until the deadline is armed again.
  Deadline(const asio::any_io_executor& executor, tcp::socket& socket);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void expires_after(Clock::duration timeout);
  void expires_never();
  bool expired() const;

 private:
  struct State;
  static void wait(const std::shared_ptr<State>& state);

  // Shared with the pending timer handler, which may run after this object is gone.
  std::shared_ptr<State> state_;
};

// The error an operation cut short by its deadline reports: beast::error::timeout instead of
// operation_aborted, so callers tell a timeout from a cancellation.
inline error_code timeout_aware(const error_code& ec, const Deadline& deadline) {
  if (ec == asio::error::operation_aborted && deadline.expired()) return make_error_code(beast::error::timeout);
  return ec;
}

}  // namespace switchyard

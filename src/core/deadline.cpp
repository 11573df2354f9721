#include "core/deadline.hpp"

namespace switchyard {

struct Deadline::State {
  explicit State(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  Clock::time_point deadline = Clock::time_point::max();
  tcp::socket* socket = nullptr;  // null once the owner is gone
  bool waiting = false;           // a wait is pending on `timer`
  bool expired = false;
};

Deadline::Deadline(const asio::any_io_executor& executor, tcp::socket& socket)
    : state_(std::make_shared<State>(executor)) {
  state_->socket = &socket;
}

Deadline::~Deadline() {
  state_->socket = nullptr;
  state_->deadline = Clock::time_point::max();
  state_->timer.cancel();
}

void Deadline::expires_after(Clock::duration timeout) {
  auto& state = *state_;
  state.expired = false;
  state.deadline = Clock::now() + timeout;
  if (!state.waiting) {
    wait(state_);
  } else if (state.timer.expiry() > state.deadline) {
    // Earlier than the pending wake-up (rare: a shorter timeout follows a longer one).
    state.timer.expires_at(state.deadline);  // the pending wait completes as aborted and re-waits
  }
}

void Deadline::expires_never() {
  state_->expired = false;
  state_->deadline = Clock::time_point::max();
}

bool Deadline::expired() const { return state_->expired; }

void Deadline::wait(const std::shared_ptr<State>& state) {
  state->waiting = true;
  if (state->timer.expiry() < state->deadline) state->timer.expires_at(state->deadline);
  state->timer.async_wait([state](const error_code&) {
    state->waiting = false;
    if (!state->socket || state->deadline == Clock::time_point::max()) return;
    if (Clock::now() < state->deadline) {
      wait(state);  // re-armed later since this wait began, or cut short to move earlier
      return;
    }
    state->expired = true;
    state->deadline = Clock::time_point::max();
    error_code ignored;
    state->socket->cancel(ignored);
  });
}

}  // namespace switchyard

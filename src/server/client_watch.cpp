#include "server/client_watch.hpp"

#include "upstream/upstream_connection.hpp"

namespace switchyard {

struct ClientWatch::State {
  tcp::socket* socket;               // null once the owner is gone
  UpstreamConnection* upstream = nullptr;
  asio::steady_timer* wake_timer = nullptr;
  bool waiting = false;              // a wait is pending on the socket
  bool stopping = false;
  bool client_gone = false;
  char peeked = 0;                   // where the peeking receive puts its byte (left in the socket)
};

ClientWatch::ClientWatch(tcp::socket& socket) : state_(std::make_shared<State>()) { state_->socket = &socket; }

ClientWatch::~ClientWatch() {
  state_->socket = nullptr;
  state_->upstream = nullptr;
  state_->wake_timer = nullptr;
}

void ClientWatch::start() {
  state_->client_gone = false;
  state_->stopping = false;
  state_->upstream = nullptr;
  if (!state_->waiting) wait(state_);
}

void ClientWatch::wait(const std::shared_ptr<State>& state) {
  state->waiting = true;
  // A peeking receive rather than async_wait: Asio tries a receive first and, when nothing is there,
  // queues the operation without touching epoll (async_wait re-arms the descriptor with epoll_ctl,
  // one more system call per request).
  state->socket->async_receive(asio::buffer(&state->peeked, 1), tcp::socket::message_peek,
                               [state](const error_code& ec, std::size_t n) {
                                 state->waiting = false;
                                 if (ec == asio::error::operation_aborted || !state->socket || state->stopping) return;
                                 if (!ec && n > 0) return;  // the client sent its next (pipelined) request
                                 // Orderly close (end of file) or a reset: abort what the exchange awaits.
                                 state->client_gone = true;
                                 if (state->upstream) state->upstream->cancel();
                                 if (state->wake_timer) state->wake_timer->cancel();
                               });
}

Task<> ClientWatch::stop() {
  state_->stopping = true;
  state_->upstream = nullptr;
  state_->wake_timer = nullptr;
  if (!state_->waiting) co_return;
  error_code ignored;
  state_->socket->cancel(ignored);
  // The cancelled wait completes through the queue ahead of this post.
  while (state_->waiting) co_await asio::post(state_->socket->get_executor(), asio::use_awaitable);
}

void ClientWatch::set_upstream(UpstreamConnection* upstream) { state_->upstream = upstream; }

void ClientWatch::set_wake_timer(asio::steady_timer* timer) { state_->wake_timer = timer; }

bool ClientWatch::client_gone() const { return state_->client_gone; }

}  // namespace switchyard

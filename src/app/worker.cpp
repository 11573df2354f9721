#include "app/worker.hpp"

#include <spdlog/spdlog.h>

#include "routing/health_check.hpp"
#include "server/http_session.hpp"

namespace switchyard {

Worker::Worker(unsigned index, GatewayState& state)
    : index_(index), state_(state), metrics_(state.metrics().shard(index)), router_(state.routes(), 0x5eed + index) {}

Worker::~Worker() { stop(); }

std::uint16_t Worker::listen(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  // Every worker binds the same port; the kernel spreads new connections across them.
  int one = 1;
  if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw std::system_error(errno, std::generic_category(), "setsockopt(SO_REUSEPORT)");
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint().port();
}

void Worker::start() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
  if (index_ == 0) {
    // Health checks are few and light: worker 0 runs them beside its connections.
    for (const auto& [name, upstream] : state_.upstreams())
      if (upstream->config.health.enabled) asio::co_spawn(io_, run_health_checks(*upstream), asio::detached);
  }
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
}

Task<> Worker::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    start_http_session(*this, std::move(socket));
  }
}

void Worker::begin_drain() {
  asio::post(io_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
    // Connections waiting for their next request have nothing in flight: close them now.
    for (auto* socket : idle_sockets_) socket->cancel(ignored);
    idle_sockets_.clear();
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

ssl::context& Worker::image_tls() {
  if (!image_tls_) {
    image_tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
    image_tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                            ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ignored;  // without a trust store, https fetches fail verification with a clear error
    image_tls_->set_default_verify_paths(ignored);
    image_tls_->set_verify_mode(ssl::verify_peer);
  }
  return *image_tls_;
}

}  // namespace switchyard

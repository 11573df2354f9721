// One HTTP/1.1 connection to an upstream, plain TCP or TLS (with certificate and host name
// verification and SNI). Lives on one worker thread: created, used and pooled there only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>

#include "config/config.hpp"
#include "core/asio.hpp"

namespace switchyard {

class UpstreamConnection {
 public:
  // `tls_context` is null for plain HTTP upstreams.
  UpstreamConnection(asio::any_io_executor executor, ssl::context* tls_context);

  // Resolves, connects within timeouts.connect and completes the TLS handshake.
  Task<error_code> connect(const UpstreamConfig& upstream);

  Task<std::tuple<error_code, std::size_t>> write(const std::array<asio::const_buffer, 2>& buffers,
                                                  std::chrono::milliseconds timeout);

  template <typename Parser>
  Task<std::tuple<error_code, std::size_t>> read_header(Parser& parser, std::chrono::milliseconds timeout) {
    tcp_stream().expires_after(timeout);
    if (tls_) co_return co_await http::async_read_header(*tls_, buffer_, parser, use_nothrow);
    co_return co_await http::async_read_header(*plain_, buffer_, parser, use_nothrow);
  }

  template <typename Parser>
  Task<std::tuple<error_code, std::size_t>> read_some(Parser& parser, std::chrono::milliseconds timeout) {
    tcp_stream().expires_after(timeout);
    if (tls_) co_return co_await http::async_read_some(*tls_, buffer_, parser, use_nothrow);
    co_return co_await http::async_read_some(*plain_, buffer_, parser, use_nothrow);
  }

  // Stops every pending operation at once (used when the client goes away).
  void cancel() { tcp_stream().socket().cancel(); }
  void close();

  // True once the connection has served a request and been put back in the pool.
  bool reused = false;
  std::chrono::steady_clock::time_point idle_since{};

 private:
  beast::tcp_stream& tcp_stream() { return tls_ ? tls_->next_layer() : *plain_; }

  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;  // bytes read past the end of a response stay for the next one
};

}  // namespace switchyard

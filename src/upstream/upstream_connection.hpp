// One HTTP/1.1 connection to an upstream, plain TCP or TLS (with certificate and host name
// verification and SNI). Lives on one worker thread: created, used and pooled there only.
// Response heads are parsed by Beast; bodies are read raw and unframed by a BodyDecoder, so one
// socket read is one piece of body however the upstream chunked it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "core/asio.hpp"
#include "core/deadline.hpp"
#include "upstream/body_decoder.hpp"

namespace switchyard {

class UpstreamConnection {
 public:
  // `tls_context` is null for plain HTTP upstreams.
  UpstreamConnection(const asio::any_io_executor& executor, ssl::context* tls_context);

  // Resolves, connects within timeouts.connect and completes the TLS handshake.
  Task<error_code> connect(const UpstreamConfig& upstream);

  Task<std::tuple<error_code, std::size_t>> write(const std::array<asio::const_buffer, 2>& buffers,
                                                  std::chrono::milliseconds timeout);

  template <typename Parser>
  Task<error_code> read_header(Parser& parser, std::chrono::milliseconds timeout) {
    deadline_.expires_after(timeout);
    auto [ec, n] = tls_ ? co_await http::async_read_header(*tls_, buffer_, parser, use_nothrow)
                        : co_await http::async_read_header(socket(), buffer_, parser, use_nothrow);
    co_return timeout_aware(ec, deadline_);
  }

  // The next piece of the body: what was left over from the head, else one read from the socket.
  // The view is valid until the next call. An empty view with no error means the body is complete
  // (decoder.done()) or the read carried only framing.
  Task<std::tuple<error_code, std::string_view>> read_body(BodyDecoder& decoder, std::chrono::milliseconds timeout);

  // Stops every pending operation at once (used when the client goes away).
  void cancel() {
    error_code ignored;
    socket().cancel(ignored);
  }
  void close();

  // True once the connection has served a request and been put back in the pool.
  bool reused = false;
  std::chrono::steady_clock::time_point idle_since{};

 private:
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }

  std::optional<tcp::socket> plain_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  Deadline deadline_;
  beast::flat_buffer buffer_;  // the head parser's buffer, then the body's read buffer
};

}  // namespace switchyard

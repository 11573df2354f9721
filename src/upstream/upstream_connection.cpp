#include "upstream/upstream_connection.hpp"

#include <openssl/ssl.h>

namespace switchyard {
namespace {

constexpr std::size_t kBodyReadSize = 16384;

// The socket a connection's deadline guards must exist before the Deadline is built.
tcp::socket& make_socket(std::optional<tcp::socket>& plain, std::optional<ssl::stream<tcp::socket>>& tls,
                         const asio::any_io_executor& executor, ssl::context* tls_context) {
  if (tls_context) return tls.emplace(executor, *tls_context).next_layer();
  return plain.emplace(executor);
}

}  // namespace

UpstreamConnection::UpstreamConnection(const asio::any_io_executor& executor, ssl::context* tls_context)
    : deadline_(executor, make_socket(plain_, tls_, executor, tls_context)) {}

Task<error_code> UpstreamConnection::connect(const UpstreamConfig& upstream) {
  auto& tcp = socket();
  error_code ec;
  std::vector<tcp::endpoint> endpoints;
  if (const auto address = asio::ip::make_address(upstream.host, ec); !ec) {
    endpoints.emplace_back(address, upstream.port);
  } else {
    tcp::resolver resolver(tcp.get_executor());
    auto [resolve_ec, results] =
        co_await resolver.async_resolve(upstream.host, std::to_string(upstream.port), use_nothrow);
    if (resolve_ec) co_return resolve_ec;
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  deadline_.expires_after(upstream.timeouts.connect);
  auto [connect_ec, endpoint] = co_await asio::async_connect(tcp, endpoints, use_nothrow);
  if (connect_ec) co_return timeout_aware(connect_ec, deadline_);
  tcp.set_option(tcp::no_delay(true), ec);
  if (tls_) {
    // SNI, and the certificate must name the host we dialled.
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), upstream.host.c_str()))
      co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    if (upstream.tls_options.verify) {
      tls_->set_verify_mode(ssl::verify_peer);
      tls_->set_verify_callback(ssl::host_name_verification(upstream.host));
    } else {
      tls_->set_verify_mode(ssl::verify_none);
    }
    auto [handshake_ec] = co_await tls_->async_handshake(ssl::stream_base::client, use_nothrow);
    if (handshake_ec) co_return timeout_aware(handshake_ec, deadline_);
  }
  deadline_.expires_never();
  co_return error_code{};
}

Task<std::tuple<error_code, std::size_t>> UpstreamConnection::write(const std::array<asio::const_buffer, 2>& buffers,
                                                                    std::chrono::milliseconds timeout) {
  deadline_.expires_after(timeout);
  auto [ec, n] = tls_ ? co_await asio::async_write(*tls_, buffers, use_nothrow)
                      : co_await asio::async_write(socket(), buffers, use_nothrow);
  co_return std::tuple{timeout_aware(ec, deadline_), n};
}

Task<std::tuple<error_code, std::string_view>> UpstreamConnection::read_body(BodyDecoder& decoder,
                                                                             std::chrono::milliseconds timeout) {
  // Bytes the head parser read past the head come first, without touching the socket.
  if (buffer_.size() == 0) {
    deadline_.expires_after(timeout);
    const auto space = buffer_.prepare(kBodyReadSize);
    auto [ec, n] = tls_ ? co_await tls_->async_read_some(space, use_nothrow)
                        : co_await socket().async_read_some(space, use_nothrow);
    buffer_.commit(n);
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      // A TLS peer that closes without close_notify is treated as a plain close, as curl does.
      ec = decoder.end_of_input();
    } else {
      ec = timeout_aware(ec, deadline_);
    }
    if (ec) co_return std::tuple{ec, std::string_view{}};
    if (n == 0) co_return std::tuple{error_code{}, std::string_view{}};
  }
  auto* data = static_cast<char*>(buffer_.data().data());
  error_code ec;
  const auto size = decoder.decode(data, buffer_.size(), ec);
  // Consumed either way; the bytes stay in place until the next prepare(), which the view needs.
  buffer_.consume(buffer_.size());
  co_return std::tuple{ec, std::string_view(data, size)};
}

void UpstreamConnection::close() {
  error_code ignored;
  deadline_.expires_never();
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

}  // namespace switchyard

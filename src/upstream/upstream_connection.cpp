#include "upstream/upstream_connection.hpp"

#include <openssl/ssl.h>

namespace switchyard {

UpstreamConnection::UpstreamConnection(asio::any_io_executor executor, ssl::context* tls_context) {
  if (tls_context) {
    tls_.emplace(executor, *tls_context);
  } else {
    plain_.emplace(executor);
  }
}

Task<error_code> UpstreamConnection::connect(const UpstreamConfig& upstream) {
  auto& tcp = tcp_stream();
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
  tcp.expires_after(upstream.timeouts.connect);
  auto [connect_ec, endpoint] = co_await tcp.async_connect(endpoints, use_nothrow);
  if (connect_ec) co_return connect_ec;
  tcp.socket().set_option(tcp::no_delay(true), ec);
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
    if (handshake_ec) co_return handshake_ec;
  }
  tcp.expires_never();
  co_return error_code{};
}

Task<std::tuple<error_code, std::size_t>> UpstreamConnection::write(const std::array<asio::const_buffer, 2>& buffers,
                                                                    std::chrono::milliseconds timeout) {
  tcp_stream().expires_after(timeout);
  if (tls_) co_return co_await asio::async_write(*tls_, buffers, use_nothrow);
  co_return co_await asio::async_write(*plain_, buffers, use_nothrow);
}

void UpstreamConnection::close() {
  error_code ignored;
  tcp_stream().socket().shutdown(tcp::socket::shutdown_both, ignored);
  tcp_stream().socket().close(ignored);
}

}  // namespace switchyard

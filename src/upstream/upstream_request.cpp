#include "upstream/upstream_request.hpp"

#include <charconv>

namespace switchyard {

bool is_withheld_request_header(http::field field, std::string_view name) {
  switch (field) {
    case http::field::host:
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::content_length:
    case http::field::content_type:
    case http::field::authorization:
    case http::field::proxy_authorization:
    case http::field::cookie:
    case http::field::accept_encoding:  // the gateway must read the body to swap the model name
    case http::field::expect:
      return true;
    case http::field::unknown:
      return beast::iequals(name, "x-api-key") || beast::iequals(name, "api-key") ||
             beast::iequals(name, "x-request-id") || beast::iequals(name, "anthropic-version");
    default:
      return false;
  }
}

void append_upstream_auth(std::string& out, const UpstreamConfig& upstream, std::string_view api_key,
                          std::string_view anthropic_version) {
  if (upstream.kind == UpstreamKind::anthropic) {
    if (!api_key.empty()) out.append("x-api-key: ").append(api_key).append("\r\n");
    out.append("anthropic-version: ")
        .append(anthropic_version.empty() ? std::string_view(upstream.anthropic_version) : anthropic_version)
        .append("\r\n");
    return;
  }
  if (!api_key.empty()) out.append("Authorization: Bearer ").append(api_key).append("\r\n");
}

void build_upstream_request_head(std::string& out, const UpstreamConfig& upstream, std::string_view path,
                                 std::size_t body_length, std::string_view request_id, std::string_view api_key,
                                 const http::fields& client_headers) {
  out.clear();
  out.append("POST ").append(upstream.path_prefix).append(path).append(" HTTP/1.1\r\nHost: ");
  const bool ipv6 = upstream.host.find(':') != std::string::npos;
  if (ipv6) out += '[';
  out.append(upstream.host);
  if (ipv6) out += ']';
  if (upstream.port != (upstream.tls ? 443 : 80)) {
    char digits[8];
    const auto [end, _] = std::to_chars(digits, digits + sizeof digits, upstream.port);
    out.append(":").append(digits, end);
  }
  out.append("\r\nContent-Type: application/json\r\nContent-Length: ");
  char digits[24];
  const auto [end, _] = std::to_chars(digits, digits + sizeof digits, body_length);
  out.append(digits, end).append("\r\n");
  std::string_view client_version;
  if (upstream.kind == UpstreamKind::anthropic)
    if (const auto it = client_headers.find("anthropic-version"); it != client_headers.end()) client_version = it->value();
  append_upstream_auth(out, upstream, api_key, client_version);
  out.append("X-Request-Id: ").append(request_id).append("\r\n");
  for (const auto& field : client_headers) {
    if (is_withheld_request_header(field.name(), field.name_string())) continue;
    out.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace switchyard

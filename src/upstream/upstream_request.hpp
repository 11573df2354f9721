// Builds the raw HTTP/1.1 request head sent upstream: target, Host, credentials, request id and the
// client headers that may pass. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/asio.hpp"

namespace switchyard {

// True for client headers that must not reach the upstream: hop-by-hop headers, the client's own
// credentials, and those the gateway sets itself.
bool is_withheld_request_header(http::field field, std::string_view name);

// Appends the whole head (ending with the blank line) for a POST of `body_length` JSON bytes.
// `api_key` (may be empty) goes where the upstream's kind wants it: Authorization: Bearer, or
// x-api-key with anthropic-version (the client's, when an Anthropic client sent one) for anthropic.
void build_upstream_request_head(std::string& out, const UpstreamConfig& upstream, std::string_view path,
                                 std::size_t body_length, std::string_view request_id, std::string_view api_key,
                                 const http::fields& client_headers);

// The credential headers alone ("Name: value\r\n" lines), for requests the gateway makes itself.
void append_upstream_auth(std::string& out, const UpstreamConfig& upstream, std::string_view api_key,
                          std::string_view anthropic_version = {});

}  // namespace switchyard

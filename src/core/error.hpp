// The one error enum of the gateway: each kind has one HTTP status and one error body per protocol.
// Pure values; usable from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace switchyard {

enum class ErrorKind {
  invalid_json,          // body is not JSON, or not a JSON object
  missing_field,         // a required field is absent or of the wrong type
  invalid_request,       // any other client mistake
  model_not_found,       // the alias is not configured
  not_found,             // unknown path or resource
  method_not_allowed,
  payload_too_large,     // body over server.max_body_bytes
  request_timeout,       // client too slow sending its request
  upstream_unreachable,  // connect refused, DNS failure, TLS handshake failure
  upstream_reset,        // upstream closed or reset the connection before a complete answer
  upstream_timeout,      // connect, first byte or chunk gap timeout
  upstream_bad_response, // upstream answered something that is not HTTP/JSON as expected
  no_deployment,         // every deployment of the alias is down, open-circuited or cooling down
  queue_full,            // every deployment is at capacity and the alias's queue is full
  queue_timeout,         // waited in the alias's queue longer than queue.timeout_ms
  shutting_down,         // gateway is draining
  internal,              // a bug: logged, counted, answered 500
};

struct ApiError {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  std::string param;  // the offending request field, empty when none
};

// Fills `error` and returns false: how the request translators refuse a request in one statement.
inline bool fail_with(ApiError& error, ErrorKind kind, std::string message, std::string param) {
  error = ApiError{kind, std::move(message), std::move(param)};
  return false;
}

int http_status(ErrorKind kind);
// OpenAI's `type` field: invalid_request_error, not_found_error, server_error, ...
std::string_view openai_error_type(ErrorKind kind);
// OpenAI's `code` field: model_not_found, upstream_timeout, ...
std::string_view openai_error_code(ErrorKind kind);
// A short, stable, metric-friendly name of the kind (used as a label value).
std::string_view error_kind_name(ErrorKind kind);

// {"error":{"message":...,"type":...,"param":...|null,"code":...}}
std::string openai_error_body(const ApiError& error);

// The wire protocol a client spoke: its errors come back in that protocol's shape.
enum class ClientProtocol { openai, anthropic, ollama };

// {"type":"error","error":{"type":...,"message":...}}, the type chosen by status as Anthropic does.
std::string anthropic_error_body(int status, std::string_view message);
std::string_view anthropic_error_type(int status);
// {"error":"..."}, as Ollama answers.
std::string ollama_error_body(std::string_view message);
// The error body in `protocol`'s shape.
std::string error_body(ClientProtocol protocol, const ApiError& error);

}  // namespace switchyard

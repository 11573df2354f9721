#include "core/error.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace switchyard {

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_json:
    case ErrorKind::missing_field:
    case ErrorKind::invalid_request: return 400;
    case ErrorKind::model_not_found:
    case ErrorKind::not_found: return 404;
    case ErrorKind::method_not_allowed: return 405;
    case ErrorKind::request_timeout: return 408;
    case ErrorKind::payload_too_large: return 413;
    case ErrorKind::upstream_unreachable:
    case ErrorKind::upstream_reset:
    case ErrorKind::upstream_bad_response: return 502;
    case ErrorKind::no_deployment: return 503;
    case ErrorKind::queue_full: return 429;
    case ErrorKind::queue_timeout: return 503;
    case ErrorKind::shutting_down: return 503;
    case ErrorKind::upstream_timeout: return 504;
    case ErrorKind::internal: return 500;
  }
  return 500;
}

std::string_view openai_error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_json:
    case ErrorKind::missing_field:
    case ErrorKind::invalid_request:
    case ErrorKind::model_not_found:
    case ErrorKind::payload_too_large:
    case ErrorKind::request_timeout: return "invalid_request_error";
    case ErrorKind::not_found:
    case ErrorKind::method_not_allowed: return "not_found_error";
    case ErrorKind::upstream_unreachable:
    case ErrorKind::upstream_reset:
    case ErrorKind::upstream_timeout:
    case ErrorKind::upstream_bad_response: return "upstream_error";
    case ErrorKind::no_deployment: return "service_unavailable";
    case ErrorKind::queue_full: return "rate_limit_error";
    case ErrorKind::queue_timeout: return "service_unavailable";
    case ErrorKind::shutting_down: return "service_unavailable";
    case ErrorKind::internal: return "server_error";
  }
  return "server_error";
}

std::string_view openai_error_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_json: return "invalid_json";
    case ErrorKind::missing_field: return "missing_required_parameter";
    case ErrorKind::invalid_request: return "invalid_request";
    case ErrorKind::model_not_found: return "model_not_found";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::method_not_allowed: return "method_not_allowed";
    case ErrorKind::payload_too_large: return "request_too_large";
    case ErrorKind::request_timeout: return "request_timeout";
    case ErrorKind::upstream_unreachable: return "upstream_unreachable";
    case ErrorKind::upstream_reset: return "upstream_connection_reset";
    case ErrorKind::upstream_timeout: return "upstream_timeout";
    case ErrorKind::upstream_bad_response: return "upstream_bad_response";
    case ErrorKind::no_deployment: return "no_deployment_available";
    case ErrorKind::queue_full: return "queue_full";
    case ErrorKind::queue_timeout: return "queue_timeout";
    case ErrorKind::shutting_down: return "shutting_down";
    case ErrorKind::internal: return "internal_error";
  }
  return "internal_error";
}

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_json: return "invalid_json";
    case ErrorKind::missing_field: return "missing_field";
    case ErrorKind::invalid_request: return "invalid_request";
    case ErrorKind::model_not_found: return "model_not_found";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::method_not_allowed: return "method_not_allowed";
    case ErrorKind::payload_too_large: return "payload_too_large";
    case ErrorKind::request_timeout: return "request_timeout";
    case ErrorKind::upstream_unreachable: return "connect";
    case ErrorKind::upstream_reset: return "reset";
    case ErrorKind::upstream_timeout: return "timeout";
    case ErrorKind::upstream_bad_response: return "bad_response";
    case ErrorKind::no_deployment: return "no_deployment";
    case ErrorKind::queue_full: return "queue_full";
    case ErrorKind::queue_timeout: return "queue_timeout";
    case ErrorKind::shutting_down: return "shutting_down";
    case ErrorKind::internal: return "internal";
  }
  return "internal";
}

std::string openai_error_body(const ApiError& error) {
  boost::json::object inner;
  inner["message"] = error.message;
  inner["type"] = openai_error_type(error.kind);
  inner["param"] = error.param.empty() ? boost::json::value(nullptr) : boost::json::value(error.param);
  inner["code"] = openai_error_code(error.kind);
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

std::string_view anthropic_error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    case 504: return "timeout_error";
    default: return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
  }
}

std::string anthropic_error_body(int status, std::string_view message) {
  const boost::json::object body{
      {"type", "error"},
      {"error", boost::json::object{{"type", anthropic_error_type(status)}, {"message", message}}},
  };
  return boost::json::serialize(body);
}

std::string ollama_error_body(std::string_view message) {
  return boost::json::serialize(boost::json::object{{"error", message}});
}

std::string error_body(ClientProtocol protocol, const ApiError& error) {
  if (protocol == ClientProtocol::anthropic) return anthropic_error_body(http_status(error.kind), error.message);
  if (protocol == ClientProtocol::ollama) return ollama_error_body(error.message);
  return openai_error_body(error);
}

}  // namespace switchyard

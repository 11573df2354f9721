#include "server/response_head.hpp"

#include <charconv>

namespace switchyard {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 529: return "Overloaded";
    default: return "Unknown";
  }
}

ResponseHead::ResponseHead(std::string& out, int status) : out_(out) {
  out_.clear();
  char digits[8];
  const auto [end, _] = std::to_chars(digits, digits + sizeof digits, status);
  out_.append("HTTP/1.1 ").append(digits, end).append(" ").append(reason_phrase(status)).append("\r\n");
}

ResponseHead& ResponseHead::header(std::string_view name, std::string_view value) {
  out_.append(name).append(": ").append(value).append("\r\n");
  return *this;
}

ResponseHead& ResponseHead::content_length(std::size_t length) {
  char digits[24];
  const auto [end, _] = std::to_chars(digits, digits + sizeof digits, length);
  out_.append("Content-Length: ").append(digits, end).append("\r\n");
  return *this;
}

std::string& ResponseHead::finish(bool keep_alive) {
  out_.append(keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
  return out_;
}

std::size_t chunk_size_line(char (&buffer)[20], std::size_t length) {
  const auto [end, _] = std::to_chars(buffer, buffer + 16, length, 16);
  end[0] = '\r';
  end[1] = '\n';
  return static_cast<std::size_t>(end + 2 - buffer);
}

}  // namespace switchyard

#include "server/anthropic_adapter.hpp"

#include <boost/json.hpp>

#include "protocol/anthropic_to_openai.hpp"
#include "protocol/openai_to_anthropic.hpp"

namespace switchyard {

namespace json = boost::json;

bool translate_anthropic_request(std::string_view anthropic_body, std::string& openai_body, ApiError& error) {
  boost::system::error_code ec;
  const auto parsed = json::parse(anthropic_body, ec);
  if (ec || !parsed.is_object()) {
    error = ApiError{ErrorKind::invalid_json, "The request body is not a JSON object.", {}};
    return false;
  }
  json::object openai;
  if (!anthropic_to_openai_request(parsed.get_object(), openai, error)) return false;
  openai_body = json::serialize(openai);
  return true;
}

std::string translate_openai_answer(std::string_view openai_body, std::string_view alias) {
  boost::system::error_code ec;
  const auto parsed = json::parse(openai_body, ec);
  if (ec || !parsed.is_object()) return std::string(openai_body);
  json::object message;
  openai_to_anthropic_response(parsed.get_object(), message);
  message["model"] = alias;
  return json::serialize(message);
}

std::string translate_upstream_error(int status, std::string_view body) {
  std::string message(body);
  boost::system::error_code ec;
  const auto parsed = json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    const auto& object = parsed.get_object();
    const json::value* error = object.if_contains("error");
    if (error && error->is_object() && error->get_object().contains("message") &&
        error->get_object().at("message").is_string()) {
      message = error->get_object().at("message").get_string();
    } else if (error && error->is_string()) {
      message = error->get_string();  // Ollama-style {"error":"..."}
    }
  }
  if (message.empty()) message = "Upstream error " + std::to_string(status) + ".";
  return anthropic_error_body(status, message);
}

void AnthropicStreamAdapter::on_event(const SseEvent& event, std::string& out) {
  if (!event.has_data || failed_) return;
  if (event.data == "[DONE]") {
    stream_.on_done(out);
    return;
  }
  boost::system::error_code ec;
  const auto parsed = json::parse(event.data, ec);
  if (ec || !parsed.is_object()) return;
  const auto& chunk = parsed.get_object();
  if (const auto* error = chunk.if_contains("error")) {
    std::string message = "The upstream failed in the middle of the stream.";
    if (error->is_object() && error->get_object().contains("message") && error->get_object().at("message").is_string())
      message = error->get_object().at("message").get_string();
    append_error(message, out);
    failed_ = true;
    return;
  }
  stream_.on_chunk(chunk, out);
}

}  // namespace switchyard

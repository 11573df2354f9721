// What changes on the proxy path when the client speaks Anthropic Messages and the upstream speaks
// OpenAI Chat: the request translated on the way in, whole answers and error bodies on the way out,
// and a stream run through the event state machine. The proxy calls these at its few
// protocol-specific points; everything else (routing, retries, queue, metrics) is shared.
// Per request, on the session's worker thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "protocol/openai_to_anthropic_stream.hpp"
#include "protocol/sse_parser.hpp"

namespace switchyard {

// The Anthropic request body as an OpenAI Chat request body; false with `error` set (400).
bool translate_anthropic_request(std::string_view anthropic_body, std::string& openai_body, ApiError& error);

// A 2xx OpenAI answer as an Anthropic message with `alias` as its model; the body unchanged when it
// is not JSON.
std::string translate_openai_answer(std::string_view openai_body, std::string_view alias);

// An upstream's error answer (any shape) as an Anthropic error body with the same status.
std::string translate_upstream_error(int status, std::string_view body);

// One stream's translation.
class AnthropicStreamAdapter {
 public:
  AnthropicStreamAdapter(std::string alias, std::string message_id) : stream_(std::move(alias), std::move(message_id)) {}
  // One upstream SSE event (OpenAI chunk or [DONE]).
  void on_event(const SseEvent& event, std::string& out);
  // The upstream body ended cleanly: finish the message if [DONE] never came (and no error ended it).
  void on_end(std::string& out) {
    if (!failed_) stream_.on_done(out);
  }
  static void append_error(std::string_view message, std::string& out) {
    OpenAiToAnthropicStream::append_error_event("api_error", message, out);
  }

 private:
  OpenAiToAnthropicStream stream_;
  bool failed_ = false;  // an error event went out: the stream ends there, without message_stop
};

}  // namespace switchyard

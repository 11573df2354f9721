// Carries one streamed answer from the upstream's protocol to the client's, read by read: the
// upstream's framing (SSE or NDJSON) is cut into events, a decoder state machine turns them into hub
// (OpenAI chunk) objects, and an encoder state machine turns those into the client's events (OpenAI
// SSE, Anthropic named events, Ollama NDJSON lines). Same protocol on both sides other than OpenAI
// (whose passthrough has its own faster relay) passes the events through with the model renamed.
// One per streamed attempt, on the session's worker thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "config/config.hpp"
#include "protocol/anthropic_stream_to_openai.hpp"
#include "protocol/ndjson_parser.hpp"
#include "protocol/ollama_stream_to_openai.hpp"
#include "protocol/openai_stream_to_ollama.hpp"
#include "protocol/openai_to_anthropic_stream.hpp"
#include "protocol/sse_parser.hpp"
#include "server/translation.hpp"

namespace switchyard {

// What the proxy learns from the stream as it passes.
struct StreamFacts {
  UsageFacts usage;
  bool first_token = false;     // content (or a tool call) has started
  bool upstream_error = false;  // the upstream reported an error inside the stream
};

class StreamBridge {
 public:
  using Clock = std::chrono::steady_clock;

  StreamBridge(ClientApi api, UpstreamKind kind, std::string alias, const std::string& request_id,
               bool client_wants_usage, Clock::time_point received);
  ~StreamBridge();

  // The Content-Type of the client's stream.
  std::string_view content_type() const;
  // One read of the upstream body; appends what the client gets to `out`.
  void feed(std::string_view bytes, std::string& out);
  // The upstream body ended in order: whatever the client still needs to see the stream end.
  void finish(std::string& out);
  // The upstream failed mid-stream: the client's protocol's error event ends the stream.
  void fail(std::string_view message, std::string& out);

  const StreamFacts& facts() const { return facts_; }

 private:
  void on_sse_event(const SseEvent& event, std::string& out);
  void on_ndjson_line(std::string_view line, std::string& out);
  void on_hub_chunks(std::string& out);
  void encode_openai(const boost::json::object& chunk, std::string& out);
  void passthrough_anthropic(const SseEvent& event, std::string& out);
  void passthrough_ollama(std::string_view line, std::string& out);
  OllamaTimings timings() const;

  ClientApi api_;
  UpstreamKind kind_;
  ClientProtocol client_;
  bool passthrough_;
  std::string alias_;
  bool client_wants_usage_;
  Clock::time_point received_;
  Clock::time_point first_token_at_;
  bool ended_ = false;  // the client's stream was ended (finish or error)

  SseParser sse_;
  NdjsonParser ndjson_;
  std::vector<boost::json::object> chunks_;  // hub chunks decoded from the current read
  std::optional<AnthropicToOpenAiStream> from_anthropic_;
  std::optional<OllamaToOpenAiStream> from_ollama_;
  std::optional<OpenAiToAnthropicStream> to_anthropic_;
  std::optional<OpenAiToOllamaStream> to_ollama_;
  StreamFacts facts_;
};

}  // namespace switchyard

#include "server/stream_bridge.hpp"

#include <boost/json.hpp>

#include "protocol/json_fields.hpp"
#include "protocol/upstream_json_scan.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void append_sse(std::string& out, std::string_view event, std::string_view data) {
  if (!event.empty()) out.append("event: ").append(event).append("\n");
  out.append("data: ").append(data).append("\n\n");
}

std::int64_t nanos(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

}  // namespace

StreamBridge::StreamBridge(ClientApi api, UpstreamKind kind, std::string alias, const std::string& request_id,
                           bool client_wants_usage, Clock::time_point received)
    : api_(api),
      kind_(kind),
      client_(client_protocol(api)),
      passthrough_(is_passthrough(api, kind)),
      alias_(std::move(alias)),
      client_wants_usage_(client_wants_usage),
      received_(received) {
  if (passthrough_) return;
  const std::string id = "chatcmpl-" + request_id;
  if (kind == UpstreamKind::anthropic) from_anthropic_.emplace(id, unix_seconds());
  if (kind == UpstreamKind::ollama)
    from_ollama_.emplace(hub_endpoint(api) != OpenAiEndpoint::completions, id, unix_seconds());
  if (client_ == ClientProtocol::anthropic) to_anthropic_.emplace(alias_, "msg_" + request_id);
  if (client_ == ClientProtocol::ollama) to_ollama_.emplace(ollama_endpoint(api), alias_);
}

StreamBridge::~StreamBridge() = default;

std::string_view StreamBridge::content_type() const {
  return client_ == ClientProtocol::ollama ? "application/x-ndjson" : "text/event-stream";
}

void StreamBridge::feed(std::string_view bytes, std::string& out) {
  if (kind_ == UpstreamKind::ollama) {
    ndjson_.feed(bytes, [&](std::string_view line) { on_ndjson_line(line, out); });
  } else {
    sse_.feed(bytes, [&](const SseEvent& event) { on_sse_event(event, out); });
  }
}

void StreamBridge::on_sse_event(const SseEvent& event, std::string& out) {
  if (ended_ || !event.has_data) return;
  if (passthrough_) return passthrough_anthropic(event, out);  // OpenAI passthrough never comes here
  if (event.data == "[DONE]") return;
  // An OpenAI chunk lives only until on_hub_chunks below has encoded it (the encoders keep no JSON), so
  // it is parsed into an arena on the stack instead of one heap allocation per key and string.
  unsigned char arena_buffer[4096];
  json::monotonic_resource arena(arena_buffer, sizeof arena_buffer);
  json::storage_ptr storage = from_anthropic_ ? json::storage_ptr() : json::storage_ptr(&arena);
  boost::system::error_code ec;
  auto parsed = json::parse(event.data, ec, std::move(storage));
  if (ec || !parsed.is_object()) return;
  if (from_anthropic_) {
    std::string_view name = event.event;
    const auto* type = parsed.get_object().if_contains("type");
    if (name.empty() && type && type->is_string()) name = type->get_string();
    from_anthropic_->on_event(name, parsed.get_object(), chunks_);
  } else {
    chunks_.push_back(std::move(parsed.get_object()));
  }
  on_hub_chunks(out);
}

void StreamBridge::on_ndjson_line(std::string_view line, std::string& out) {
  if (ended_) return;
  if (passthrough_) return passthrough_ollama(line, out);
  boost::system::error_code ec;
  const auto parsed = json::parse(line, ec);
  if (ec || !parsed.is_object()) return;
  from_ollama_->on_line(parsed.get_object(), chunks_);
  on_hub_chunks(out);
}

void StreamBridge::on_hub_chunks(std::string& out) {
  for (auto& chunk : chunks_) {
    if (ended_) break;
    if (const auto* usage = object_at(chunk, "usage")) {
      const auto prompt = integer_at(*usage, "prompt_tokens");
      const auto completion = integer_at(*usage, "completion_tokens");
      if (prompt >= 0) facts_.usage.prompt_tokens = prompt;
      if (completion >= 0) facts_.usage.completion_tokens = completion;
    }
    const bool error = chunk.contains("error");
    if (error) facts_.upstream_error = true;
    if (const auto* choices = chunk.if_contains("choices");
        !facts_.first_token && choices && choices->is_array() && !choices->get_array().empty()) {
      facts_.first_token = true;
      first_token_at_ = Clock::now();
    }
    switch (client_) {
      case ClientProtocol::openai: encode_openai(chunk, out); break;
      case ClientProtocol::anthropic:
        if (error) {
          const auto* e = object_at(chunk, "error");
          const auto* message = e ? e->if_contains("message") : nullptr;
          OpenAiToAnthropicStream::append_error_event(
              "api_error", message && message->is_string() ? std::string_view(message->get_string()) : "Upstream error.",
              out);
          ended_ = true;
        } else {
          to_anthropic_->on_chunk(chunk, out);
        }
        break;
      case ClientProtocol::ollama:
        to_ollama_->on_chunk(chunk, out);
        if (error) ended_ = true;
        break;
    }
  }
  chunks_.clear();
}

void StreamBridge::encode_openai(const json::object& chunk, std::string& out) {
  if (chunk.contains("error")) {
    append_sse(out, {}, json::serialize(chunk));
    ended_ = true;
    return;
  }
  const auto* choices = chunk.if_contains("choices");
  const bool usage_only = (!choices || (choices->is_array() && choices->get_array().empty())) && chunk.contains("usage");
  if (usage_only && !client_wants_usage_) return;
  json::object renamed = chunk;
  renamed["model"] = alias_;
  append_sse(out, {}, json::serialize(renamed));
}

// Anthropic to Anthropic: events as they came, but message_start names the alias.
void StreamBridge::passthrough_anthropic(const SseEvent& event, std::string& out) {
  const bool start = event.event == "message_start";
  const bool delta = event.event == "message_delta";
  if (event.event == "content_block_delta" && !facts_.first_token) {
    facts_.first_token = true;
    first_token_at_ = Clock::now();
  }
  if (event.event == "error") facts_.upstream_error = true;
  if (event.event.empty()) {
    // Without an event: line the Anthropic SDK ignores the event: name it by its data's type.
    boost::system::error_code ec;
    const auto parsed = json::parse(event.data, ec);
    const auto* type = !ec && parsed.is_object() ? parsed.get_object().if_contains("type") : nullptr;
    if (type && type->is_string()) {
      SseEvent named = event;
      named.event = std::string(type->get_string());
      return passthrough_anthropic(named, out);
    }
  }
  if (!start && !delta) return append_sse(out, event.event, event.data);
  boost::system::error_code ec;
  auto parsed = json::parse(event.data, ec);
  if (ec || !parsed.is_object()) return append_sse(out, event.event, event.data);
  auto& data = parsed.get_object();
  if (start) {
    if (auto* message = data.if_contains("message"); message && message->is_object()) {
      message->get_object()["model"] = alias_;
      if (const auto* usage = object_at(message->get_object(), "usage")) {
        std::int64_t prompt = 0;
        for (const auto* key : {"input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"})
          prompt += std::max<std::int64_t>(integer_at(*usage, key), 0);
        facts_.usage.prompt_tokens = prompt;
      }
    }
    return append_sse(out, event.event, json::serialize(data));
  }
  if (const auto* usage = object_at(data, "usage")) {
    const auto output = integer_at(*usage, "output_tokens");
    if (output >= 0) facts_.usage.completion_tokens = output;
  }
  append_sse(out, event.event, event.data);
}

// Ollama to Ollama: lines as they came, each naming the alias.
void StreamBridge::passthrough_ollama(std::string_view line, std::string& out) {
  const auto scan = scan_upstream_json(line);
  if (!scan.valid) {
    out.append(line).append("\n");
    return;
  }
  if (!facts_.first_token && line.find("\"content\":\"") != std::string_view::npos &&
      line.find("\"content\":\"\"") == std::string_view::npos) {
    facts_.first_token = true;
    first_token_at_ = Clock::now();
  }
  if (line.find("\"error\"") != std::string_view::npos) facts_.upstream_error = true;
  if (line.find("\"done\":true") != std::string_view::npos) {
    boost::system::error_code ec;
    const auto parsed = json::parse(line, ec);
    if (!ec && parsed.is_object()) {
      facts_.usage.prompt_tokens = integer_at(parsed.get_object(), "prompt_eval_count");
      facts_.usage.completion_tokens = integer_at(parsed.get_object(), "eval_count");
    }
  }
  rewrite_model_field(line, scan, alias_, out);
  out.append("\n");
}

OllamaTimings StreamBridge::timings() const {
  const auto now = Clock::now();
  OllamaTimings t;
  t.total_ns = nanos(now - received_);
  if (facts_.first_token) {
    t.prompt_eval_ns = nanos(first_token_at_ - received_);
    t.eval_ns = nanos(now - first_token_at_);
  }
  return t;
}

void StreamBridge::finish(std::string& out) {
  if (kind_ == UpstreamKind::ollama && ndjson_.mid_line()) {
    const std::string rest(ndjson_.rest());
    on_ndjson_line(rest, out);
  }
  if (ended_ || passthrough_) return;
  // An upstream body that ended without its own end (message_stop, done:true) still closes the
  // message properly: the finish chunk clients such as openai-node's stream helper require.
  if (from_anthropic_ && !from_anthropic_->finished()) {
    from_anthropic_->on_event("message_stop", json::object{{"type", "message_stop"}}, chunks_);
    on_hub_chunks(out);
  }
  if (from_ollama_ && !from_ollama_->finished()) {
    from_ollama_->on_line(json::object{{"done", true}}, chunks_);
    on_hub_chunks(out);
  }
  if (ended_) return;
  ended_ = true;
  switch (client_) {
    case ClientProtocol::openai: out.append("data: [DONE]\n\n"); break;
    case ClientProtocol::anthropic:
      if (!to_anthropic_->finished()) to_anthropic_->on_done(out);
      break;
    case ClientProtocol::ollama:
      if (!to_ollama_->finished()) to_ollama_->on_done(timings(), out);
      break;
  }
}

void StreamBridge::fail(std::string_view message, std::string& out) {
  if (ended_) return;
  ended_ = true;
  switch (client_) {
    case ClientProtocol::openai: {
      const json::object error{{"error", json::object{{"message", message}, {"type", "server_error"}}}};
      append_sse(out, {}, json::serialize(error));
      break;
    }
    case ClientProtocol::anthropic: OpenAiToAnthropicStream::append_error_event("api_error", message, out); break;
    case ClientProtocol::ollama: OpenAiToOllamaStream::append_error_line(message, out); break;
  }
}

}  // namespace switchyard

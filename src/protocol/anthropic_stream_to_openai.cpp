#include "protocol/anthropic_stream_to_openai.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "protocol/anthropic_response_to_openai.hpp"
#include "protocol/json_fields.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

// A non-negative integer field, or -1 when absent, null, negative or of another type.
std::int64_t non_negative_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value && value->is_int64() && value->get_int64() >= 0) return value->get_int64();
  if (value && value->is_uint64()) return static_cast<std::int64_t>(value->get_uint64());
  return -1;
}

}  // namespace

AnthropicToOpenAiStream::AnthropicToOpenAiStream(std::string id, std::int64_t created)
    : id_(std::move(id)), created_(created) {}

bool AnthropicToOpenAiStream::finished() const { return finished_; }

json::object AnthropicToOpenAiStream::chunk(json::object delta, std::string_view finish_reason) const {
  json::object choice{{"index", 0}, {"delta", std::move(delta)}};
  choice["finish_reason"] = finish_reason.empty() ? json::value(nullptr) : json::value(finish_reason);
  return json::object{{"id", id_},
                      {"object", "chat.completion.chunk"},
                      {"created", created_},
                      {"model", model_},
                      {"choices", json::array{std::move(choice)}}};
}

void AnthropicToOpenAiStream::start(std::vector<json::object>& chunks) {
  if (started_) return;
  started_ = true;
  chunks.push_back(chunk(json::object{{"role", "assistant"}, {"content", ""}}));
}

// message_start and message_delta both carry usage; later values overwrite earlier ones (message_delta's
// are cumulative), as Anthropic's own SDK does.
void AnthropicToOpenAiStream::read_usage(const json::object& usage) {
  if (const auto n = non_negative_at(usage, "input_tokens"); n >= 0) input_tokens_ = n;
  if (const auto n = non_negative_at(usage, "cache_read_input_tokens"); n >= 0) cache_read_tokens_ = n;
  if (const auto n = non_negative_at(usage, "cache_creation_input_tokens"); n >= 0) cache_creation_tokens_ = n;
  if (const auto n = non_negative_at(usage, "output_tokens"); n >= 0) output_tokens_ = n;
}

void AnthropicToOpenAiStream::on_block_start(const json::object& data, std::vector<json::object>& chunks) {
  const auto* block = object_at(data, "content_block");
  if (!block) return;
  const auto type = string_at(*block, "type");
  if (type == "tool_use") {
    const auto index = non_negative_at(data, "index");
    const auto known = std::find_if(tool_blocks_.begin(), tool_blocks_.end(),
                                    [&](const auto& entry) { return entry.first == index; });
    if (known != tool_blocks_.end()) return;  // a repeated start opens no second call
    const int tool = tool_count_++;
    tool_blocks_.emplace_back(index, tool);
    auto id = std::string(string_at(*block, "id"));
    if (id.empty()) id = "call_" + std::to_string(tool);  // OpenAI clients need some id to answer the call
    // Anthropic starts with input {}; an emitter that puts the whole input here still has it passed on.
    const auto* input = object_at(*block, "input");
    std::string arguments = input && !input->empty() ? json::serialize(*input) : std::string();
    start(chunks);
    chunks.push_back(chunk(json::object{
        {"tool_calls", json::array{json::object{{"index", tool},
                                                {"id", std::move(id)},
                                                {"type", "function"},
                                                {"function", json::object{{"name", string_at(*block, "name")},
                                                                          {"arguments", std::move(arguments)}}}}}}}));
  } else if (type == "text") {
    if (const auto text = string_at(*block, "text"); !text.empty()) {
      start(chunks);
      chunks.push_back(chunk(json::object{{"content", text}}));
    }
  } else if (type == "thinking") {
    if (const auto thinking = string_at(*block, "thinking"); !thinking.empty()) {
      start(chunks);
      chunks.push_back(chunk(json::object{{"reasoning_content", thinking}}));
    }
  }
  // redacted_thinking and server tool blocks have no OpenAI counterpart.
}

void AnthropicToOpenAiStream::on_block_delta(const json::object& data, std::vector<json::object>& chunks) {
  const auto* delta = object_at(data, "delta");
  if (!delta) return;
  const auto type = string_at(*delta, "type");
  json::object out;
  if (type == "text_delta") {
    if (const auto text = string_at(*delta, "text"); !text.empty()) out["content"] = text;
  } else if (type == "thinking_delta") {
    if (const auto thinking = string_at(*delta, "thinking"); !thinking.empty()) out["reasoning_content"] = thinking;
  } else if (type == "input_json_delta") {
    const auto index = non_negative_at(data, "index");
    const auto known = std::find_if(tool_blocks_.begin(), tool_blocks_.end(),
                                    [&](const auto& entry) { return entry.first == index; });
    // A fragment for a block that never started has no call to belong to: without id and name the
    // client could not use it.
    const auto fragment = string_at(*delta, "partial_json");
    if (known != tool_blocks_.end() && !fragment.empty())
      out["tool_calls"] =
          json::array{json::object{{"index", known->second}, {"function", json::object{{"arguments", fragment}}}}};
  }
  // signature_delta and citations_delta have no OpenAI counterpart.
  if (out.empty()) return;
  start(chunks);
  chunks.push_back(chunk(std::move(out)));
}

void AnthropicToOpenAiStream::finish(std::string_view finish_reason, std::vector<json::object>& chunks) {
  if (finish_sent_) return;
  finish_sent_ = true;
  // Clients act on tool calls only when told so (OpenAI's own streams have been seen saying stop).
  if (tool_count_ > 0 && finish_reason == "stop") finish_reason = "tool_calls";
  start(chunks);
  chunks.push_back(chunk(json::object{}, finish_reason));
}

void AnthropicToOpenAiStream::on_event(std::string_view name, const json::object& data,
                                       std::vector<json::object>& chunks) {
  if (finished_) return;
  const auto type = name.empty() ? string_at(data, "type") : name;
  if (type == "message_start") {
    if (const auto* message = object_at(data, "message")) {
      if (const auto* model = message->if_contains("model"); model && model->is_string()) model_ = model->get_string();
      if (const auto* usage = object_at(*message, "usage")) read_usage(*usage);
    }
    start(chunks);
  } else if (type == "content_block_start") {
    on_block_start(data, chunks);
  } else if (type == "content_block_delta") {
    on_block_delta(data, chunks);
  } else if (type == "message_delta") {
    if (const auto* usage = object_at(data, "usage")) read_usage(*usage);
    if (const auto* delta = object_at(data, "delta"))
      if (const auto* reason = delta->if_contains("stop_reason"); reason && reason->is_string())
        finish(openai_finish_reason(reason->get_string()), chunks);
  } else if (type == "message_stop") {
    finish("stop", chunks);  // no-op when message_delta already gave the reason
    const auto prompt = input_tokens_ + cache_read_tokens_ + cache_creation_tokens_;
    chunks.push_back(json::object{
        {"id", id_},
        {"object", "chat.completion.chunk"},
        {"created", created_},
        {"model", model_},
        {"choices", json::array{}},
        {"usage", json::object{{"prompt_tokens", prompt},
                               {"completion_tokens", output_tokens_},
                               {"total_tokens", prompt + output_tokens_},
                               {"prompt_tokens_details", json::object{{"cached_tokens", cache_read_tokens_}}}}},
    });
    finished_ = true;
  } else if (type == "error") {
    const auto* error = object_at(data, "error");
    auto message = error ? string_at(*error, "message") : std::string_view{};
    auto error_type = error ? string_at(*error, "type") : std::string_view{};
    chunks.push_back(json::object{
        {"error", json::object{{"message", message.empty() ? std::string_view("The upstream reported an error.") : message},
                               {"type", error_type.empty() ? std::string_view("api_error") : error_type},
                               {"param", nullptr},
                               {"code", nullptr}}}});
    finished_ = true;
  }
  // ping, content_block_stop and unknown events produce nothing.
}

}  // namespace switchyard

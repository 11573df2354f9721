#include "protocol/openai_to_anthropic_stream.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "protocol/json_fields.hpp"
#include "protocol/openai_to_anthropic.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

void append_event(std::string_view name, const json::object& data, std::string& out) {
  out.append("event: ").append(name).append("\ndata: ").append(json::serialize(data)).append("\n\n");
}

}  // namespace

OpenAiToAnthropicStream::OpenAiToAnthropicStream(std::string model, std::string message_id)
    : model_(std::move(model)), message_id_(std::move(message_id)) {}

void OpenAiToAnthropicStream::append_error_event(std::string_view type, std::string_view message, std::string& out) {
  append_event("error", json::object{{"type", "error"}, {"error", json::object{{"type", type}, {"message", message}}}},
               out);
}

void OpenAiToAnthropicStream::start(std::string& out) {
  if (started_) return;
  started_ = true;
  append_event("message_start",
               json::object{{"type", "message_start"},
                            {"message", json::object{{"id", message_id_},
                                                     {"type", "message"},
                                                     {"role", "assistant"},
                                                     {"model", model_},
                                                     {"content", json::array{}},
                                                     {"stop_reason", nullptr},
                                                     {"stop_sequence", nullptr},
                                                     {"usage", json::object{{"input_tokens", uncached_input()},
                                                                            {"output_tokens", 0},
                                                                            {"cache_read_input_tokens", cached_tokens_}}}}}},
               out);
}

void OpenAiToAnthropicStream::open(Block block, const json::object& content_block, std::string& out) {
  close(out);
  open_ = block;
  open_index_ = next_index_++;
  append_event("content_block_start",
               json::object{{"type", "content_block_start"}, {"index", open_index_}, {"content_block", content_block}}, out);
}

void OpenAiToAnthropicStream::close(std::string& out) {
  if (open_ == Block::none) return;
  if (open_ == Block::thinking)  // the API sends a signature before a thinking block closes
    text_delta(open_index_, "signature_delta", "signature", "", out);
  append_event("content_block_stop", json::object{{"type", "content_block_stop"}, {"index", open_index_}}, out);
  open_ = Block::none;
}

// Every content_block_delta, written straight out: building two objects to serialize them was most of
// a translated stream's CPU.
void OpenAiToAnthropicStream::text_delta(int index, std::string_view type, std::string_view field, std::string_view text,
                                         std::string& out) {
  out.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":")
      .append(std::to_string(index))
      .append(",\"delta\":{\"type\":\"")
      .append(type)
      .append("\",\"")
      .append(field)
      .append("\":")
      .append(json::serialize(json::string_view(text.data(), text.size())))
      .append("}}\n\n");
}

void OpenAiToAnthropicStream::on_chunk(const json::object& chunk, std::string& out) {
  if (finished_) return;
  if (const auto* usage = chunk.if_contains("usage"); usage && usage->is_object()) {
    const auto& u = usage->get_object();
    if (const auto prompt = integer_at(u, "prompt_tokens"); prompt >= 0) input_tokens_ = prompt;
    if (const auto completion = integer_at(u, "completion_tokens"); completion >= 0) output_tokens_ = completion;
    if (const auto* details = u.if_contains("prompt_tokens_details"); details && details->is_object())
      cached_tokens_ = std::max<std::int64_t>(integer_at(details->get_object(), "cached_tokens"), 0);
  }
  start(out);
  const auto* choice = first_choice(chunk);
  if (!choice) return;
  const auto& c = *choice;
  if (const auto* d = object_at(c, "delta")) {
    const auto& delta_object = *d;
    if (const auto reasoning = reasoning_text(delta_object); !reasoning.empty()) {
      if (open_ != Block::thinking) open(Block::thinking, json::object{{"type", "thinking"}, {"thinking", ""}}, out);
      text_delta(open_index_, "thinking_delta", "thinking", reasoning, out);
    }
    if (const auto text = string_at(delta_object, "content"); !text.empty()) {
      if (open_ != Block::text) open(Block::text, json::object{{"type", "text"}, {"text", ""}}, out);
      text_delta(open_index_, "text_delta", "text", text, out);
    }
    if (const auto* calls = delta_object.if_contains("tool_calls"); calls && calls->is_array()) {
      for (const auto& call : calls->get_array()) {
        if (!call.is_object()) continue;
        const auto& tc = call.get_object();
        const auto tool_index = std::max<std::int64_t>(integer_at(tc, "index"), 0);
        const json::object* function = nullptr;
        if (const auto* f = tc.if_contains("function"); f && f->is_object()) function = &f->get_object();
        auto block = tool_blocks_.find(tool_index);
        if (block == tool_blocks_.end()) {
          open(Block::tool,
               json::object{{"type", "tool_use"},
                            {"id", anthropic_tool_id(string_at(tc, "id"))},
                            {"name", function ? string_at(*function, "name") : std::string_view{}},
                            {"input", json::object{}}},
               out);
          block = tool_blocks_.emplace(tool_index, open_index_).first;
          saw_tool_call_ = true;
        }
        if (const auto arguments = function ? string_at(*function, "arguments") : std::string_view{}; !arguments.empty())
          text_delta(block->second, "input_json_delta", "partial_json", arguments, out);
      }
    }
  }
  if (const auto reason = string_at(c, "finish_reason"); !reason.empty()) {
    finish_reason_ = reason;
    close(out);  // message_delta waits: the usage may still come in a later chunk
  }
}

void OpenAiToAnthropicStream::on_done(std::string& out) {
  if (finished_) return;
  start(out);
  close(out);
  json::object usage{{"output_tokens", output_tokens_}};
  if (input_tokens_ >= 0) {
    usage["input_tokens"] = uncached_input();
    usage["cache_read_input_tokens"] = cached_tokens_;
  }
  const auto stop = saw_tool_call_ ? std::string_view("tool_use") : anthropic_stop_reason(finish_reason_);
  append_event("message_delta",
               json::object{{"type", "message_delta"},
                            {"delta", json::object{{"stop_reason", stop}, {"stop_sequence", nullptr}}},
                            {"usage", std::move(usage)}},
               out);
  append_event("message_stop", json::object{{"type", "message_stop"}}, out);
  finished_ = true;
}

}  // namespace switchyard

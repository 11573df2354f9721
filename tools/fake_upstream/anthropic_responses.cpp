#include "anthropic_responses.hpp"

namespace fake_upstream {
namespace {

void append_event(std::string& out, std::string& event, std::string_view name, std::string_view data) {
  event.clear();
  event += "event: ";
  event += name;
  event += "\ndata: ";
  event += data;
  event += "\n\n";
  append_chunk(out, event);
}

std::string_view stop_reason(const Completion& c) {
  if (!c.tool_json.empty()) return "tool_use";
  return c.length_limited ? "max_tokens" : "end_turn";
}

void append_tool_use_block(std::string& out, const Completion& c, std::string_view input) {
  out += R"({"type":"tool_use","id":"toolu_fake_)";
  append_int(out, static_cast<std::int64_t>(c.id));
  out += R"(","name":)";
  out += c.tool_json;
  out += R"(,"input":)";
  out += input;
  out += '}';
}

void append_usage(std::string& out, int input_tokens, int output_tokens) {
  out += R"("usage":{"input_tokens":)";
  append_int(out, input_tokens);
  out += R"(,"output_tokens":)";
  append_int(out, output_tokens);
  out += R"(,"cache_creation_input_tokens":0,"cache_read_input_tokens":0})";
}

void append_message_head(std::string& out, const Completion& c) {
  out += R"({"id":"msg_fake_)";
  append_int(out, static_cast<std::int64_t>(c.id));
  out += R"(","type":"message","role":"assistant","model":)";
  out += c.model_json;
  out += ',';
}

}  // namespace

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
    default: return "api_error";
  }
}

void append_anthropic_error_body(std::string& out, int status, std::string_view message) {
  out += R"({"type":"error","error":{"type":")";
  out += anthropic_error_type(status);
  out += R"(","message":)";
  append_json_string(out, message);
  out += R"(},"request_id":"req_fake"})";
}

void append_message_body(std::string& out, const Completion& c) {
  append_message_head(out, c);
  if (c.tool_json.empty()) {
    out += R"("content":[{"type":"text","text":")";
    append_json_escaped(out, c.text_prefix);
    out += token_text(c.completion_tokens);
    out += R"("}],"stop_reason":")";
  } else {
    out += R"("content":[)";
    append_tool_use_block(out, c, kToolArguments);
    out += R"(],"stop_reason":")";
  }
  out += stop_reason(c);
  out += R"(","stop_sequence":null,)";
  append_usage(out, c.prompt_tokens, c.completion_tokens);
  out += '}';
}

namespace {

void append_message_start_event(std::string& out, std::string& event, const Completion& c) {
  std::string data = R"({"type":"message_start","message":)";
  append_message_head(data, c);
  data += R"("content":[],"stop_reason":null,"stop_sequence":null,)";
  append_usage(data, c.prompt_tokens, 1);
  data += "}}";
  append_event(out, event, "message_start", data);
}

}  // namespace

void append_tool_use_stream_start(std::string& out, std::string& event, const Completion& c) {
  append_message_start_event(out, event, c);
  std::string data = R"({"type":"content_block_start","index":0,"content_block":)";
  append_tool_use_block(data, c, "{}");
  data += '}';
  append_event(out, event, "content_block_start", data);
  append_input_json_delta(out, event, "");
}

void append_input_json_delta(std::string& out, std::string& event, std::string_view piece) {
  std::string data = R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":)";
  append_json_string(data, piece);
  data += "}}";
  append_event(out, event, "content_block_delta", data);
}

void append_message_stream_start(std::string& out, std::string& event, const Completion& c) {
  append_message_start_event(out, event, c);
  append_event(out, event, "content_block_start",
               R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
  append_event(out, event, "ping", R"({"type": "ping"})");
}

void append_text_delta(std::string& out, std::string& event, int i) {
  std::string data = R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")";
  data += token(i);
  data += R"("}})";
  append_event(out, event, "content_block_delta", data);
}

void append_text_delta(std::string& out, std::string& event, std::string_view text) {
  std::string data = R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")";
  append_json_escaped(data, text);
  data += R"("}})";
  append_event(out, event, "content_block_delta", data);
}

void append_count_tokens_body(std::string& out, int input_tokens) {
  out += R"({"input_tokens":)";
  append_int(out, input_tokens);
  out += '}';
}

void append_message_stream_end(std::string& out, std::string& event, const Completion& c) {
  append_event(out, event, "content_block_stop", R"({"type":"content_block_stop","index":0})");
  std::string data = R"({"type":"message_delta","delta":{"stop_reason":")";
  data += stop_reason(c);
  data += R"(","stop_sequence":null},"usage":{"output_tokens":)";
  append_int(data, c.completion_tokens);
  data += "}}";
  append_event(out, event, "message_delta", data);
  append_event(out, event, "message_stop", R"({"type":"message_stop"})");
  out += "0\r\n\r\n";
}

}  // namespace fake_upstream

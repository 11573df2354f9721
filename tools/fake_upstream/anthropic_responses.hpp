// Anthropic Messages API answers (POST /v1/messages and /v1/messages/count_tokens): the message body, the named SSE events of a
// stream in the order the API sends them, and Anthropic's error body. Same conventions as
// responses.hpp: pure functions appending to reusable strings.
#pragma once

#include <string>
#include <string_view>

#include "responses.hpp"

namespace fake_upstream {

// POST /v1/messages/count_tokens: {"input_tokens":N}.
void append_count_tokens_body(std::string& out, int input_tokens);

// {"type":"error","error":{"type":"...","message":"..."},"request_id":"req_fake"}
void append_anthropic_error_body(std::string& out, int status, std::string_view message);
std::string_view anthropic_error_type(int status);

// {"id":"msg_fake_N","type":"message","role":"assistant","model":...,"content":[{"type":"text",...}],
//  "stop_reason":"end_turn"|"max_tokens","stop_sequence":null,"usage":{...}}
void append_message_body(std::string& out, const Completion& c);

// Stream events, each one HTTP chunk: message_start, content_block_start (text) and a ping; one
// content_block_delta per token; content_block_stop, message_delta (stop reason, usage) and
// message_stop, then the end of the chunked body.
void append_message_stream_start(std::string& out, std::string& event, const Completion& c);
void append_text_delta(std::string& out, std::string& event, int i);
// A text_delta carrying `text` (escaped here): the answer's text_prefix.
void append_text_delta(std::string& out, std::string& event, std::string_view text);
void append_message_stream_end(std::string& out, std::string& event, const Completion& c);

// A tool_use answer streamed: message_start, a tool_use block start (input {}), input_json_delta
// events (the first one empty, as the API sends it), then the same end as a text answer.
void append_tool_use_stream_start(std::string& out, std::string& event, const Completion& c);
void append_input_json_delta(std::string& out, std::string& event, std::string_view piece);

}  // namespace fake_upstream

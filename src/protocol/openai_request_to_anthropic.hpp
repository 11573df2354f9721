// OpenAI Chat Completions request -> Anthropic Messages request, for a client of any protocol served
// by an upstream of kind anthropic (the gateway's hub shape is OpenAI Chat). System and developer
// messages become `system`; consecutive same-role messages are merged (Anthropic wants alternation);
// tool messages become tool_result blocks in one user message; image_url parts become base64 or url
// image sources; tools, tool_choice, stop, response_format are mapped; max_tokens defaults when unset
// (Anthropic requires it); unset sampling parameters stay unset. Pure; any thread.
// Details that follow the protocol reference's pitfalls: tool-call ids are made [A-Za-z0-9_-] in both
// tool_use and tool_result; tool_result blocks lead their user turn; empty and whitespace-only text
// (rejected by Anthropic) is dropped, and a turn left empty vanishes; temperature is clamped to 0..1;
// whitespace-only stop strings and e-mail user ids (both rejected) are dropped; cache_control on text
// and image parts is kept; tool_choice is sent only with tools; a history with tool calls but no tools
// in the request gets a placeholder tool (dummy_tool) and tool_choice none, since Anthropic refuses
// tool_use/tool_result blocks without tool definitions. Anthropic has no JSON mode, so
// response_format json_object / json_schema becomes an instruction appended to `system` (with the
// schema when given) and the model is trusted to follow it. n>1, non-function tools, content parts
// other than text/image_url (audio, files) and unknown tool_choice forms are refused with the param.
#pragma once

#include <cstdint>

#include <boost/json/object.hpp>

#include "core/error.hpp"

namespace switchyard {

struct AnthropicRequestOptions {
  std::int64_t default_max_tokens = 4096;  // sent when the client gave no max_tokens
};

// Fills `anthropic` from `openai` (a parsed chat request). The model is copied as given; the caller
// rewrites it. False with `error` set (param naming the field) when the request cannot be expressed.
bool openai_to_anthropic_request(const boost::json::object& openai, boost::json::object& anthropic,
                                 const AnthropicRequestOptions& options, ApiError& error);

}  // namespace switchyard

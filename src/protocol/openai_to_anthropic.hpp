// OpenAI Chat Completions response -> Anthropic Messages response, for an Anthropic client served by
// an OpenAI-compatible upstream: text and tool calls as content blocks (tool arguments parsed into
// `input`, ids made safe for Anthropic), finish_reason mapped to stop_reason (tool_use whenever tool
// calls came back, whatever the upstream said), usage with cached tokens split out. Used by the
// /v1/messages route (server/anthropic_adapter). Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace switchyard {

void openai_to_anthropic_response(const boost::json::object& openai, boost::json::object& anthropic);

// Anthropic's stop_reason for an OpenAI finish_reason (null or unknown -> end_turn).
std::string_view anthropic_stop_reason(std::string_view finish_reason);

// A tool-call id as Anthropic accepts it: [A-Za-z0-9_-]+, other bytes replaced by '_'.
std::string anthropic_tool_id(std::string_view id);

}  // namespace switchyard

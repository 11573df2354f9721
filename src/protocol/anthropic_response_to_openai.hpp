// Anthropic Messages response -> OpenAI Chat Completions response, for a client of any protocol
// served by an upstream of kind anthropic: text blocks joined into content, tool_use blocks as
// tool_calls (input serialised to string arguments), thinking kept as reasoning_content, stop_reason
// mapped to finish_reason, usage with cache reads counted into prompt_tokens and reported as
// prompt_tokens_details.cached_tokens. content is null when there are tool calls and no text;
// finish_reason becomes tool_calls whenever tool calls came back and the reason would be "stop";
// `created` is the current time (Anthropic has no timestamp). Pure; any thread.
#pragma once

#include <string_view>

#include <boost/json/object.hpp>

namespace switchyard {

void anthropic_to_openai_response(const boost::json::object& anthropic, boost::json::object& openai);

// OpenAI's finish_reason for an Anthropic stop_reason (null or unknown -> "stop").
std::string_view openai_finish_reason(std::string_view stop_reason);

}  // namespace switchyard

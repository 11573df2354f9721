// Anthropic Messages request -> OpenAI Chat Completions request, for an Anthropic client served by
// an OpenAI-compatible upstream. Follows docs of both APIs and the pitfalls other translators fell
// into (tool results before the user's text, merged into tool messages; images kept as data: or
// https URLs; empty text dropped; unset sampling parameters left unset; tool_use input serialised
// into string arguments; tool-call ids over OpenAI's 40 characters shortened with a hash, the same way
// in the call and its result; usage always requested on streams). Used by the /v1/messages route
// (server/anthropic_adapter). Pure; any thread.
#pragma once

#include <boost/json/object.hpp>

#include "core/error.hpp"

namespace switchyard {

// Fills `openai` from `anthropic` (a parsed request body). The model is copied as given; the caller
// rewrites it. False with `error` set (param naming the field) when the request is not valid.
bool anthropic_to_openai_request(const boost::json::object& anthropic, boost::json::object& openai, ApiError& error);

}  // namespace switchyard

// POST /v1/messages/count_tokens: forwarded to the alias's upstream when every deployment of it is
// an Anthropic upstream (which counts exactly); otherwise estimated by the gateway from the text of
// the request (about four bytes a token, as tokenizers average on English and code), since
// OpenAI-compatible and Ollama servers have no such endpoint. Runs on the session's worker thread.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/json/object.hpp>

#include "server/http_session.hpp"

namespace switchyard {

Task<> serve_count_tokens(HttpSession& session, Request& request, RequestContext& context);

// The estimate for a parsed Anthropic request: system, messages and tools.
std::int64_t estimate_input_tokens(const boost::json::object& request);

}  // namespace switchyard

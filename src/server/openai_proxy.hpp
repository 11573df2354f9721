// The OpenAI passthrough: validate, resolve the alias, forward to the chosen deployment over a pooled
// connection and relay the answer (whole, or event by event for streams) with the model name swapped
// back. Runs on the session's worker thread.
#pragma once

#include "protocol/openai_body.hpp"
#include "server/http_session.hpp"

namespace switchyard {

Task<> proxy_openai(HttpSession& session, Request& request, RequestContext& context, OpenAiEndpoint endpoint);

}  // namespace switchyard

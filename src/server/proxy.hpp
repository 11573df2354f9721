// The proxy path of every inference API (OpenAI, Anthropic, Ollama): bring the request to the hub
// shape, validate, resolve the alias, forward to the chosen deployment in its upstream's protocol
// over a pooled connection and relay the answer (whole, or event by event for streams) in the
// client's protocol with the alias as the model. Runs on the session's worker thread.
#pragma once

#include "server/http_session.hpp"
#include "server/translation.hpp"

namespace switchyard {

Task<> proxy_request(HttpSession& session, Request& request, RequestContext& context, ClientApi api);

}  // namespace switchyard

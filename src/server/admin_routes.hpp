// Gateway-answered routes: GET /health, GET /metrics, GET /v1/models, GET /v1/models/{id}.
// Run on the worker thread of the session that received them.
#pragma once

#include <string_view>

#include "server/http_session.hpp"

namespace switchyard {

Task<> serve_health(HttpSession& session, RequestContext& context);
Task<> serve_metrics(HttpSession& session, RequestContext& context);
Task<> serve_model_list(HttpSession& session, RequestContext& context);
// `encoded_id` is the rest of the path after /v1/models/, still percent-encoded.
Task<> serve_model(HttpSession& session, RequestContext& context, std::string_view encoded_id);

}  // namespace switchyard

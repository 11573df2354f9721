// The Ollama API's model-information routes, answered by the gateway itself from its aliases:
// GET /api/tags, GET /api/ps, GET /api/version and POST /api/show, so that the ollama CLI and SDK
// can list and inspect what they may call. Run on the worker thread of the session that got them.
#pragma once

#include <string_view>

#include "server/http_session.hpp"

namespace switchyard {

// The version reported on /api/version: recent enough for Ollama clients' feature checks.
inline constexpr std::string_view kOllamaCompatibleVersion = "0.12.0";

Task<> serve_ollama_info(HttpSession& session, Request& request, RequestContext& context, std::string_view path);

}  // namespace switchyard

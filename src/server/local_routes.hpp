// The local models' routes: status (all, one, failed), the status event stream, load, eject, reset
// and the GPU memory report. Answered by the gateway from the model manager's snapshots; run on the
// worker thread of the session that received them.
#pragma once

#include <string_view>

#include "server/http_session.hpp"

namespace switchyard {

// True when `path` is one of these routes (then serve_local_route answers it).
bool is_local_route(std::string_view path);
Task<> serve_local_route(HttpSession& session, Request& request, RequestContext& context, std::string_view path);

}  // namespace switchyard

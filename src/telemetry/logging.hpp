// Logging set-up: spdlog to stderr at the configured level. Request paths log only failures, and
// never secrets (upstream keys and client credentials are never passed to a log call).
#pragma once

#include <string>

namespace switchyard {

void configure_logging(const std::string& level);

}  // namespace switchyard

// The llama-server command line for a local model: always `--host 127.0.0.1 --port N`, then the
// model's params as llama-server's flags. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace switchyard {

std::vector<std::string> llama_server_args(const std::string& alias, const LocalModelConfig& model, std::uint16_t port);

}  // namespace switchyard

// The llama-server command line for a local model: always `--host 127.0.0.1 --port N`, then the
// model's params as llama-server's flags. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace switchyard {

std::vector<std::string> llama_server_args(const std::string& alias, const LocalModelConfig& model, std::uint16_t port);

// Model files llama-server loads besides the main one, named in extra_args: the multimodal projector
// (--mmproj, -mm) and the draft model for speculative decoding (--model-draft, -md), either as
// "--flag PATH" or "--flag=PATH". Their memory comes on top of the main model's.
std::vector<std::string> extra_model_files(const LocalModelConfig& model);

}  // namespace switchyard

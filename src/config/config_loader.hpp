// Reads and validates a YAML (or JSON) config file. Runs at start-up on the main thread; throws
// ConfigError whose message names the file, line and key of the first problem.
#pragma once

#include <stdexcept>
#include <string>

#include "config/config.hpp"

namespace switchyard {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Config load_config_file(const std::string& path);
// `source_name` is used in error messages in place of a file name.
Config load_config_string(const std::string& yaml_text, const std::string& source_name);

}  // namespace switchyard

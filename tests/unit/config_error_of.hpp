// For config tests: the loader's error for `yaml`, or "" when it loads.
#pragma once

#include <string>

#include "config/config_loader.hpp"

namespace switchyard {

inline std::string error_of(const std::string& yaml) {
  try {
    load_config_string(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace switchyard

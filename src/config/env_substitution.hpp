// `${VAR}` and `${VAR:-default}` expansion of config values from the process environment.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace switchyard {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

EnvLookup process_environment();

// Throws std::invalid_argument naming the variable when it is unset and has no default.
// `$$` stands for a literal `$`.
std::string substitute_env(const std::string& text, const EnvLookup& lookup);

}  // namespace switchyard

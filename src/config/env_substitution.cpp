#include "config/env_substitution.hpp"

#include <cstdlib>
#include <stdexcept>

namespace switchyard {

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::string substitute_env(const std::string& text, const EnvLookup& lookup) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += text[i];
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string::npos) throw std::invalid_argument("unterminated ${ in \"" + text + "\"");
    std::string expression = text.substr(i + 2, close - i - 2);
    std::optional<std::string> fallback;
    if (const auto dash = expression.find(":-"); dash != std::string::npos) {
      fallback = expression.substr(dash + 2);
      expression.resize(dash);
    }
    if (expression.empty()) throw std::invalid_argument("empty variable name in \"" + text + "\"");
    auto value = lookup(expression);
    if (!value || (value->empty() && fallback)) value = fallback;
    if (!value) throw std::invalid_argument("environment variable " + expression + " is not set");
    out += *value;
    i = close;
  }
  return out;
}

}  // namespace switchyard

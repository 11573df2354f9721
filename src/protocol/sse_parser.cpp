#include "protocol/sse_parser.hpp"

namespace switchyard {

bool SseParser::take_line(std::string_view line) {
  if (line.empty()) return in_event_;
  in_event_ = true;
  if (line.front() == ':') {
    event_.comments.emplace_back(line.substr(1));
    return false;
  }
  const auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (event_.has_data) event_.data += '\n';
    event_.data.append(value);
    event_.has_data = true;
  } else if (field == "event") {
    event_.event.assign(value);
  } else if (field == "id") {
    event_.id.assign(value);
  }
  // "retry" and unknown fields are ignored, as the SSE specification says.
  return false;
}

void SseParser::reset_event() {
  event_.event.clear();
  event_.data.clear();
  event_.has_data = false;
  event_.comments.clear();
  event_.id.clear();
  in_event_ = false;
}

}  // namespace switchyard

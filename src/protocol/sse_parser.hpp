// Incremental Server-Sent Events parser: bytes in as they arrive from the network, whole events out.
// Copes with events and lines split across reads and with LF, CRLF and CR line ends.
// One per stream; owned by the coroutine relaying that stream.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

struct SseEvent {
  std::string event;                  // "event:" field, empty when none
  std::string data;                   // "data:" lines joined with '\n'
  bool has_data = false;
  std::vector<std::string> comments;  // ":" lines, without the colon (keep-alive pings)
  std::string id;
};

class SseParser {
 public:
  // Calls `on_event(const SseEvent&)` for each event completed by `bytes`.
  template <typename OnEvent>
  void feed(std::string_view bytes, OnEvent&& on_event) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const char c = bytes[i];
      if (c != '\n' && c != '\r') continue;
      if (skip_lf_ && c == '\n' && i == start && line_.empty()) {  // second half of a CRLF split by a read
        skip_lf_ = false;
        start = i + 1;
        continue;
      }
      skip_lf_ = false;
      std::string_view line = bytes.substr(start, i - start);
      if (!line_.empty()) {
        line_.append(line);
        line = line_;
      }
      if (take_line(line)) {
        on_event(static_cast<const SseEvent&>(event_));
        reset_event();
      }
      line_.clear();
      if (c == '\r') {
        if (i + 1 < bytes.size()) {
          if (bytes[i + 1] == '\n') ++i;
        } else {
          skip_lf_ = true;
        }
      }
      start = i + 1;
    }
    if (start < bytes.size()) line_.append(bytes.substr(start));
  }

  // True when bytes of an unfinished event are held (the stream ended mid-event).
  bool mid_event() const { return !line_.empty() || in_event_; }

 private:
  // Returns true when `line` (without its line end) completes an event.
  bool take_line(std::string_view line);
  void reset_event();

  SseEvent event_;
  std::string line_;      // an incomplete line carried over from the previous read
  bool in_event_ = false;
  bool skip_lf_ = false;
};

}  // namespace switchyard

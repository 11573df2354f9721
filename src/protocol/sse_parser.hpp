// Incremental Server-Sent Events parser: bytes in as they arrive from the network, whole events out.
// Copes with events and lines split across reads and with LF, CRLF and CR line ends.
// One per stream; owned by the coroutine relaying that stream.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/byte_search.hpp"

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
    const char* const begin = bytes.data();
    const char* const end = begin + bytes.size();
    const char* start = begin;  // of the current line
    if (skip_lf_ && start < end && *start == '\n' && line_.empty()) ++start;  // a CRLF split by a read
    skip_lf_ = false;
    for (;;) {
      const char* line_end = find_any<'\n', '\r'>(start, end);
      if (line_end == end) break;
      std::string_view line(start, static_cast<std::size_t>(line_end - start));
      if (!line_.empty()) {
        line_.append(line);
        line = line_;
      }
      if (take_line(line)) {
        on_event(static_cast<const SseEvent&>(event_));
        reset_event();
      }
      line_.clear();
      start = line_end + 1;
      if (*line_end == '\r') {
        if (start == end) {
          skip_lf_ = true;
        } else if (*start == '\n') {
          ++start;
        }
      }
    }
    if (start < end) line_.append(start, static_cast<std::size_t>(end - start));
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

// Incremental newline-delimited JSON splitter: bytes in as they arrive, whole lines out (Ollama's
// streams). Copes with lines split across reads, CRLF, and blank lines (skipped).
// One per stream; owned by the coroutine relaying it.
#pragma once

#include <string>
#include <string_view>

#include "core/byte_search.hpp"

namespace switchyard {

class NdjsonParser {
 public:
  // Calls `on_line(std::string_view)` for each complete, non-blank line in `bytes` (without its end).
  template <typename OnLine>
  void feed(std::string_view bytes, OnLine&& on_line);
  // The stream ended: the last line if it had no newline (empty when none, or when only blanks or a
  // lone CR were left).
  std::string_view rest() const {
    bool blank = false;
    const auto line = trim_line(pending_, blank);
    return blank ? std::string_view{} : line;
  }
  bool mid_line() const { return !rest().empty(); }

 private:
  // Drops a CR before the LF; true when nothing but blanks is left (no JSON there to parse).
  static std::string_view trim_line(std::string_view line, bool& blank) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
    return line;
  }

  std::string pending_;  // an incomplete line carried over from the previous read
};

template <typename OnLine>
void NdjsonParser::feed(std::string_view bytes, OnLine&& on_line) {
  const char* start = bytes.data();
  const char* const end = start + bytes.size();
  for (;;) {
    const char* line_end = find_any<'\n'>(start, end);
    if (line_end == end) break;
    std::string_view line(start, static_cast<std::size_t>(line_end - start));
    start = line_end + 1;
    // Most lines arrive whole in one read: they are handed on without a copy.
    if (!pending_.empty()) {
      pending_.append(line);
      line = pending_;
    }
    bool blank = false;
    line = trim_line(line, blank);
    if (!blank) on_line(line);
    pending_.clear();
  }
  if (start < end) pending_.append(start, static_cast<std::size_t>(end - start));
}

}  // namespace switchyard

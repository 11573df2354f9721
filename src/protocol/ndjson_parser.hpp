// Incremental newline-delimited JSON splitter: bytes in as they arrive, whole lines out (Ollama's
// streams). Copes with lines split across reads, CRLF, and blank lines (skipped).
// One per stream; owned by the coroutine relaying it.
#pragma once

#include <string>
#include <string_view>

namespace switchyard {

class NdjsonParser {
 public:
  // Calls `on_line(std::string_view)` for each complete, non-blank line in `bytes` (without its end).
  template <typename OnLine>
  void feed(std::string_view bytes, OnLine&& on_line);
  // The stream ended: the last line if it had no newline (empty when none).
  std::string_view rest() const { return pending_; }
  bool mid_line() const { return !pending_.empty(); }

 private:
  std::string pending_;
};

}  // namespace switchyard

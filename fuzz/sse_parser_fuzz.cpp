// libFuzzer target: SseParser fed one stream cut into reads as the input's split header says. The
// events must be exactly those of the same bytes read at once, and no line may end inside an event
// field (no CR or LF left in a name, id or comment).
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "protocol/sse_parser.hpp"

namespace {

using namespace switchyard;

struct Seen {
  std::vector<SseEvent> events;
  bool mid_event = false;
};

bool same(const SseEvent& a, const SseEvent& b) {
  return a.event == b.event && a.data == b.data && a.has_data == b.has_data && a.comments == b.comments && a.id == b.id;
}

bool has_line_end(std::string_view text) { return text.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto split = fuzz::take_split(fuzz::as_text(data, size));

  Seen pieces;
  SseParser parser;
  fuzz::for_each_read(split, [&](char* bytes, std::size_t n) {
    parser.feed(std::string_view(bytes, n), [&](const SseEvent& event) { pieces.events.push_back(event); });
  });
  pieces.mid_event = parser.mid_event();

  Seen whole;
  SseParser once;
  fuzz::whole_read(split.payload, [&](char* bytes, std::size_t n) {
    once.feed(std::string_view(bytes, n), [&](const SseEvent& event) { whole.events.push_back(event); });
  });
  whole.mid_event = once.mid_event();

  fuzz::check(pieces.events.size() == whole.events.size(), "as many events in pieces as read at once");
  for (std::size_t i = 0; i < whole.events.size(); ++i) {
    fuzz::check(same(pieces.events[i], whole.events[i]), "the same events in pieces as read at once");
    const auto& event = whole.events[i];
    fuzz::check(!has_line_end(event.event) && !has_line_end(event.id), "no line end in an event name or id");
    for (const auto& comment : event.comments) fuzz::check(!has_line_end(comment), "no line end in a comment");
    fuzz::check(event.has_data || event.data.empty(), "data only with has_data");
    fuzz::check(event.data.find('\r') == std::string::npos, "no CR in data");
  }
  fuzz::check(pieces.mid_event == whole.mid_event, "mid_event the same in pieces as read at once");
  return 0;
}

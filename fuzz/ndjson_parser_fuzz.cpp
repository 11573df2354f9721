// libFuzzer target: NdjsonParser fed one stream cut into reads as the input's split header says. The
// lines (and the rest at the end) must be exactly those of the same bytes read at once, never blank
// and never holding a line feed.
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "protocol/ndjson_parser.hpp"

namespace {

using namespace switchyard;

struct Seen {
  std::vector<std::string> lines;
  std::string rest;
  bool mid_line = false;
};

template <typename ForEachRead>
Seen parse_lines(ForEachRead&& for_each) {
  Seen seen;
  NdjsonParser parser;
  for_each([&](char* bytes, std::size_t n) {
    parser.feed(std::string_view(bytes, n), [&](std::string_view line) {
      fuzz::check(line.find('\n') == std::string_view::npos, "no line feed inside a line");
      fuzz::check(line.find_first_not_of(" \t\r") != std::string_view::npos, "blank lines are skipped");
      seen.lines.emplace_back(line);
    });
  });
  seen.rest = parser.rest();
  seen.mid_line = parser.mid_line();
  fuzz::check(seen.mid_line == !seen.rest.empty(), "mid_line when a rest is left");
  fuzz::check(seen.rest.find('\n') == std::string::npos, "no line feed in the rest");
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto split = fuzz::take_split(fuzz::as_text(data, size));
  const Seen pieces = parse_lines([&](auto&& on_read) { fuzz::for_each_read(split, on_read); });
  const Seen whole = parse_lines([&](auto&& on_read) { fuzz::whole_read(split.payload, on_read); });
  fuzz::check(pieces.lines == whole.lines, "the same lines in pieces as read at once");
  fuzz::check(pieces.rest == whole.rest, "the same rest in pieces as read at once");
  return 0;
}

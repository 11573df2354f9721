// What the libFuzzer targets share: a split pattern read off the front of the input (so the fuzzer
// explores events and chunks cut across socket reads), each read replayed from its own heap block
// (so AddressSanitizer sees a read past its end), JSON parsing that never throws, and checks of the
// contracts that abort with a message (libFuzzer then keeps the input as a crash).
// Fuzzing only; one thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace switchyard::fuzz {

namespace json = boost::json;

// Aborts with `what` when `ok` is false: a broken contract is a finding like a crash.
inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input after its split header. Header: the first byte's low three bits say how many piece
// sizes follow (0: the payload arrives in one read); each of those bytes is a piece size minus one,
// and the sizes repeat until the payload is used up, so a few bytes cut a long stream many times.
struct SplitInput {
  std::vector<std::size_t> sizes;
  std::string_view payload;
};

inline SplitInput take_split(std::string_view input) {
  SplitInput split;
  if (input.empty()) return split;
  std::size_t count = static_cast<std::uint8_t>(input[0]) & 7u;
  std::size_t pos = 1;
  for (; count > 0 && pos < input.size(); --count, ++pos)
    split.sizes.push_back(static_cast<std::size_t>(static_cast<std::uint8_t>(input[pos])) + 1);
  split.payload = input.substr(pos);
  return split;
}

// Calls `on_read(char* data, std::size_t size)` for each read, never with an empty one (a socket
// read returns at least one byte).
template <typename OnRead>
void for_each_read(const SplitInput& split, OnRead&& on_read) {
  std::size_t pos = 0;
  std::size_t turn = 0;
  while (pos < split.payload.size()) {
    std::size_t n = split.payload.size() - pos;
    if (!split.sizes.empty()) n = std::min(n, split.sizes[turn++ % split.sizes.size()]);
    auto block = std::make_unique<char[]>(n);
    std::copy_n(split.payload.data() + pos, n, block.get());
    on_read(block.get(), n);
    pos += n;
  }
}

// The whole payload as one read, also from a block of its own.
template <typename OnRead>
void whole_read(std::string_view payload, OnRead&& on_read) {
  if (payload.empty()) return;
  auto block = std::make_unique<char[]>(payload.size());
  std::copy_n(payload.data(), payload.size(), block.get());
  on_read(block.get(), payload.size());
}

// True when a number in `value` is not finite: Boost.JSON 1.81 reads 1e999 as inf (and 0e999 as NaN)
// and writes them back as `Infinity` / `NaN`, which are not JSON. That gap lies at the gateway's parse
// sites, not in the translators.
inline bool has_non_finite(const json::value& value) {
  switch (value.kind()) {
    case json::kind::double_: return !std::isfinite(value.get_double());
    case json::kind::array:
      for (const auto& element : value.get_array())
        if (has_non_finite(element)) return true;
      return false;
    case json::kind::object:
      for (const auto& member : value.get_object())
        if (has_non_finite(member.value())) return true;
      return false;
    default: return false;
  }
}

// Parses as the gateway does (default limits: depth 32, UTF-8 checked); nothing when not JSON. Also
// nothing for documents with numbers beyond a double's range (see has_non_finite), so that the targets
// keep looking for the translators' own bugs.
inline std::optional<json::value> parse(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || has_non_finite(value)) return std::nullopt;
  return value;
}

// The object `text` parses to, or nothing.
inline std::optional<json::object> parse_object(std::string_view text) {
  auto value = parse(text);
  if (!value || !value->is_object()) return std::nullopt;
  return std::move(value->get_object());
}

// Every next line of `text` (split on '\n', without it), empty ones included.
template <typename OnLine>
void for_each_line(std::string_view text, OnLine&& on_line) {
  while (!text.empty()) {
    const auto newline = text.find('\n');
    on_line(text.substr(0, newline));
    if (newline == std::string_view::npos) break;
    text.remove_prefix(newline + 1);
  }
}

// What a translator built must serialise to JSON that parses again: a translator that cut a string
// inside a UTF-8 sequence, say, would send the client something it cannot read.
inline void check_serialises(const json::value& value, const char* what) {
  const std::string text = json::serialize(value);
  json::parse_options deep;
  deep.max_depth = 10000;  // translators wrap values in a few levels of their own
  boost::system::error_code ec;
  json::parse(text, ec, {}, deep);
  check(!ec, what);
}

// An integer however Boost.JSON holds it (int64 or uint64, as translators build it), or nothing.
inline std::optional<std::int64_t> integer(const json::value* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64() && value->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(value->get_uint64());
  return std::nullopt;
}

// The string member `key` of `object`, or empty.
inline std::string_view string_member(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return {};
  return value->get_string();
}

}  // namespace switchyard::fuzz

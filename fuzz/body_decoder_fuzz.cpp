// libFuzzer target: BodyDecoder over any framing, the body cut into reads as the input's split
// header says. Input: byte 0 picks the framing (empty, length, chunked, until close), bytes 1-2 the
// Content-Length (little endian), then a split header and the raw body. Decoding in pieces must give
// the same body bytes, error, end and trailing-bytes verdict as decoding the whole at once, and never
// more body bytes than came in.
#include <string>

#include "fuzz_support.hpp"
#include "upstream/body_decoder.hpp"

namespace {

using namespace switchyard;

struct Outcome {
  std::string body;
  bool failed = false;
  bool done = false;
  bool trailing = false;
  bool reusable = false;
  bool end_failed = false;  // end_of_input() after the last read
};

template <typename ForEachRead>
Outcome decode(BodyDecoder::Framing framing, std::uint64_t length, ForEachRead&& for_each) {
  Outcome outcome;
  BodyDecoder decoder(framing, length);
  for_each([&](char* bytes, std::size_t n) {
    if (outcome.failed) return;  // the relay drops the connection at the first error
    error_code ec;
    const std::size_t body = decoder.decode(bytes, n, ec);
    fuzz::check(body <= n, "no more body bytes than raw bytes");
    outcome.body.append(bytes, body);
    outcome.failed = static_cast<bool>(ec);
  });
  outcome.done = decoder.done();
  outcome.trailing = decoder.trailing_bytes();
  outcome.reusable = decoder.reusable();
  if (!outcome.failed) outcome.end_failed = static_cast<bool>(decoder.end_of_input());
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const auto framing = static_cast<BodyDecoder::Framing>(data[0] % 4);
  const std::uint64_t length = data[1] | (static_cast<std::uint64_t>(data[2]) << 8);
  const auto split = fuzz::take_split(fuzz::as_text(data + 3, size - 3));

  const Outcome pieces = decode(framing, length, [&](auto&& on_read) { fuzz::for_each_read(split, on_read); });
  const Outcome whole = decode(framing, length, [&](auto&& on_read) { fuzz::whole_read(split.payload, on_read); });

  fuzz::check(pieces.failed == whole.failed, "the same error in pieces as read at once");
  if (!whole.failed) {
    fuzz::check(pieces.body == whole.body, "the same body in pieces as read at once");
    fuzz::check(pieces.done == whole.done, "the same end in pieces as read at once");
    fuzz::check(pieces.trailing == whole.trailing, "the same trailing bytes in pieces as read at once");
    fuzz::check(pieces.reusable == whole.reusable, "the same reusability in pieces as read at once");
    fuzz::check(pieces.end_failed == whole.end_failed, "the same end_of_input in pieces as read at once");
    if (framing == BodyDecoder::Framing::length) {
      fuzz::check(whole.body.size() <= length, "no more than Content-Length bytes");
      fuzz::check(whole.done == (whole.body.size() == length), "a length body ends at its length");
    }
    if (framing == BodyDecoder::Framing::until_close)
      fuzz::check(whole.body == split.payload, "an until-close body is every byte");
    if (whole.done && framing != BodyDecoder::Framing::until_close)
      fuzz::check(!whole.end_failed, "a finished body is not truncated");
  }
  return 0;
}

// Takes the framing off an HTTP/1.1 response body as bytes arrive: chunked transfer coding,
// Content-Length, or "until the connection closes". Decodes in place, so the relay reads from the
// socket straight into one buffer and hands the body bytes of that whole read on at once — a stream
// whose events arrive together leaves in one write instead of one per chunk of the upstream's coding.
// One per response; owned by the coroutine relaying it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/asio.hpp"

namespace switchyard {

class BodyDecoder {
 public:
  enum class Framing { empty, length, chunked, until_close };

  // The framing a parsed response head announces.
  template <typename Parser>
  static BodyDecoder for_head(const Parser& parser) {
    if (parser.is_done()) return BodyDecoder(Framing::empty, 0);
    if (parser.chunked()) return BodyDecoder(Framing::chunked, 0);
    if (const auto length = parser.content_length()) return BodyDecoder(Framing::length, *length);
    return BodyDecoder(Framing::until_close, 0);
  }

  BodyDecoder(Framing framing, std::uint64_t content_length);

  // Decodes `size` raw bytes at `data`, moving the body bytes among them to the front of `data`.
  // Returns how many body bytes there are; `ec` is set on malformed framing. Bytes after the end of
  // the body are not decoded: see trailing_bytes().
  std::size_t decode(char* data, std::size_t size, error_code& ec);

  // The connection closed: the end of an until-close body, a truncated body otherwise.
  error_code end_of_input();

  bool done() const { return state_ == State::done; }
  // Bytes received after the body ended (a misbehaving upstream): the connection must not be reused.
  bool trailing_bytes() const { return trailing_bytes_; }
  bool reusable() const { return done() && framing_ != Framing::until_close && !trailing_bytes_; }

 private:
  enum class State { size_digits, size_rest, size_lf, data, data_cr, data_lf, trailer_start, trailer_line,
                     last_lf, raw, done };

  Framing framing_;
  State state_;
  std::uint64_t remaining_ = 0;  // body bytes left (length) or left in the current chunk (chunked)
  int size_digits_ = 0;
  bool trailing_bytes_ = false;
};

}  // namespace switchyard

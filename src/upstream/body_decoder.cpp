#include "upstream/body_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace switchyard {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr int kMaxSizeDigits = 15;  // 2^60 bytes: far beyond any body, and no overflow

}  // namespace

BodyDecoder::BodyDecoder(Framing framing, std::uint64_t content_length) : framing_(framing) {
  switch (framing) {
    case Framing::empty: state_ = State::done; break;
    case Framing::length:
      state_ = content_length == 0 ? State::done : State::raw;
      remaining_ = content_length;
      break;
    case Framing::chunked: state_ = State::size_digits; break;
    case Framing::until_close:
      state_ = State::raw;
      remaining_ = std::numeric_limits<std::uint64_t>::max();
      break;
  }
}

error_code BodyDecoder::end_of_input() {
  if (framing_ == Framing::until_close) state_ = State::done;
  if (done()) return {};
  return make_error_code(http::error::partial_message);
}

std::size_t BodyDecoder::decode(char* data, std::size_t size, error_code& ec) {
  ec = {};
  std::size_t out = 0;
  std::size_t i = 0;
  const auto bad = [&ec] { ec = make_error_code(http::error::bad_chunk); };
  while (i < size) {
    const char c = data[i];
    switch (state_) {
      case State::raw:
      case State::data: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size - i));
        if (out != i) std::memmove(data + out, data + i, n);
        out += n;
        i += n;
        if (framing_ != Framing::until_close) remaining_ -= n;
        if (remaining_ == 0) state_ = state_ == State::raw ? State::done : State::data_cr;
        continue;
      }
      case State::size_digits:
        if (const int digit = hex_value(c); digit >= 0) {
          if (++size_digits_ > kMaxSizeDigits) return bad(), out;
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
        } else if (size_digits_ == 0) {
          return bad(), out;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::size_rest;  // chunk extensions (and stray whitespace) are ignored
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == '\n') {
          state_ = remaining_ == 0 ? State::trailer_start : State::data;
        } else {
          return bad(), out;
        }
        break;
      case State::size_rest:
        if (c == '\r') state_ = State::size_lf;
        if (c == '\n') state_ = remaining_ == 0 ? State::trailer_start : State::data;
        break;
      case State::size_lf:
        if (c != '\n') return bad(), out;
        state_ = remaining_ == 0 ? State::trailer_start : State::data;
        break;
      case State::data_cr:
        if (c == '\r') {
          state_ = State::data_lf;
        } else if (c == '\n') {
          state_ = State::size_digits;
          size_digits_ = 0;
        } else {
          return bad(), out;
        }
        break;
      case State::data_lf:
        if (c != '\n') return bad(), out;
        state_ = State::size_digits;
        size_digits_ = 0;
        break;
      case State::trailer_start:
        if (c == '\r') {
          state_ = State::last_lf;
        } else if (c == '\n') {
          state_ = State::done;
        } else {
          state_ = State::trailer_line;  // trailer fields are dropped
        }
        break;
      case State::trailer_line:
        if (c == '\n') state_ = State::trailer_start;
        break;
      case State::last_lf:
        if (c != '\n') return bad(), out;
        state_ = State::done;
        break;
      case State::done:
        trailing_bytes_ = true;
        return out;
    }
    ++i;
  }
  return out;
}

}  // namespace switchyard

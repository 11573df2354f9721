// Go's encoding/base64 decodeQuantum, reduced to its error offsets.
#include "base64_check.hpp"

namespace fake_upstream {
namespace {

bool in_alphabet(unsigned char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         ch == '+' || ch == '/';
}

bool is_newline(char ch) { return ch == '\n' || ch == '\r'; }

}  // namespace

std::optional<std::size_t> base64_error_offset(std::string_view src) {
  const std::size_t n = src.size();
  std::size_t si = 0;
  for (;;) {
    // One quantum: four alphabet characters, or two or three then padding that ends the input.
    for (int j = 0; j < 4; ++j) {
      if (si == n) {
        if (j == 0) {
          return std::nullopt;
        }
        return si - static_cast<std::size_t>(j);  // a short last quantum without its padding
      }
      const char in = src[si++];
      if (in_alphabet(static_cast<unsigned char>(in))) {
        continue;
      }
      if (is_newline(in)) {
        --j;
        continue;
      }
      if (in != '=' || j < 2) {
        return si - 1;
      }
      if (j == 2) {  // "==" expected; the first '=' is consumed
        while (si < n && is_newline(src[si])) {
          ++si;
        }
        if (si == n) {
          return n;
        }
        if (src[si] != '=') {
          return si - 1;
        }
        ++si;
      }
      while (si < n && is_newline(src[si])) {
        ++si;
      }
      if (si < n) {
        return si;  // anything after the padding
      }
      return std::nullopt;
    }
  }
}

}  // namespace fake_upstream

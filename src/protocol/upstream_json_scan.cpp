#include "protocol/upstream_json_scan.hpp"

#include <bit>
#include <charconv>

#include "core/byte_search.hpp"

namespace switchyard {
namespace {

// Bits 0..15 of `bits`, each replaced by the XOR of itself and all lower bits: with the quote
// positions as input, the bytes inside strings come out set.
inline unsigned prefix_xor16(unsigned bits) {
  bits ^= bits << 1;
  bits ^= bits << 2;
  bits ^= bits << 4;
  bits ^= bits << 8;
  return bits & 0xFFFF;
}

// From an opening bracket at `p`, the byte after its matching close (or null when the text ends
// first). Brackets inside strings do not count. Blocks of 16 bytes without backslashes are done
// with bit masks; the rest byte by byte.
const char* skip_container(const char* p, const char* end) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;  // the previous byte was a backslash inside a string
#if defined(__SSE2__)
  const auto mask_of = [](__m128i block, char c) {
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8(c))));
  };
#endif
  while (p < end) {
#if defined(__SSE2__)
    if (end - p >= 16 && !escaped) {
      const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      if (mask_of(block, '\\') == 0) {
        const unsigned quotes = mask_of(block, '"');
        unsigned inside = prefix_xor16(quotes);
        if (in_string) inside = ~inside & 0xFFFF;
        const unsigned opens = (mask_of(block, '{') | mask_of(block, '[')) & ~inside;
        const unsigned closes = (mask_of(block, '}') | mask_of(block, ']')) & ~inside;
        in_string = (inside >> 15) & 1;  // whether the block ends inside a string
        for (unsigned brackets = opens | closes; brackets != 0; brackets &= brackets - 1) {
          const unsigned bit = static_cast<unsigned>(std::countr_zero(brackets));
          if (opens & (1u << bit)) {
            ++depth;
          } else if (--depth == 0) {
            return p + bit + 1;
          }
        }
        p += 16;
        continue;
      }
    }
#endif
    // Byte by byte up to the end of this block (or of the text).
    const char* block_end = end - p >= 16 ? p + 16 : end;
    for (; p < block_end; ++p) {
      const char c = *p;
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return p + 1;
      }
    }
  }
  return nullptr;
}

class Walker {
 public:
  explicit Walker(std::string_view text) : base_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  bool at_end() const { return p_ >= end_; }
  std::string_view rest() const { return std::string_view(p_, static_cast<std::size_t>(end_ - p_)); }
  char peek() const { return p_ < end_ ? *p_ : '\0'; }
  std::size_t offset() const { return static_cast<std::size_t>(p_ - base_); }

  void skip_space() {
    if (p_ < end_ && static_cast<unsigned char>(*p_) > ' ') return;  // the usual case: compact JSON
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool take(char c) {
    skip_space();
    if (peek() != c) return false;
    ++p_;
    skip_space();
    return true;
  }

  // At an opening quote: moves past the closing one. `raw` gets the bytes between the quotes;
  // `escaped` says whether any backslash was among them.
  bool string(std::string_view& raw, bool& escaped) {
    if (peek() != '"') return false;
    const char* begin = ++p_;
    escaped = false;
    for (;;) {
      p_ = find_any<'"', '\\'>(p_, end_);
      if (p_ >= end_) return false;
      if (*p_ == '"') break;
      escaped = true;
      p_ += 2;  // the backslash and the byte it escapes
    }
    raw = std::string_view(begin, static_cast<std::size_t>(p_ - begin));
    ++p_;
    return true;
  }

  // Moves past one value of any kind.
  bool skip_value() {
    std::string_view ignored_raw;
    bool ignored_escaped;
    switch (peek()) {
      case '"': return string(ignored_raw, ignored_escaped);
      case '{':
      case '[': {
        const char* next = skip_container(p_, end_);
        if (!next) return false;
        p_ = next;
        return true;
      }
      default: {  // number, true, false, null
        const char* begin = p_;
        while (p_ < end_ && *p_ != ',' && *p_ != '}' && *p_ != ']' && *p_ != ' ' && *p_ != '\n' && *p_ != '\r' &&
               *p_ != '\t')
          ++p_;
        return p_ != begin;
      }
    }
  }

  // An integer value (a number without fraction), else skips the value and leaves `out` alone.
  bool integer(std::int64_t& out) {
    const auto [next, ec] = std::from_chars(p_, end_, out);
    if (ec == std::errc() && (next == end_ || (*next != '.' && *next != 'e' && *next != 'E'))) {
      p_ = next;
      return true;
    }
    out = -1;
    return skip_value();
  }

  // Walks an object's members, calling on_member(key) positioned at each value; on_member must
  // consume the value. False when the object is malformed.
  template <typename OnMember>
  bool object(OnMember&& on_member) {
    if (!take('{')) return false;
    if (take('}')) return true;
    for (;;) {
      std::string_view key;
      bool escaped;
      if (!string(key, escaped) || !take(':')) return false;
      if (!on_member(key)) return false;
      if (take(',')) continue;
      return take('}');
    }
  }

 private:
  const char* base_;
  const char* p_;
  const char* end_;
};

JsonType type_at(char c) {
  switch (c) {
    case '"': return JsonType::string;
    case '{': return JsonType::object;
    case '[': return JsonType::array;
    case 'n': return JsonType::null;
    case 't':
    case 'f': return JsonType::boolean;
    default: return JsonType::number;
  }
}

// Only whether the array is empty matters (a usage-only chunk has none; a token chunk has some).
bool scan_choices(Walker& walker, JsonScan& out) {
  if (walker.peek() == '[') {
    const auto rest = walker.rest();
    const auto first = rest.find_first_not_of(" \t\r\n", 1);
    out.choices_count = first != std::string_view::npos && rest[first] == ']' ? 0 : 1;
  }
  return walker.skip_value();
}

bool scan_usage(Walker& walker, JsonScan& out) {
  if (walker.peek() != '{') return walker.skip_value();
  return walker.object([&](std::string_view key) {
    if (key == "prompt_tokens") return walker.integer(out.prompt_tokens);
    if (key == "completion_tokens") return walker.integer(out.completion_tokens);
    return walker.skip_value();
  });
}

}  // namespace

JsonScan scan_upstream_json(std::string_view text) {
  JsonScan out;
  Walker walker(text);
  walker.skip_space();
  if (walker.peek() != '{') return out;
  const bool walked = walker.object([&](std::string_view key) {
    const auto type = type_at(walker.peek());
    if (key == "model") {
      out.model_type = type;
      out.model_span.reset();  // a repeated key: the last one counts
      if (type != JsonType::string) return walker.skip_value();
      const auto begin = walker.offset();
      std::string_view raw;
      bool escaped;
      if (!walker.string(raw, escaped)) return false;
      if (!escaped) out.model_span = Span{begin, walker.offset()};
      return true;
    }
    if (key == "choices") return scan_choices(walker, out);
    if (key == "usage") {
      out.usage_type = type;
      return scan_usage(walker, out);
    }
    if (key == "error") out.has_error = true;
    return walker.skip_value();
  });
  walker.skip_space();
  if (!walked || !walker.at_end()) return JsonScan{};
  out.valid = true;
  out.is_object = true;
  return out;
}

}  // namespace switchyard

#include "protocol/json_scan.hpp"

#include <cmath>
#include <cstdint>

#include <boost/json/basic_parser_impl.hpp>

namespace switchyard {
namespace {

namespace json = boost::json;
using boost::system::error_code;

// Which top-level member the parser is inside; only these are tracked.
enum class Member : std::uint8_t { other, model, messages, prompt, input, stream, stream_options, usage, choices, error };

Member member_of(std::string_view key) {
  switch (key.size()) {
    case 5:
      if (key == "model") return Member::model;
      if (key == "input") return Member::input;
      if (key == "usage") return Member::usage;
      if (key == "error") return Member::error;
      break;
    case 6:
      if (key == "prompt") return Member::prompt;
      if (key == "stream") return Member::stream;
      break;
    case 7:
      if (key == "choices") return Member::choices;
      break;
    case 8:
      if (key == "messages") return Member::messages;
      break;
    case 14:
      if (key == "stream_options") return Member::stream_options;
      break;
  }
  return Member::other;
}

class ScanHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  ScanHandler(std::string_view text, JsonScan& out) : text_(text), out_(out) {}

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code&) {
    if (depth_ == 0) out_.is_object = true;
    value_begins(JsonType::object);
    if (depth_ < kTracked) object_at_[depth_] = true;
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    --depth_;
    return true;
  }
  bool on_array_begin(error_code&) {
    value_begins(JsonType::array);
    if (depth_ < kTracked) object_at_[depth_] = false;
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t n, error_code&) {
    --depth_;
    if (depth_ == 1 && member_ == Member::choices) out_.choices_count = static_cast<std::int64_t>(n);
    return true;
  }

  bool on_key_part(std::string_view s, std::size_t, error_code&) {
    key_.append(s);
    return true;
  }
  bool on_key(std::string_view s, std::size_t, error_code&) {
    std::string_view key = s;
    if (!key_.empty()) {
      key_.append(s);
      key = key_;
    }
    if (depth_ == 1) {
      member_ = member_of(key);
      if (member_ == Member::error) out_.has_error = true;
    } else if (depth_ == 2) {
      inner_key_.assign(key);
    }
    key_.clear();
    return true;
  }

  bool on_string_part(std::string_view s, std::size_t, error_code&) {
    if (depth_ == 1 && member_ == Member::model) {
      string_.append(s);
      string_split_ = true;
    }
    return true;
  }
  bool on_string(std::string_view s, std::size_t, error_code&) {
    value_begins(JsonType::string);
    if (depth_ == 1 && member_ == Member::model) {
      if (string_split_) {
        string_.append(s);
        out_.model = std::move(string_);
      } else {
        out_.model.assign(s);
        // An unescaped string is handed over as a view into the input: its quotes bound the token.
        const char* base = text_.data();
        if (s.data() > base && s.data() + s.size() < base + text_.size() && s.data()[-1] == '"' &&
            s.data()[s.size()] == '"') {
          const auto begin = static_cast<std::size_t>(s.data() - base) - 1;
          out_.model_span = Span{begin, begin + s.size() + 2};
        }
      }
      string_.clear();
      string_split_ = false;
    }
    return true;
  }

  bool on_number_part(std::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, std::string_view, error_code&) {
    value_begins(JsonType::number);
    record_number(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, std::string_view, error_code&) {
    value_begins(JsonType::number);
    record_number(u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(u));
    return true;
  }
  bool on_double(double d, std::string_view, error_code&) {
    value_begins(JsonType::number);
    // Casting a double outside int64's range is undefined: such a count is clamped.
    record_number(std::isnan(d) ? -1 : d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : static_cast<std::int64_t>(d));
    return true;
  }
  bool on_bool(bool b, error_code&) {
    value_begins(JsonType::boolean);
    if (depth_ == 1 && member_ == Member::stream) out_.stream = b;
    if (depth_ == 2 && member_ == Member::stream_options && object_at_[1] && inner_key_ == "include_usage")
      out_.include_usage = b;
    return true;
  }
  bool on_null(error_code&) {
    value_begins(JsonType::null);
    return true;
  }
  bool on_comment_part(std::string_view, error_code&) { return true; }
  bool on_comment(std::string_view, error_code&) { return true; }

 private:
  static constexpr int kTracked = 4;

  // Records the type of a top-level member's value as it starts.
  void value_begins(JsonType type) {
    if (depth_ != 1) return;
    switch (member_) {
      case Member::model:
        out_.model_type = type;
        out_.model_span.reset();  // a repeated key: the last one counts, and its own span is recorded
        break;
      case Member::messages: out_.messages_type = type; break;
      case Member::prompt: out_.prompt_type = type; break;
      case Member::input: out_.input_type = type; break;
      case Member::stream_options: out_.stream_options_type = type; break;
      case Member::usage: out_.usage_type = type; break;
      default: break;
    }
  }

  void record_number(std::int64_t value) {
    if (depth_ == 2 && member_ == Member::usage && object_at_[1]) {
      if (inner_key_ == "prompt_tokens") out_.prompt_tokens = value;
      else if (inner_key_ == "completion_tokens") out_.completion_tokens = value;
    }
  }

  std::string_view text_;
  JsonScan& out_;
  int depth_ = 0;
  bool object_at_[kTracked] = {};
  Member member_ = Member::other;
  std::string key_;
  std::string inner_key_;
  std::string string_;
  bool string_split_ = false;
};

}  // namespace

JsonScan scan_json(std::string_view text) {
  JsonScan result;
  json::parse_options options;
  options.max_depth = 64;
  json::basic_parser<ScanHandler> parser(options, text, result);
  error_code ec;
  const auto consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = json::error::extra_data;
  if (ec) {
    result = JsonScan{};
    result.error = ec.message();
    return result;
  }
  result.valid = true;
  return result;
}

}  // namespace switchyard

// SAX scan of a request body with Boost.JSON's basic_parser: validates and extracts, no DOM.
#include "request_scan.hpp"

#include <boost/json/basic_parser_impl.hpp>

namespace fake_upstream {
namespace {

using boost::json::error_code;
using boost::json::string_view;

enum class Key : std::uint8_t {
  other, model, stream, stream_options, include_usage, max_tokens, max_completion_tokens, input,
  encoding_format, options, tools
};

// Keys and values that only appear in requests with images, tool messages, tool results or (Anthropic)
// a thinking budget.
// Compared by length first: this runs for every key and string of every request.
bool marks_deep_key(std::string_view k) {
  switch (k.size()) {
    case 6: return k == "images" || k == "source";
    case 8: return k == "thinking";
    case 9: return k == "image_url";
    case 11: return k == "tool_use_id";
    case 12: return k == "tool_call_id";
    default: return false;
  }
}

bool marks_deep_value(std::string_view v) {
  switch (v.size()) {
    case 4: return v == "tool";
    case 5: return v == "image";
    case 9: return v == "image_url";
    case 11: return v == "tool_result";
    default: return false;
  }
}

Key classify(std::string_view k, bool in_stream_options, bool in_options) {
  if (in_stream_options) {
    return k == "include_usage" ? Key::include_usage : Key::other;
  }
  if (in_options) {
    return k == "num_predict" ? Key::max_tokens : Key::other;
  }
  if (k == "options") {
    return Key::options;
  }
  if (k == "tools") {
    return Key::tools;
  }
  if (k == "model") {
    return Key::model;
  }
  if (k == "stream") {
    return Key::stream;
  }
  if (k == "stream_options") {
    return Key::stream_options;
  }
  if (k == "max_tokens") {
    return Key::max_tokens;
  }
  if (k == "max_completion_tokens") {
    return Key::max_completion_tokens;
  }
  if (k == "input") {
    return Key::input;
  }
  if (k == "encoding_format") {
    return Key::encoding_format;
  }
  return Key::other;
}

// Depth counts open containers; the top-level object is depth 1. Only keys at depth 1 (and at
// depth 2 inside "stream_options" and Ollama's "options") matter, and a value belongs to the last key seen at its depth.
class ScanHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  RequestFacts* facts = nullptr;
  bool top_is_object = false;

  bool on_document_begin(error_code&) {
    depth_ = 0;
    key_ = Key::other;
    in_stream_options_ = false;
    in_options_ = false;
    input_depth_ = -1;
    input_saw_number_ = false;
    in_model_part_ = false;
    in_tools_ = false;
    tools_seen_ = 0;
    tool_key_is_name_ = false;
    key_buf_.clear();
    top_is_object = false;
    return true;
  }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code&) {
    if (depth_ == 0) {
      top_is_object = true;
    } else {
      element_in_input();
      if (depth_ == 2 && in_tools_) {
        ++tools_seen_;
      }
      if (depth_ == 1 && key_ == Key::stream_options) {
        in_stream_options_ = true;
      }
      if (depth_ == 1 && key_ == Key::options) {
        in_options_ = true;
      }
    }
    ++depth_;
    key_ = Key::other;
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    --depth_;
    if (depth_ == 1) {
      in_stream_options_ = false;
      in_options_ = false;
    }
    key_ = Key::other;
    return true;
  }

  bool on_array_begin(error_code&) {
    element_in_input();
    if (depth_ == 1 && key_ == Key::tools) {
      in_tools_ = true;
    }
    if (depth_ == 1 && key_ == Key::input) {
      input_depth_ = 2;
      input_saw_number_ = false;
      facts->inputs = 0;
    }
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    if (depth_ == 2) {
      in_tools_ = false;
    }
    if (depth_ == input_depth_) {
      if (facts->inputs == 0 && input_saw_number_) {
        facts->inputs = 1;  // one prompt given as token ids
      }
      input_depth_ = -1;
    }
    --depth_;
    return true;
  }

  bool on_key_part(string_view s, std::size_t, error_code&) {
    key_buf_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    std::string_view k(s.data(), s.size());
    if (!key_buf_.empty()) {
      key_buf_.append(s.data(), s.size());
      k = key_buf_;
    }
    // Inside the first tool: its "name" (depth 3, Anthropic) or "function"."name" (depth 4).
    if (in_tools_ && tools_seen_ == 1 && (depth_ == 3 || depth_ == 4)) {
      tool_key_is_name_ = k == "name";
    }
    if (depth_ == 1 || (depth_ == 2 && (in_stream_options_ || in_options_))) {
      key_ = classify(k, in_stream_options_, in_options_);
    }
    if (!facts->deep && marks_deep_key(k)) {
      facts->deep = true;
    }
    key_buf_.clear();
    return true;
  }

  bool on_string_part(string_view s, std::size_t, error_code&) {
    if (depth_ == 1 && key_ == Key::model) {
      if (!in_model_part_) {
        facts->model.clear();
        in_model_part_ = true;
      }
      facts->model.append(s.data(), s.size());
    }
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    if (!facts->deep && marks_deep_value({s.data(), s.size()})) {
      facts->deep = true;
    }
    if (tool_key_is_name_ && (depth_ == 3 || depth_ == 4) && facts->tool_name.empty()) {
      facts->tool_name.assign(s.data(), s.size());
      tool_key_is_name_ = false;
    }
    if (depth_ == 1 && key_ == Key::model) {
      if (!in_model_part_) {
        facts->model.clear();
      }
      facts->model.append(s.data(), s.size());
      facts->has_model = true;
      in_model_part_ = false;
    } else if (depth_ == 1 && key_ == Key::encoding_format) {
      facts->base64 = s == "base64";
    } else if (depth_ == 1 && key_ == Key::input) {
      facts->inputs = 1;
    } else if (depth_ == input_depth_) {
      ++facts->inputs;
    }
    return true;
  }

  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, string_view, error_code&) {
    number(static_cast<double>(i));
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view, error_code&) {
    number(static_cast<double>(u));
    return true;
  }
  bool on_double(double d, string_view, error_code&) {
    number(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    if (depth_ == 1 && key_ == Key::stream) {
      facts->stream = b;
      facts->stream_given = true;
    } else if (depth_ == 2 && in_stream_options_ && key_ == Key::include_usage) {
      facts->include_usage = b;
    }
    return true;
  }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  void number(double v) {
    if ((depth_ == 1 || (depth_ == 2 && in_options_)) &&
        (key_ == Key::max_tokens || key_ == Key::max_completion_tokens)) {
      // Negative means "no limit" to llama-server (n_predict -1).
      facts->max_tokens = v < 0 ? -1 : v > 1e9 ? 1000000000 : static_cast<std::int64_t>(v);
      facts->anthropic_max_tokens = facts->anthropic_max_tokens || (depth_ == 1 && key_ == Key::max_tokens);
    } else if (depth_ == input_depth_) {
      input_saw_number_ = true;
    }
  }
  // A container directly inside the "input" array is one prompt (token ids or a nested list).
  void element_in_input() {
    if (depth_ == input_depth_) {
      ++facts->inputs;
    }
  }

  int depth_ = 0;
  Key key_ = Key::other;
  bool in_stream_options_ = false;
  bool in_options_ = false;  // inside Ollama's "options"
  bool in_tools_ = false;    // inside the top-level "tools" array
  int tools_seen_ = 0;       // tool objects opened so far
  bool tool_key_is_name_ = false;
  bool in_model_part_ = false;
  int input_depth_ = -1;  // depth of the elements of "input" when it is an array
  bool input_saw_number_ = false;
  std::string key_buf_;
};

boost::json::parse_options scan_options() {
  boost::json::parse_options opt;
  opt.max_depth = 1024;
  return opt;
}

}  // namespace

bool scan_request(std::string_view body, RequestFacts& facts) {
  thread_local boost::json::basic_parser<ScanHandler> parser(scan_options());
  facts.error.clear();
  facts.has_model = false;
  facts.model.clear();
  facts.stream = false;
  facts.stream_given = false;
  facts.include_usage = false;
  facts.max_tokens = -1;
  facts.inputs = 0;
  facts.base64 = false;
  facts.tool_name.clear();
  facts.anthropic_max_tokens = false;
  facts.deep = false;

  parser.reset();
  parser.handler().facts = &facts;
  error_code ec;
  std::size_t n = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && n != body.size()) {
    ec = boost::json::error::extra_data;
  }
  if (ec) {
    facts.error = "Invalid JSON body: ";
    facts.error += ec.message();
    return false;
  }
  if (!parser.handler().top_is_object) {
    facts.error = "Invalid request body: expected a JSON object";
    return false;
  }
  return true;
}

}  // namespace fake_upstream

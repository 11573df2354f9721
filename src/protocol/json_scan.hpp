// One pass over a JSON body with Boost.JSON's SAX parser that validates it and records the few
// top-level fields the gateway acts on, with their byte positions, so that the body can be edited
// in place instead of parsed into a DOM and serialised again. Pure; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard {

struct Span {
  std::size_t begin = 0;  // offset of the opening quote
  std::size_t end = 0;    // one past the closing quote
};

enum class JsonType : std::uint8_t { absent, null, boolean, number, string, array, object };

struct JsonScan {
  bool valid = false;           // well-formed JSON
  std::string error;            // parser message when not valid
  bool is_object = false;       // the document is an object

  // Request and response fields at the top level.
  JsonType model_type = JsonType::absent;
  std::string model;            // decoded value when model_type == string
  std::optional<Span> model_span;  // raw token position; absent when the string had escapes
  JsonType messages_type = JsonType::absent;
  JsonType prompt_type = JsonType::absent;
  JsonType input_type = JsonType::absent;
  std::optional<bool> stream;
  JsonType stream_options_type = JsonType::absent;
  std::optional<bool> include_usage;   // stream_options.include_usage

  // Response and stream chunk fields.
  JsonType usage_type = JsonType::absent;
  std::int64_t prompt_tokens = -1;     // usage.prompt_tokens
  std::int64_t completion_tokens = -1; // usage.completion_tokens
  std::int64_t choices_count = -1;     // elements of a top-level choices array
  bool has_error = false;              // a top-level "error" key
};

// Returns the scan; never throws. `max_depth` guards against pathological nesting.
JsonScan scan_json(std::string_view text);

}  // namespace switchyard

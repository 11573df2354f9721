// A light scan of an upstream's OpenAI-shaped JSON (one streamed chunk, or a whole response) for the
// few top-level fields the relay acts on: the model (to put the alias back), choices (first token,
// usage-only chunk), usage and error. It walks the top-level object and skips every other value
// without decoding or validating it, several times cheaper than a full parse, which matters at tens
// of thousands of chunks a second. Upstream JSON is not trusted to be well-formed: whatever the walk
// cannot make sense of comes back as not valid, and the relay then passes it on untouched.
// Pure; any thread.
#pragma once

#include <string_view>

#include "protocol/json_scan.hpp"

namespace switchyard {

// Fills valid, is_object, model_type and model_span (not model), choices_count (0 for an empty
// array, 1 for any other), usage_type, prompt_tokens, completion_tokens and has_error of a JsonScan;
// `valid` means "walkable object".
JsonScan scan_upstream_json(std::string_view text);

}  // namespace switchyard

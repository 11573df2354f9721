// Pulls the few fields the fake needs out of a request body without building a JSON DOM, and says
// whether the body needs a closer look (images, tool results) that only a DOM walk can give.
// Pure function of its input; each worker thread keeps its own scanner.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fake_upstream {

struct RequestFacts {
  std::string error;       // empty when the body is one well-formed JSON object
  bool has_model = false;  // "model" present and a string
  std::string model;       // decoded value of "model"
  bool stream = false;
  bool stream_given = false;    // "stream" present (Ollama streams unless told not to)
  bool include_usage = false;   // "stream_options":{"include_usage":true}
  std::int64_t max_tokens = -1; // "max_tokens", "max_completion_tokens" or Ollama's "options":{"num_predict"}; -1 when absent
  int inputs = 0;               // embeddings: entries in "input"
  std::string tool_name;        // the first tool offered in "tools" (OpenAI/Ollama function.name or Anthropic name)
  bool base64 = false;          // embeddings: "encoding_format":"base64" (the openai SDK's default)
  bool anthropic_max_tokens = false;  // a number under the key "max_tokens" itself (Anthropic requires it)
  // The body may carry images, tool messages or tool results (a key such as "images", "image_url",
  // "source", "tool_call_id", "tool_use_id", or a value "tool", "image", "image_url", "tool_result"):
  // the answer then needs request_inspect's DOM walk. Plain requests never pay for one.
  bool deep = false;
};

// Validates `body` as JSON (the whole of it) and fills `facts`. Returns false when malformed.
bool scan_request(std::string_view body, RequestFacts& facts);

}  // namespace fake_upstream

// Edits of OpenAI-shaped JSON bodies on the passthrough path: swap the model name (alias <-> upstream
// name) and ask the upstream for stream usage, leaving every other byte as the client sent it.
// Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "protocol/json_scan.hpp"

namespace switchyard {

enum class OpenAiEndpoint { chat_completions, completions, embeddings };

// Checks what the endpoint requires (model, messages / prompt / input); fills `error` on failure.
bool validate_openai_request(OpenAiEndpoint endpoint, const JsonScan& scan, ApiError& error);

// True when the client asked for the usage chunk (stream_options.include_usage: true).
inline bool client_wants_stream_usage(const JsonScan& scan) {
  return scan.include_usage.value_or(false);
}

// The body to send upstream: `model` replaced by `upstream_model`; on streaming requests
// stream_options.include_usage forced on so usage is always known. `out` is overwritten.
// `upstream_model_json`, when given, is `upstream_model` already encoded as a JSON string literal
// (routes encode their names once, not per request).
void rewrite_request_body(std::string_view body, const JsonScan& scan, std::string_view upstream_model,
                          std::string& out, std::string_view upstream_model_json = {});

// Replaces a top-level "model" value with `model`, appending the result to `out`. Bodies without a
// string model are appended unchanged. `model_json` as above.
void rewrite_model_field(std::string_view body, const JsonScan& scan, std::string_view model, std::string& out,
                         std::string_view model_json = {});

// Appends `text` as a JSON string literal (with quotes) to `out`.
void append_json_string(std::string& out, std::string_view text);

}  // namespace switchyard

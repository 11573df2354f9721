// libFuzzer target: a client's request body as the OpenAI passthrough path handles it: scan_json,
// validate_openai_request for each endpoint, and, when one accepts it, rewrite_request_body with and
// without a pre-encoded model. The rewritten body must be valid JSON carrying the upstream model, and
// a streaming request must come out asking for usage.
#include <string>

#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "protocol/json_scan.hpp"
#include "protocol/openai_body.hpp"

namespace {

using namespace switchyard;

constexpr std::string_view kUpstreamModel = "org/upstream-model:v1 \xC3\xA9\"\\";  // needs escaping

void check_rewritten(const JsonScan& scan, const std::string& out) {
  const JsonScan again = scan_json(out);
  fuzz::check(again.valid && again.is_object, "the rewritten body is a JSON object");
  fuzz::check(again.model_type == JsonType::string && again.model == kUpstreamModel,
              "the rewritten body carries the upstream model");
  if (scan.stream.value_or(false))
    fuzz::check(again.include_usage.value_or(false), "a rewritten streaming request asks for usage");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::as_text(data, size);
  const JsonScan scan = scan_json(body);
  fuzz::check(scan.valid || !scan.error.empty(), "an invalid body comes with a message");
  if (fuzz::parse(body)) fuzz::check(scan.valid, "whatever parses, scans");

  bool accepted = false;
  for (const auto endpoint : {OpenAiEndpoint::chat_completions, OpenAiEndpoint::completions, OpenAiEndpoint::embeddings}) {
    ApiError error;
    if (validate_openai_request(endpoint, scan, error)) {
      accepted = true;
    } else {
      fuzz::check(!error.message.empty(), "a refused request comes with a message");
    }
  }
  (void)client_wants_stream_usage(scan);
  if (!accepted) return 0;

  // The output is checked for bodies the gateway's own parse takes (see fuzz::parse); the rest must
  // still not throw or crash.
  const bool checked = fuzz::parse(body).has_value();
  std::string model_json;
  append_json_string(model_json, kUpstreamModel);
  std::string out;
  rewrite_request_body(body, scan, kUpstreamModel, out);
  if (checked) check_rewritten(scan, out);
  rewrite_request_body(body, scan, kUpstreamModel, out, model_json);
  if (checked) check_rewritten(scan, out);
  return 0;
}

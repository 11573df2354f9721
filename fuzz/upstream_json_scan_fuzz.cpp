// libFuzzer target: an upstream's OpenAI-shaped JSON (an answer or one stream chunk) as the relay
// handles it: scan_upstream_json, and rewrite_model_field when the scan walked an object. Well-formed
// objects must walk and agree with the full scan_json on the fields the relay acts on; their rewritten
// form must be valid JSON carrying the alias. Malformed ones must not throw or crash.
#include <string>

#include "fuzz_support.hpp"
#include "protocol/json_scan.hpp"
#include "protocol/openai_body.hpp"
#include "protocol/upstream_json_scan.hpp"

namespace {

using namespace switchyard;

constexpr std::string_view kAlias = "team/alias \xE2\x9C\x93\"";

void check_rewritten(const std::string& out) {
  const JsonScan again = scan_json(out);
  fuzz::check(again.valid && again.is_object, "a rewritten well-formed answer is a JSON object");
  fuzz::check(again.model_type == JsonType::string && again.model == kAlias, "a rewritten answer carries the alias");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const JsonScan scan = scan_upstream_json(text);
  fuzz::check(scan.valid == scan.is_object, "valid means a walkable object");
  if (scan.model_span) {
    fuzz::check(scan.model_span->begin < scan.model_span->end && scan.model_span->end <= text.size(),
                "the model span lies inside the text");
    fuzz::check(text[scan.model_span->begin] == '"' && text[scan.model_span->end - 1] == '"',
                "the model span is bounded by quotes");
  }

  const JsonScan full = scan_json(text);
  // Well-formed as the gateway's own parse sees it (see fuzz::parse).
  const bool well_formed = full.valid && full.is_object && fuzz::parse(text).has_value();
  if (well_formed) {
    fuzz::check(scan.valid, "a well-formed object walks");
    fuzz::check(scan.model_type == full.model_type, "the walk and the full scan agree on the model's type");
    fuzz::check(scan.usage_type == full.usage_type, "the walk and the full scan agree on usage's type");
    fuzz::check(scan.has_error == full.has_error, "the walk and the full scan agree on error");
    if (full.choices_count >= 0)
      fuzz::check((scan.choices_count == 0) == (full.choices_count == 0), "the same verdict on empty choices");
  }
  if (!scan.valid) return 0;

  std::string model_json;
  append_json_string(model_json, kAlias);
  std::string out;
  rewrite_model_field(text, scan, kAlias, out);
  if (well_formed && scan.model_type == JsonType::string) check_rewritten(out);
  if (scan.model_type != JsonType::string) fuzz::check(out == text, "an answer without a string model passes as it was");
  out.clear();
  rewrite_model_field(text, scan, kAlias, out, model_json);
  if (well_formed && scan.model_type == JsonType::string) check_rewritten(out);
  return 0;
}

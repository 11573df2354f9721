// libFuzzer target: an Anthropic Messages request body through anthropic_to_openai_request, as the
// /v1/messages route parses and translates it. A translated request must serialise to valid JSON and
// keep the model as given; a refused one must say why.
#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "protocol/anthropic_to_openai.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace switchyard;
  const auto anthropic = fuzz::parse_object(fuzz::as_text(data, size));
  if (!anthropic) return 0;
  boost::json::object openai;
  ApiError error;
  if (!anthropic_to_openai_request(*anthropic, openai, error)) {
    fuzz::check(!error.message.empty(), "a refused request comes with a message");
    return 0;
  }
  fuzz::check_serialises(openai, "the translated request serialises to valid JSON");
  if (const auto model = fuzz::string_member(*anthropic, "model"); !model.empty())
    fuzz::check(fuzz::string_member(openai, "model") == model, "the model is copied as given");
  return 0;
}

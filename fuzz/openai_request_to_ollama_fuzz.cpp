// libFuzzer target: an OpenAI request through openai_to_ollama_chat_request, _generate_request and
// _embed_request, as the gateway sends any client's request to an Ollama upstream. Translated requests
// must serialise to valid JSON and keep the model as given; chat and generate must always say whether
// to stream; tool-call arguments must be JSON objects. A refused one must say why.
#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "protocol/openai_request_to_ollama.hpp"

namespace {

using namespace switchyard;

using Translate = bool (*)(const boost::json::object&, boost::json::object&, ApiError&);

void check_chat_messages(const boost::json::object& ollama) {
  const auto* messages = ollama.if_contains("messages");
  fuzz::check(messages && messages->is_array(), "a chat request has messages");
  for (const auto& message : messages->get_array()) {
    fuzz::check(message.is_object(), "messages are objects");
    const auto* calls = message.get_object().if_contains("tool_calls");
    if (!calls) continue;
    fuzz::check(calls->is_array(), "tool_calls is an array");
    for (const auto& call : calls->get_array()) {
      const auto* function = call.is_object() ? call.get_object().if_contains("function") : nullptr;
      fuzz::check(function && function->is_object(), "a tool call has a function");
      const auto* arguments = function->get_object().if_contains("arguments");
      fuzz::check(arguments && arguments->is_object(), "tool arguments are a JSON object");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto openai = fuzz::parse_object(fuzz::as_text(data, size));
  if (!openai) return 0;
  const auto model = fuzz::string_member(*openai, "model");
  const Translate translators[] = {openai_to_ollama_chat_request, openai_to_ollama_generate_request,
                                   openai_to_ollama_embed_request};
  for (std::size_t i = 0; i < 3; ++i) {
    boost::json::object ollama;
    ApiError error;
    if (!translators[i](*openai, ollama, error)) {
      fuzz::check(!error.message.empty(), "a refused request comes with a message");
      continue;
    }
    fuzz::check_serialises(ollama, "the translated request serialises to valid JSON");
    if (!model.empty()) fuzz::check(fuzz::string_member(ollama, "model") == model, "the model is copied as given");
    if (i < 2) {
      const auto* stream = ollama.if_contains("stream");
      fuzz::check(stream && stream->is_bool(), "stream is always written");
    }
    if (i == 0) check_chat_messages(ollama);
  }
  return 0;
}

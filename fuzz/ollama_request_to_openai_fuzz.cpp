// libFuzzer target: an Ollama request through ollama_to_openai_request for each endpoint, as the
// gateway serves an Ollama client from another kind of upstream. Translated requests must serialise
// to valid JSON and keep the model as given; chat and generate become chat requests that stream unless
// told `stream: false`, asking for usage when they do, with string tool-call arguments. A refused one
// must say why.
#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "protocol/ollama_request_to_openai.hpp"

namespace {

using namespace switchyard;

void check_chat(const boost::json::object& ollama, const boost::json::object& openai) {
  const auto* asked = ollama.if_contains("stream");
  const bool streams = !(asked && asked->is_bool() && !asked->get_bool());
  const auto* stream = openai.if_contains("stream");
  fuzz::check(stream && stream->is_bool() && stream->get_bool() == streams, "streams unless told stream: false");
  if (streams) {
    const auto* options = openai.if_contains("stream_options");
    const auto* usage = options && options->is_object() ? options->get_object().if_contains("include_usage") : nullptr;
    fuzz::check(usage && usage->is_bool() && usage->get_bool(), "a stream asks for usage");
  }
  const auto* messages = openai.if_contains("messages");
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
      fuzz::check(arguments && arguments->is_string(), "tool arguments are a string");
      const auto* id = call.get_object().if_contains("id");
      fuzz::check(id && id->is_string() && !id->get_string().empty(), "a tool call has an id");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto ollama = fuzz::parse_object(fuzz::as_text(data, size));
  if (!ollama) return 0;
  const auto model = fuzz::string_member(*ollama, "model");
  for (const auto endpoint :
       {OllamaEndpoint::chat, OllamaEndpoint::generate, OllamaEndpoint::embed, OllamaEndpoint::embeddings}) {
    fuzz::check(ollama_endpoint_path(endpoint).starts_with("/api/"), "endpoint paths are under /api/");
    boost::json::object openai;
    ApiError error;
    if (!ollama_to_openai_request(endpoint, *ollama, openai, error)) {
      fuzz::check(!error.message.empty(), "a refused request comes with a message");
      continue;
    }
    fuzz::check_serialises(openai, "the translated request serialises to valid JSON");
    if (!model.empty()) fuzz::check(fuzz::string_member(openai, "model") == model, "the model is copied as given");
    if (endpoint == OllamaEndpoint::chat || endpoint == OllamaEndpoint::generate) check_chat(*ollama, openai);
  }
  return 0;
}

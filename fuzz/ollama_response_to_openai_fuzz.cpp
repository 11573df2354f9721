// libFuzzer target: an Ollama answer through ollama_chat_to_openai_response,
// ollama_generate_to_openai_completion and ollama_embed_to_openai_embeddings, plus
// openai_tool_call_from_ollama on each tool call and openai_finish_reason_from_ollama on any string.
// Answers must serialise to valid JSON, carry the given id and created, and their tool calls string
// arguments.
#include "fuzz_support.hpp"
#include "protocol/ollama_response_to_openai.hpp"

namespace {

using namespace switchyard;

constexpr std::string_view kId = "chatcmpl-fuzz";
constexpr std::int64_t kCreated = 1700000000;

void check_answer(const boost::json::object& openai, std::string_view object) {
  fuzz::check_serialises(openai, "the translated answer serialises to valid JSON");
  fuzz::check(fuzz::string_member(openai, "id") == kId, "the answer carries the given id");
  fuzz::check(fuzz::integer(openai.if_contains("created")) == kCreated, "the answer carries created");
  fuzz::check(fuzz::string_member(openai, "object") == object, "the answer's object type");
}

void check_tool_call(const boost::json::object& call) {
  if (call.empty()) return;
  const auto* id = call.if_contains("id");
  fuzz::check(id && id->is_string() && !id->get_string().empty(), "a tool call has an id");
  const auto* function = call.if_contains("function");
  fuzz::check(function && function->is_object(), "a tool call has a function");
  const auto* arguments = function->get_object().if_contains("arguments");
  fuzz::check(arguments && arguments->is_string(), "tool arguments are a string");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const auto reason = openai_finish_reason_from_ollama(text);
  fuzz::check(reason == "stop" || reason == "length" || reason == "tool_calls" || reason == "content_filter",
              "every done_reason maps to a finish_reason");

  const auto ollama = fuzz::parse_object(text);
  if (!ollama) return 0;
  boost::json::object chat;
  ollama_chat_to_openai_response(*ollama, kId, kCreated, chat);
  check_answer(chat, "chat.completion");
  boost::json::object completion;
  ollama_generate_to_openai_completion(*ollama, kId, kCreated, completion);
  check_answer(completion, "text_completion");
  boost::json::object embeddings;
  ollama_embed_to_openai_embeddings(*ollama, embeddings);
  fuzz::check_serialises(embeddings, "the translated embeddings serialise to valid JSON");

  const auto* message = ollama->if_contains("message");
  const auto* calls = message && message->is_object() ? message->get_object().if_contains("tool_calls") : nullptr;
  if (calls && calls->is_array()) {
    std::size_t index = 0;
    for (const auto& call : calls->get_array()) check_tool_call(openai_tool_call_from_ollama(call, index++));
  }
  check_tool_call(openai_tool_call_from_ollama(*ollama, 0));
  return 0;
}

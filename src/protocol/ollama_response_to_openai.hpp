// Ollama native API answers -> OpenAI answers: /api/chat -> chat.completion (tool_calls get ids and
// string arguments; finish_reason from done_reason, tool_calls whenever tools were called), /api/generate
// -> text_completion, /api/embed -> an embeddings list; prompt_eval_count / eval_count as usage.
// `id` and `created` are the OpenAI id and Unix time to report (Ollama has neither).
// Pure; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace switchyard {

void ollama_chat_to_openai_response(const boost::json::object& ollama, std::string_view id, std::int64_t created,
                                    boost::json::object& openai);
void ollama_generate_to_openai_completion(const boost::json::object& ollama, std::string_view id,
                                          std::int64_t created, boost::json::object& openai);
void ollama_embed_to_openai_embeddings(const boost::json::object& ollama, boost::json::object& openai);

// OpenAI's finish_reason for an Ollama done_reason ("stop", "length", "load", absent -> "stop").
std::string_view openai_finish_reason_from_ollama(std::string_view done_reason);

// One Ollama tool call -> OpenAI's {"id","type":"function","function":{"name","arguments":<JSON text>}}.
// The id is Ollama's when it sent one (newer servers), else "call_<index>"; `index` is the call's
// position among the answer's calls. Empty when `call` has no function object. Shared with the
// stream translator.
boost::json::object openai_tool_call_from_ollama(const boost::json::value& call, std::size_t index);

}  // namespace switchyard

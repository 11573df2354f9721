// A closer look at the requests request_scan marks `deep` (images, tool messages, tool results): a
// DOM walk that counts images, finds the tool results the last turn carries and rejects what the real
// server rejects. Plain requests never come here. Pure functions; called on worker threads.
#pragma once

#include <string>
#include <string_view>

#include "responses.hpp"

namespace fake_upstream {

struct Inspection {
  // Images anywhere in the request: OpenAI image_url parts, Anthropic image blocks (tool_result
  // contents included), Ollama "images" entries (per message for chat, top level for generate).
  int images = 0;
  // The last turn is tool results (OpenAI/Ollama: trailing role "tool" messages; Anthropic: a user
  // message with tool_result blocks). The answer is then text, not another tool call.
  bool last_is_tool_result = false;
  // What the answer's text starts with: "I see N image(s). " when N > 0, then
  // "The tool said: <content>. " per tool result of the last turn.
  std::string text_prefix;

  // status != 0: the request is rejected with this status and message (and, for OpenAI, param
  // and code; empty means null), in the endpoint's error shape.
  int status = 0;
  std::string message;
  std::string param;
  std::string code;

  void clear();
};

// Walks `body` (already known to be one well-formed JSON object) as `endpoint`'s API: chat
// (OpenAI), messages or count_tokens (Anthropic), ollama_chat or ollama_generate. Other endpoints
// leave `out` clear. Never throws.
void inspect_request(Endpoint endpoint, std::string_view body, Inspection& out);

// POST /api/embed's "input": the number of prompts (an empty string is none), or -1 when it is not a
// string or an array of strings ("invalid input type", as Ollama says).
int ollama_embed_inputs(std::string_view body);
// POST /api/embeddings (legacy): whether "prompt" is missing or empty.
bool ollama_prompt_empty(std::string_view body);
// POST /api/show: "model", or the older "name"; empty when neither is a non-empty string.
std::string ollama_show_name(std::string_view body);

}  // namespace fake_upstream

// Ollama native API answers: /api/chat and /api/generate (one JSON object, or NDJSON lines ending
// with a done:true line carrying done_reason, token counts and durations in nanoseconds),
// /api/embed and the legacy /api/embeddings, /api/version, /api/tags, /api/show, /api/ps and
// Ollama's error body. Same conventions as responses.hpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "responses.hpp"

namespace fake_upstream {

// {"error":"..."}
void append_ollama_error_body(std::string& out, std::string_view message);

// The whole answer (stream false). `chat`: /api/chat ("message"), else /api/generate ("response").
void append_ollama_body(std::string& out, const Completion& c, bool chat);

// NDJSON lines, each one HTTP chunk: one per token, then the done:true line and the end of the body.
void append_ollama_token_line(std::string& out, std::string& line, const Completion& c, bool chat, int i);
void append_ollama_done_line(std::string& out, std::string& line, const Completion& c, bool chat);
// A done:false line carrying `text` (escaped here): the answer's text_prefix.
void append_ollama_text_line(std::string& out, std::string& line, const Completion& c, bool chat,
                             std::string_view text);
// A chat tool call arrives whole, in one done:false line (Ollama never streams arguments).
void append_ollama_tool_call_line(std::string& out, std::string& line, const Completion& c);

// Head of a chunked application/x-ndjson response.
void append_ndjson_head(std::string& out, bool keep_alive);

// POST /api/embed: {"model","embeddings":[one vector per input],"total_duration","load_duration",
// "prompt_eval_count"}; with no inputs only {"model","embeddings":[]}, as Ollama answers.
void append_ollama_embed_body(std::string& out, const Completion& c, int inputs);
// POST /api/embeddings (legacy): {"embedding":[...]}, or {"embedding":[]} for an empty prompt.
void append_ollama_embedding_body(std::string& out, bool empty_prompt);

void append_ollama_version_body(std::string& out);
void append_ollama_tags_body(std::string& out, const std::vector<std::string>& models);
// POST /api/show for `name` as the request spelled it: modelfile, parameters, template, details,
// model_info, capabilities (["embedding"] when the name says "embed", else completion, tools and
// vision, which the fake all answers) and modified_at.
void append_ollama_show_body(std::string& out, std::string_view name);
// GET /api/ps: every model loaded, expiring five minutes after `now` (unix seconds).
void append_ollama_ps_body(std::string& out, const std::vector<std::string>& models, std::int64_t now);
// "name:latest" for a name without a tag, as Ollama lists it.
std::string ollama_tagged_name(std::string_view name);

}  // namespace fake_upstream

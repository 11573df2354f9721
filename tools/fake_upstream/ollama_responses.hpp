// Ollama native API answers: /api/chat and /api/generate (one JSON object, or NDJSON lines ending
// with a done:true line carrying done_reason, token counts and durations in nanoseconds),
// /api/version, /api/tags and Ollama's error body. Same conventions as responses.hpp.
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
// A chat tool call arrives whole, in one done:false line (Ollama never streams arguments).
void append_ollama_tool_call_line(std::string& out, std::string& line, const Completion& c);

// Head of a chunked application/x-ndjson response.
void append_ndjson_head(std::string& out, bool keep_alive);

void append_ollama_version_body(std::string& out);
void append_ollama_tags_body(std::string& out, const std::vector<std::string>& models);

}  // namespace fake_upstream

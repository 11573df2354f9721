// Builds response bytes (HTTP heads, JSON bodies, SSE events) by appending to reusable strings.
// Pure functions; the token text cache is per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fake_upstream {

// chat, text and embeddings answer as OpenAI/llama-server do; messages and count_tokens as
// Anthropic does; the ollama_* ones as Ollama's /api/chat, /api/generate, /api/embed and the legacy
// /api/embeddings do.
enum class Endpoint : std::uint8_t {
  chat, text, embeddings, messages, count_tokens, ollama_chat, ollama_generate, ollama_embed, ollama_embeddings
};

inline bool is_anthropic(Endpoint e) { return e == Endpoint::messages || e == Endpoint::count_tokens; }
inline bool is_ollama(Endpoint e) {
  return e == Endpoint::ollama_chat || e == Endpoint::ollama_generate || e == Endpoint::ollama_embed ||
         e == Endpoint::ollama_embeddings;
}

struct Timings {
  double prompt_ms = 0;
  double predicted_ms = 0;
};

// One generated answer: what the non-stream body and every stream chunk are built from.
struct Completion {
  Endpoint endpoint = Endpoint::chat;
  std::uint64_t id = 0;
  std::int64_t created = 0;
  std::string_view model_json;  // the model as a JSON string literal, quotes included
  int prompt_tokens = 1;
  int completion_tokens = 0;
  bool length_limited = false;  // finish_reason "length" instead of "stop"
  Timings timings;
  // Not empty: the answer is a call of this tool (the first one the request offered) with
  // kToolArguments, instead of text.
  std::string_view tool_json;  // the tool name as a JSON string literal, quotes included
  // Raw (unescaped) text that comes before the tokens of a text answer: "I see N image(s). " and
  // "The tool said: <content>. " (see request_inspect.hpp). Streams send it as one chunk of its own.
  std::string_view text_prefix;
};

// The arguments of every fake tool call, and the pieces a stream sends them in (split mid-token, as
// real servers do).
inline constexpr std::string_view kToolArguments = R"({"location":"Paris"})";
inline constexpr std::string_view kToolArgumentPieces[] = {R"({"locat)", R"(ion":"Pa)", R"(ris"})"};

// "tok0 tok1 ... tok<n-1> ": the text of the first n tokens. Valid until the next call.
std::string_view token_text(int n);
// The text of token i alone.
std::string_view token(int i);

void append_int(std::string& out, std::int64_t v);
void append_json_string(std::string& out, std::string_view s);
// The inside of a JSON string literal: `s` escaped, no quotes.
void append_json_escaped(std::string& out, std::string_view s);
// Shortest round-trip text of `v` (0 for NaN and infinities).
void append_double(std::string& out, double v);

// Embedding vectors: 8 deterministic values in [-0.5, 0.5] for the i-th input, the same for every
// API, so a vector that crossed a translation can be compared with one fetched directly.
inline constexpr int kEmbeddingSize = 8;
void embedding_values(int i, float (&values)[kEmbeddingSize]);
// "[v0,v1,...]", each value the float32 printed as the double it converts to.
void append_embedding_array(std::string& out, int i);

// "HTTP/1.1 <status> <reason>\r\n" and the headers, through the blank line.
void append_head(std::string& out, int status, std::string_view content_type,
                 std::size_t content_length, bool keep_alive);
void append_stream_head(std::string& out, bool keep_alive);
// Wraps `event` (one SSE event) into one HTTP chunk.
void append_chunk(std::string& out, std::string_view event);

// {"error":{"code":S,"message":"...","type":"..."}} (llama-server's shape)
void append_error_body(std::string& out, int status, std::string_view message);
// {"error":{"message":"...","type":"invalid_request_error","param":P,"code":C}} (OpenAI's own
// shape, for the request checks OpenAI makes); an empty param or code is null.
void append_openai_invalid_request_body(std::string& out, std::string_view message,
                                        std::string_view param, std::string_view code);
std::string_view error_type(int status);

void append_completion_body(std::string& out, const Completion& c);
// `base64`: each embedding as base64 of little-endian float32 values, as OpenAI and llama-server do.
void append_embeddings_body(std::string& out, const Completion& c, int inputs, bool base64);

// Streams. `prefix` holds `{"id":...,"system_fingerprint":"b1-fake","choices":[` for the request;
// each append_*_chunk adds one SSE event as one HTTP chunk.
void append_stream_prefix(std::string& prefix, const Completion& c);
void append_role_chunk(std::string& out, std::string& event, std::string_view prefix);
void append_token_chunk(std::string& out, std::string& event, std::string_view prefix,
                        Endpoint endpoint, int i);
// A chat content chunk carrying `text` (escaped here): the answer's text_prefix.
void append_text_chunk(std::string& out, std::string& event, std::string_view prefix,
                       std::string_view text);
void append_finish_chunk(std::string& out, std::string& event, std::string_view prefix,
                         const Completion& c);
void append_usage_chunk(std::string& out, std::string& event, std::string_view prefix,
                        const Completion& c);
void append_done_and_end(std::string& out);

// Chat tool calls (OpenAI shape): the call's first chunk (id, name, empty arguments), one chunk per
// argument piece, and the finish chunk with finish_reason "tool_calls".
void append_tool_call_start_chunk(std::string& out, std::string& event, std::string_view prefix,
                                  const Completion& c);
void append_tool_arguments_chunk(std::string& out, std::string& event, std::string_view prefix,
                                 std::string_view piece);

}  // namespace fake_upstream

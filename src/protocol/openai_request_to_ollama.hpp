// OpenAI requests -> Ollama native API requests, for a client of any protocol served by an upstream
// of kind ollama: chat -> /api/chat (image_url parts as base64 `images` on their message; only data:
// URLs here, the caller fetches http(s) ones first; tool definitions as they are; assistant tool
// calls with arguments as JSON objects; tool messages with tool_name; response_format json_object ->
// format "json", json_schema -> format = the schema; sampling parameters, max_tokens and stop into
// `options`; `stream` always written, as Ollama streams by default), legacy completions ->
// /api/generate, embeddings -> /api/embed. Also: developer messages become system ones, an
// assistant's reasoning_content its thinking, reasoning_effort becomes think, tool_choice "none"
// leaves the tools out (Ollama cannot be told not to call them), and n > 1 is refused.
// Pure; any thread.
#pragma once

#include <boost/json/object.hpp>

#include "core/error.hpp"

namespace switchyard {

// The model is copied as given; the caller rewrites it. False with `error` set when the request
// cannot be expressed (an image that is not a data: URL, say).
bool openai_to_ollama_chat_request(const boost::json::object& openai, boost::json::object& ollama, ApiError& error);
bool openai_to_ollama_generate_request(const boost::json::object& openai, boost::json::object& ollama, ApiError& error);
bool openai_to_ollama_embed_request(const boost::json::object& openai, boost::json::object& ollama, ApiError& error);

}  // namespace switchyard

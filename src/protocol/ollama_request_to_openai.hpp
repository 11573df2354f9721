// Ollama native API requests -> OpenAI requests, for an Ollama client (the ollama CLI or SDK) served
// by an upstream of another kind: /api/chat and /api/generate -> a chat request (system and prompt as
// messages, base64 `images` as image_url data: URLs with the type sniffed from the bytes, tool calls
// with object arguments -> string arguments and generated ids, tool messages matched to the call they
// answer, `format` "json" or a schema -> response_format, `options` num_predict / temperature /
// top_p / top_k / stop / seed / presence and frequency penalties -> their OpenAI fields, `stream`
// true unless given false, as Ollama does, with usage asked for), /api/embed and the legacy
// /api/embeddings -> an embeddings request. Pure; any thread.
#pragma once

#include <string_view>

#include <boost/json/object.hpp>

#include "core/error.hpp"

namespace switchyard {

enum class OllamaEndpoint { chat, generate, embed, embeddings };

// The path's endpoint ("/api/chat" -> chat ...).
std::string_view ollama_endpoint_path(OllamaEndpoint endpoint);

// The model is copied as given; the caller rewrites it. False with `error` set (param naming the
// field) when the request is not valid (no model, messages not an array, prompt not a string...).
bool ollama_to_openai_request(OllamaEndpoint endpoint, const boost::json::object& ollama, boost::json::object& openai,
                              ApiError& error);

}  // namespace switchyard

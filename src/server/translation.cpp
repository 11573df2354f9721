#include "server/translation.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstring>

#include "protocol/anthropic_response_to_openai.hpp"
#include "protocol/anthropic_to_openai.hpp"
#include "protocol/json_fields.hpp"
#include "protocol/ollama_response_to_openai.hpp"
#include "protocol/openai_request_to_anthropic.hpp"
#include "protocol/openai_request_to_ollama.hpp"
#include "protocol/openai_to_anthropic.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void note_hub_usage(const json::object& hub, UsageFacts& usage) {
  const auto* value = hub.if_contains("usage");
  if (!value || !value->is_object()) return;
  const auto prompt = integer_at(value->get_object(), "prompt_tokens");
  const auto completion = integer_at(value->get_object(), "completion_tokens");
  if (prompt >= 0) usage.prompt_tokens = prompt;
  if (completion >= 0) usage.completion_tokens = completion;
}

// Usage as the upstream's own protocol reports it, for passthrough answers.
void note_native_usage(UpstreamKind kind, const json::object& answer, UsageFacts& usage) {
  if (kind == UpstreamKind::openai) return note_hub_usage(answer, usage);
  if (kind == UpstreamKind::ollama) {
    usage.prompt_tokens = integer_at(answer, "prompt_eval_count");
    usage.completion_tokens = integer_at(answer, "eval_count");
    return;
  }
  const auto* value = answer.if_contains("usage");
  if (!value || !value->is_object()) return;
  const auto& u = value->get_object();
  std::int64_t prompt = 0;
  for (const auto* key : {"input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"})
    prompt += std::max<std::int64_t>(integer_at(u, key), 0);
  usage.prompt_tokens = prompt;
  usage.completion_tokens = integer_at(u, "output_tokens");
}

// OpenAI's base64 embeddings: the float32 values' little-endian bytes (what the openai SDK asks for
// by default and decodes).
void embeddings_as_base64(json::object& list) {
  auto* data = list.if_contains("data");
  if (!data || !data->is_array()) return;
  for (auto& item : data->get_array()) {
    if (!item.is_object()) continue;
    auto* embedding = item.get_object().if_contains("embedding");
    if (!embedding || !embedding->is_array()) continue;
    std::string bytes;
    bytes.reserve(embedding->get_array().size() * 4);
    for (const auto& number : embedding->get_array()) {
      const auto value = static_cast<float>(number.is_double() ? number.get_double()
                                            : number.is_int64() ? static_cast<double>(number.get_int64())
                                                                : 0.0);
      char raw[4];
      std::memcpy(raw, &value, 4);  // x86 and ARM Linux are little-endian, as the format is
      bytes.append(raw, 4);
    }
    std::string encoded(boost::beast::detail::base64::encoded_size(bytes.size()), '\0');
    encoded.resize(boost::beast::detail::base64::encode(encoded.data(), bytes.data(), bytes.size()));
    *embedding = json::string(encoded);
  }
}

bool unsupported(ApiError& error, std::string message) {
  return fail_with(error, ErrorKind::invalid_request, std::move(message), {});
}

}  // namespace

ClientProtocol client_protocol(ClientApi api) {
  switch (api) {
    case ClientApi::openai_chat:
    case ClientApi::openai_completions:
    case ClientApi::openai_embeddings: return ClientProtocol::openai;
    case ClientApi::anthropic_messages:
    case ClientApi::anthropic_count_tokens: return ClientProtocol::anthropic;
    default: return ClientProtocol::ollama;
  }
}

OpenAiEndpoint hub_endpoint(ClientApi api) {
  switch (api) {
    case ClientApi::openai_completions: return OpenAiEndpoint::completions;
    case ClientApi::openai_embeddings:
    case ClientApi::ollama_embed:
    case ClientApi::ollama_embeddings: return OpenAiEndpoint::embeddings;
    default: return OpenAiEndpoint::chat_completions;
  }
}

OllamaEndpoint ollama_endpoint(ClientApi api) {
  switch (api) {
    case ClientApi::ollama_generate: return OllamaEndpoint::generate;
    case ClientApi::ollama_embed: return OllamaEndpoint::embed;
    case ClientApi::ollama_embeddings: return OllamaEndpoint::embeddings;
    default: return OllamaEndpoint::chat;
  }
}

bool is_embedding(ClientApi api) { return hub_endpoint(api) == OpenAiEndpoint::embeddings; }

bool is_passthrough(ClientApi api, UpstreamKind kind) {
  switch (client_protocol(api)) {
    case ClientProtocol::openai: return kind == UpstreamKind::openai;
    case ClientProtocol::anthropic: return kind == UpstreamKind::anthropic;
    case ClientProtocol::ollama: return kind == UpstreamKind::ollama;
  }
  return false;
}

std::string_view upstream_path(ClientApi api, UpstreamKind kind) {
  switch (kind) {
    case UpstreamKind::openai:
      switch (hub_endpoint(api)) {
        case OpenAiEndpoint::completions: return "/completions";
        case OpenAiEndpoint::embeddings: return "/embeddings";
        default: return "/chat/completions";
      }
    case UpstreamKind::anthropic:
      return api == ClientApi::anthropic_count_tokens ? "/v1/messages/count_tokens" : "/v1/messages";
    case UpstreamKind::ollama:
      if (client_protocol(api) == ClientProtocol::ollama) return ollama_endpoint_path(ollama_endpoint(api));
      switch (hub_endpoint(api)) {
        case OpenAiEndpoint::completions: return "/api/generate";
        case OpenAiEndpoint::embeddings: return "/api/embed";
        default: return "/api/chat";
      }
  }
  return "/chat/completions";
}

bool client_request_to_hub(ClientApi api, std::string_view body, std::string& hub_body, ApiError& error) {
  boost::system::error_code ec;
  const auto parsed = json::parse(body, ec);
  if (ec || !parsed.is_object())
    return fail_with(error, ErrorKind::invalid_json, "The request body is not a JSON object.", {});
  json::object hub;
  const bool ok = client_protocol(api) == ClientProtocol::anthropic
                      ? anthropic_to_openai_request(parsed.get_object(), hub, error)
                      : ollama_to_openai_request(ollama_endpoint(api), parsed.get_object(), hub, error);
  if (!ok) return false;
  hub_body = json::serialize(hub);
  return true;
}

namespace {

// options.num_ctx, unless the request has its own.
void default_num_ctx(json::object& ollama, unsigned num_ctx) {
  if (num_ctx == 0) return;
  auto& options = ollama["options"];
  if (!options.is_object()) options = json::object{};
  auto& o = options.get_object();
  if (!o.contains("num_ctx")) o["num_ctx"] = num_ctx;
}

}  // namespace

bool ollama_passthrough_needs_num_ctx(const DeploymentConfig& deployment, std::string_view client_body) {
  // A textual look is enough to skip the parse in the common case; a false "yes" only costs one parse.
  return deployment.num_ctx != 0 && client_body.find("\"num_ctx\"") == std::string_view::npos;
}

bool ollama_passthrough_body(const DeploymentConfig& deployment, std::string_view client_body, std::string& out) {
  boost::system::error_code ec;
  auto parsed = json::parse(client_body, ec);
  if (ec || !parsed.is_object()) return false;
  auto& body = parsed.get_object();
  default_num_ctx(body, deployment.num_ctx);
  body["model"] = deployment.model;
  out = json::serialize(body);
  return true;
}

bool hub_to_upstream_body(ClientApi api, const UpstreamConfig& upstream, const DeploymentConfig& deployment,
                          const json::object& hub, std::string& out, ApiError& error) {
  json::object body;
  const auto endpoint = hub_endpoint(api);
  switch (upstream.kind) {
    case UpstreamKind::openai:
      body = hub;
      for (const auto& field : upstream.drop_fields) body.erase(field);
      for (const auto& [from, to] : upstream.rename_fields) {
        if (auto* value = body.if_contains(from)) {
          auto moved = std::move(*value);
          body.erase(from);
          body[to] = std::move(moved);
        }
      }
      break;
    case UpstreamKind::anthropic: {
      if (endpoint != OpenAiEndpoint::chat_completions)
        return unsupported(error, "Upstream '" + upstream.name + "' (kind anthropic) serves chat only, not " +
                                      (endpoint == OpenAiEndpoint::embeddings ? "embeddings." : "legacy completions."));
      AnthropicRequestOptions options;
      options.default_max_tokens = upstream.default_max_tokens;
      if (!openai_to_anthropic_request(hub, body, options, error)) return false;
      break;
    }
    case UpstreamKind::ollama: {
      const bool ok = endpoint == OpenAiEndpoint::embeddings    ? openai_to_ollama_embed_request(hub, body, error)
                      : endpoint == OpenAiEndpoint::completions ? openai_to_ollama_generate_request(hub, body, error)
                                                                : openai_to_ollama_chat_request(hub, body, error);
      if (!ok) return false;
      default_num_ctx(body, deployment.num_ctx);
      break;
    }
  }
  body["model"] = deployment.model;
  out = json::serialize(body);
  return true;
}

std::string translate_answer(ClientApi api, UpstreamKind kind, std::string_view body, const AnswerIdentity& identity,
                             UsageFacts& usage) {
  boost::system::error_code ec;
  auto parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return std::string(body);
  auto& answer = parsed.get_object();
  if (is_passthrough(api, kind)) {
    note_native_usage(kind, answer, usage);
    if (answer.contains("model")) answer["model"] = identity.alias;
    return json::serialize(answer);
  }
  // Upstream protocol -> hub.
  json::object hub;
  const std::string id = "chatcmpl-" + std::string(identity.request_id);
  switch (kind) {
    case UpstreamKind::openai: hub = std::move(answer); break;
    case UpstreamKind::anthropic: anthropic_to_openai_response(answer, hub); break;
    case UpstreamKind::ollama:
      if (is_embedding(api)) {
        ollama_embed_to_openai_embeddings(answer, hub);
      } else if (hub_endpoint(api) == OpenAiEndpoint::completions) {
        ollama_generate_to_openai_completion(answer, id, unix_seconds(), hub);
      } else {
        ollama_chat_to_openai_response(answer, id, unix_seconds(), hub);
      }
      break;
  }
  note_hub_usage(hub, usage);
  hub["model"] = identity.alias;
  // Hub -> client protocol.
  switch (client_protocol(api)) {
    case ClientProtocol::openai:
      if (identity.base64_embeddings) embeddings_as_base64(hub);
      return json::serialize(hub);
    case ClientProtocol::anthropic: {
      json::object message;
      openai_to_anthropic_response(hub, message);
      message["model"] = identity.alias;
      return json::serialize(message);
    }
    case ClientProtocol::ollama: {
      json::object ollama;
      openai_to_ollama_response(ollama_endpoint(api), hub, identity.alias, identity.timings, ollama);
      return json::serialize(ollama);
    }
  }
  return std::string(body);
}

std::string upstream_error_message(std::string_view body) {
  boost::system::error_code ec;
  const auto parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return std::string(body);
  const json::value* error = parsed.get_object().if_contains("error");
  if (error && error->is_string()) return std::string(error->get_string());  // Ollama
  if (error && error->is_object()) {
    const auto* message = error->get_object().if_contains("message");  // OpenAI and Anthropic
    if (message && message->is_string()) return std::string(message->get_string());
  }
  return std::string(body);
}

std::string translate_error(ClientApi api, UpstreamKind kind, int status, std::string_view body) {
  if (is_passthrough(api, kind)) return std::string(body);
  auto message = upstream_error_message(body);
  if (message.empty()) message = "Upstream error " + std::to_string(status) + ".";
  switch (client_protocol(api)) {
    case ClientProtocol::anthropic: return anthropic_error_body(status, message);
    case ClientProtocol::ollama: return ollama_error_body(message);
    case ClientProtocol::openai: {
      const json::object error{{"error", json::object{{"message", message},
                                                      {"type", status >= 500 ? "server_error" : "invalid_request_error"},
                                                      {"param", nullptr},
                                                      {"code", nullptr}}}};
      return json::serialize(error);
    }
  }
  return std::string(body);
}

}  // namespace switchyard

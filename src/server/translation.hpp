// Which translation a request needs, from the API the client called and the kind of upstream that
// serves this attempt, and the translation of whole bodies: the request going up, the answer and the
// errors coming back. OpenAI Chat (and OpenAI embeddings / legacy completions) is the hub shape: a
// client's request is brought to it once, and each attempt takes it to its upstream's protocol.
// Same protocol in and out is a passthrough: only the model name changes. Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "config/config.hpp"
#include "core/error.hpp"
#include "protocol/ollama_request_to_openai.hpp"
#include "protocol/openai_body.hpp"
#include "protocol/openai_response_to_ollama.hpp"

namespace switchyard {

// The inbound API a request came in on.
enum class ClientApi {
  openai_chat,
  openai_completions,
  openai_embeddings,
  anthropic_messages,
  anthropic_count_tokens,  // served by anthropic upstreams only (else estimated by the gateway)
  ollama_chat,
  ollama_generate,
  ollama_embed,
  ollama_embeddings,
};

ClientProtocol client_protocol(ClientApi api);
// The hub request the client's request becomes.
OpenAiEndpoint hub_endpoint(ClientApi api);
OllamaEndpoint ollama_endpoint(ClientApi api);  // for the ollama_* APIs
bool is_embedding(ClientApi api);

// True when the client's own body goes to an upstream of `kind` with only its model swapped.
bool is_passthrough(ClientApi api, UpstreamKind kind);

// The path under the upstream's base URL for this request.
std::string_view upstream_path(ClientApi api, UpstreamKind kind);

// The client's request (Anthropic or Ollama) as the hub request body. False with `error` (400).
bool client_request_to_hub(ClientApi api, std::string_view body, std::string& hub_body, ApiError& error);

// The body for an upstream of another protocol than the client's (or with request quirks), built
// from the parsed hub request, with the deployment's model (and, for Ollama, its num_ctx). False with
// `error` when the upstream cannot serve this kind of request.
bool hub_to_upstream_body(ClientApi api, const UpstreamConfig& upstream, const DeploymentConfig& deployment,
                          const boost::json::object& hub, std::string& out, ApiError& error);

// Whether an Ollama client's request to an Ollama upstream needs more than the model renamed: the
// deployment sets num_ctx and the request does not.
bool ollama_passthrough_needs_num_ctx(const DeploymentConfig& deployment, std::string_view client_body);
// That request with the deployment's model and num_ctx; false when the body is not a JSON object.
bool ollama_passthrough_body(const DeploymentConfig& deployment, std::string_view client_body, std::string& out);

// Token counts found in an answer (-1: not reported).
struct UsageFacts {
  std::int64_t prompt_tokens = -1;
  std::int64_t completion_tokens = -1;
};

// What a translated answer reports about itself.
struct AnswerIdentity {
  std::string_view alias;       // the model name the client sees
  std::string_view request_id;  // for ids the upstream's protocol lacks
  bool base64_embeddings = false;  // an OpenAI client asked for encoding_format base64
  OllamaTimings timings;        // for Ollama clients
};

// A 2xx answer of an upstream of `kind` in the client's protocol, usage noted in `usage`.
// An answer that is not JSON comes back as it was.
std::string translate_answer(ClientApi api, UpstreamKind kind, std::string_view body, const AnswerIdentity& identity,
                             UsageFacts& usage);

// An upstream's error answer (any shape) in the client's protocol, same status. Passed on as it was
// when the protocols match.
std::string translate_error(ClientApi api, UpstreamKind kind, int status, std::string_view body);

// The message of an error body of any of the three shapes (empty when none is found).
std::string upstream_error_message(std::string_view body);

}  // namespace switchyard

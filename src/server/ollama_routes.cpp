#include "server/ollama_routes.hpp"

#include <openssl/sha.h>

#include <boost/json.hpp>

#include <cstdio>
#include <ctime>

#include "app/worker.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  const auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buffer, n);
}

// A stable digest per alias (Ollama clients show its first 12 hex digits as the model's id).
std::string alias_digest(std::string_view alias) {
  unsigned char hash[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(alias.data()), alias.size(), hash);
  std::string hex;
  char pair[3];
  for (const auto byte : hash) {
    std::snprintf(pair, sizeof pair, "%02x", byte);
    hex += pair;
  }
  return hex;
}

json::object details() {
  return json::object{{"parent_model", ""}, {"format", "gguf"},          {"family", ""},
                      {"families", nullptr}, {"parameter_size", ""}, {"quantization_level", ""}};
}

json::object model_entry(std::string_view alias, std::chrono::system_clock::time_point modified) {
  return json::object{{"name", alias},
                      {"model", alias},
                      {"modified_at", rfc3339(modified)},
                      {"size", 0},
                      {"digest", alias_digest(alias)},
                      {"details", details()}};
}

// An alias counts as loaded while one of its deployments can take requests.
bool any_deployment_up(const Route& route) {
  for (const auto& deployment : route.deployments)
    if (deployment.upstream->healthy.load(std::memory_order_relaxed)) return true;
  return false;
}

// The answer to one of the routes: status and body.
int answer(const GatewayState& state, const Request& request, std::string_view path, json::object& body) {
  const auto& routes = state.routes();
  if (path == "/api/version") {
    body["version"] = kOllamaCompatibleVersion;
    return 200;
  }
  if (path == "/api/tags" || path == "/api/ps") {
    const bool running = path == "/api/ps";
    json::array models;
    for (const auto& alias : routes.aliases()) {
      const Route* route = routes.find(alias);
      if (running && !any_deployment_up(*route)) continue;
      auto entry = model_entry(alias, state.started_at());
      if (running) {
        entry.erase("modified_at");
        entry["expires_at"] = "2318-01-01T00:00:00Z";  // the gateway keeps serving it
        entry["size_vram"] = 0;
      }
      models.push_back(std::move(entry));
    }
    body["models"] = std::move(models);
    return 200;
  }
  // POST /api/show {"model": ...} (older clients send "name").
  boost::system::error_code ec;
  const auto parsed = json::parse(request.body(), ec);
  const json::value* name = nullptr;
  if (!ec && parsed.is_object()) {
    name = parsed.get_object().if_contains("model");
    if (!name) name = parsed.get_object().if_contains("name");
  }
  if (!name || !name->is_string()) {
    body["error"] = "model is required";
    return 400;
  }
  const std::string alias(name->get_string());
  if (!routes.find(alias)) {
    body["error"] = "model '" + alias + "' not found";
    return 404;
  }
  body["modelfile"] = "# Served by Switchyard as the alias " + alias + "\n";
  body["parameters"] = "";
  body["template"] = "{{ .Prompt }}";
  body["details"] = details();
  body["model_info"] = json::object{};
  body["capabilities"] = json::array{"completion", "tools", "vision"};
  body["modified_at"] = rfc3339(state.started_at());
  return 200;
}

}  // namespace

Task<> serve_ollama_info(HttpSession& session, Request& request, RequestContext& context, std::string_view path) {
  json::object body;
  const int status = answer(session.worker().state(), request, path, body);
  const auto text = json::serialize(body);
  co_await session.respond(context, status, "application/json", text);
}

}  // namespace switchyard

#include "config/config_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <boost/url/parse.hpp>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <fstream>
#include <set>
#include <sstream>

#include "config/env_substitution.hpp"
#include "config/provider_presets.hpp"

namespace switchyard {
namespace {

// Walks the YAML tree keeping the dotted key path, so every error can say file:line: key: what.
class Reader {
 public:
  Reader(std::string source, EnvLookup env) : source_(std::move(source)), env_(std::move(env)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& what) const {
    std::ostringstream out;
    out << source_;
    if (node.IsDefined() && node.Mark().line >= 0) out << ':' << node.Mark().line + 1;
    out << ": " << (path.empty() ? "(top level)" : path) << ": " << what;
    throw ConfigError(out.str());
  }

  void expect_map(const YAML::Node& node, const std::string& path) const {
    if (!node.IsMap()) fail(node, path, "must be a mapping");
  }

  // Rejects keys this version does not know: a typo must not silently fall back to a default.
  void only_keys(const YAML::Node& node, const std::string& path, std::initializer_list<const char*> allowed) const {
    std::set<std::string> known(allowed.begin(), allowed.end());
    for (const auto& item : node) {
      const auto key = item.first.as<std::string>();
      if (!known.count(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        fail(item.first, join(path, key), "unknown key (known keys: " + list + ")");
      }
    }
  }

  std::string string(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(node, path, "must be a string");
    try {
      return substitute_env(node.Scalar(), env_);
    } catch (const std::invalid_argument& e) {
      fail(node, path, e.what());
    }
  }

  template <typename Int>
  Int integer(const YAML::Node& node, const std::string& path, Int min, Int max) const {
    const auto text = string(node, path);
    Int value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
      fail(node, path, "must be an integer, got \"" + text + "\"");
    if (value < min || value > max)
      fail(node, path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return value;
  }

  Millis millis(const YAML::Node& node, const std::string& path) const {
    return Millis(integer<std::int64_t>(node, path, 1, 24LL * 3600 * 1000));
  }

  bool boolean(const YAML::Node& node, const std::string& path) const {
    const auto text = string(node, path);
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
    fail(node, path, "must be true or false, got \"" + text + "\"");
  }

  // `text` (not from the file: a preset's default) with ${VARIABLES} expanded; errors blame `node`.
  std::string expand(const YAML::Node& node, const std::string& path, const std::string& text) const {
    try {
      return substitute_env(text, env_);
    } catch (const std::invalid_argument& e) {
      fail(node, path, e.what());
    }
  }

  std::optional<std::string> environment(const std::string& name) const { return env_(name); }

  std::vector<std::string> strings(const YAML::Node& node, const std::string& path) const {
    if (!node.IsSequence()) fail(node, path, "must be a list of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < node.size(); ++i) out.push_back(string(node[i], path + "[" + std::to_string(i) + "]"));
    return out;
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

 private:
  std::string source_;
  EnvLookup env_;
};

void parse_listen(const Reader& r, const YAML::Node& node, ServerConfig& server) {
  const auto text = r.string(node, "listen");
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {  // [::1]:9300
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      r.fail(node, "listen", "must be HOST:PORT, e.g. 127.0.0.1:9300 or [::1]:9300");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) r.fail(node, "listen", "must be HOST:PORT, e.g. 127.0.0.1:9300");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    r.fail(node, "listen", "must be HOST:PORT with a port from 0 to 65535, got \"" + text + "\"");
  server.listen_host = host;
  server.listen_port = static_cast<std::uint16_t>(value);
}

void parse_server(const Reader& r, const YAML::Node& node, ServerConfig& server) {
  const std::string path = "server";
  r.expect_map(node, path);
  r.only_keys(node, path, {"max_body_bytes", "header_timeout_ms", "body_timeout_ms", "idle_timeout_ms",
                           "shutdown_grace_ms"});
  if (node["max_body_bytes"])
    server.max_body_bytes = r.integer<std::size_t>(node["max_body_bytes"], path + ".max_body_bytes", 1, 1ULL << 32);
  if (node["header_timeout_ms"]) server.header_timeout = r.millis(node["header_timeout_ms"], path + ".header_timeout_ms");
  if (node["body_timeout_ms"]) server.body_timeout = r.millis(node["body_timeout_ms"], path + ".body_timeout_ms");
  if (node["idle_timeout_ms"]) server.idle_timeout = r.millis(node["idle_timeout_ms"], path + ".idle_timeout_ms");
  if (node["shutdown_grace_ms"]) server.shutdown_grace = r.millis(node["shutdown_grace_ms"], path + ".shutdown_grace_ms");
}

void parse_base_url(const Reader& r, const YAML::Node& node, const std::string& path, UpstreamConfig& up) {
  const auto parsed = boost::urls::parse_absolute_uri(up.base_url);
  if (!parsed) r.fail(node, path, "must be an absolute http:// or https:// URL, got \"" + up.base_url + "\"");
  const auto scheme = parsed->scheme();
  if (scheme != "http" && scheme != "https")
    r.fail(node, path, "scheme must be http or https, got \"" + std::string(scheme) + "\"");
  if (parsed->has_query() || parsed->has_fragment()) r.fail(node, path, "must not have a query or fragment");
  if (parsed->has_userinfo()) r.fail(node, path, "must not carry credentials; use api_key");
  up.tls = scheme == "https";
  up.host = parsed->host_address();  // IPv6 literals come without brackets
  if (up.host.empty()) r.fail(node, path, "has no host");
  if (parsed->has_port()) {
    const auto port = parsed->port_number();
    if (port == 0) r.fail(node, path, "has an invalid port");
    up.port = port;
  } else {
    up.port = up.tls ? 443 : 80;
  }
  up.path_prefix = std::string(parsed->encoded_path());
  while (!up.path_prefix.empty() && up.path_prefix.back() == '/') up.path_prefix.pop_back();
}

void parse_health(const Reader& r, const YAML::Node& node, const std::string& path, HealthCheckConfig& health) {
  if (node.IsScalar()) {  // health: false
    health.enabled = r.boolean(node, path);
    return;
  }
  r.expect_map(node, path);
  r.only_keys(node, path, {"enabled", "path", "interval_ms", "timeout_ms", "unhealthy_after", "healthy_after"});
  if (node["enabled"]) health.enabled = r.boolean(node["enabled"], path + ".enabled");
  if (node["path"]) {
    health.path = r.string(node["path"], path + ".path");
    if (health.path.empty() || health.path.front() != '/') r.fail(node["path"], path + ".path", "must start with /");
  }
  if (node["interval_ms"]) health.interval = r.millis(node["interval_ms"], path + ".interval_ms");
  if (node["timeout_ms"]) health.timeout = r.millis(node["timeout_ms"], path + ".timeout_ms");
  if (node["unhealthy_after"])
    health.unhealthy_after = r.integer<unsigned>(node["unhealthy_after"], path + ".unhealthy_after", 1, 100);
  if (node["healthy_after"])
    health.healthy_after = r.integer<unsigned>(node["healthy_after"], path + ".healthy_after", 1, 100);
}

Strategy parse_strategy(const Reader& r, const YAML::Node& node, const std::string& path) {
  const auto text = r.string(node, path);
  for (const auto strategy : {Strategy::round_robin, Strategy::weighted, Strategy::least_loaded,
                              Strategy::latency_based, Strategy::random})
    if (text == strategy_name(strategy)) return strategy;
  r.fail(node, path,
         "must be one of: round_robin, weighted, least_loaded, latency_based, random (got \"" + text + "\")");
}

UpstreamKind parse_kind(const Reader& r, const YAML::Node& node, const std::string& path) {
  const auto text = r.string(node, path);
  for (const auto kind : {UpstreamKind::openai, UpstreamKind::anthropic, UpstreamKind::ollama})
    if (text == upstream_kind_name(kind)) return kind;
  r.fail(node, path, "must be one of: openai, anthropic, ollama (got \"" + text + "\")");
}

// api_keys: a list of keys, each a string or {key, models: [...]}; empty keys (an unset
// ${VAR:-}) are skipped.
void parse_api_keys(const Reader& r, const YAML::Node& node, const std::string& path, UpstreamConfig& up) {
  if (!node.IsSequence()) r.fail(node, path, "must be a list of keys (strings, or {key, models})");
  for (std::size_t i = 0; i < node.size(); ++i) {
    const auto item = node[i];
    const auto ipath = path + "[" + std::to_string(i) + "]";
    ApiKeyConfig key;
    if (item.IsMap()) {
      r.only_keys(item, ipath, {"key", "models"});
      if (!item["key"]) r.fail(item, ipath + ".key", "is required");
      key.key = r.string(item["key"], ipath + ".key");
      if (item["models"]) key.models = r.strings(item["models"], ipath + ".models");
    } else {
      key.key = r.string(item, ipath);
    }
    if (!key.key.empty()) up.api_keys.push_back(std::move(key));
  }
}

void apply_preset(const Reader& r, const YAML::Node& node, const std::string& path, UpstreamConfig& up) {
  const auto name = r.string(node["preset"], path + ".preset");
  const auto* preset = find_preset(name);
  if (!preset) {
    std::string names;
    for (const auto& p : provider_presets()) names += (names.empty() ? "" : ", ") + std::string(p.name);
    r.fail(node["preset"], path + ".preset", "unknown preset \"" + name + "\" (known: " + names + ")");
  }
  up.preset = name;
  up.kind = preset->kind;
  for (const auto field : preset->drop_fields) up.drop_fields.emplace_back(field);
  for (const auto& [from, to] : preset->rename_fields) up.rename_fields.emplace(from, to);
  up.health.path = std::string(preset->health_path);
  if (!node["base_url"]) {
    up.base_url = r.expand(node["preset"], path + ".preset", std::string(preset->base_url));
    parse_base_url(r, node["preset"], path + ".base_url", up);
  }
  if (!node["api_key"] && !node["api_keys"] && !preset->key_env.empty()) {
    const std::string variable(preset->key_env);
    const auto key = r.environment(variable);
    if (!key || key->empty())
      r.fail(node["preset"], path + ".preset",
             "preset \"" + name + "\" takes its key from the environment variable " + variable +
                 ", which is not set (or give api_key)");
    up.api_keys.push_back(ApiKeyConfig{*key, {}});
  }
}

UpstreamConfig parse_upstream(const Reader& r, const std::string& name, const YAML::Node& node) {
  const std::string path = "upstreams." + name;
  r.expect_map(node, path);
  r.only_keys(node, path, {"preset", "kind", "base_url", "api_key", "api_keys", "key_rotation", "drop_fields",
                           "rename_fields", "anthropic_version", "default_max_tokens", "timeouts", "tls",
                           "max_idle_connections", "max_response_bytes", "health", "circuit", "node"});
  UpstreamConfig up;
  up.name = name;
  if (node["preset"]) apply_preset(r, node, path, up);
  if (node["kind"]) {
    up.kind = parse_kind(r, node["kind"], path + ".kind");
  } else if (up.preset.empty()) {
    r.fail(node, path + ".kind", "is required (one of: openai, anthropic, ollama), or give a preset");
  }
  if (node["base_url"]) {
    up.base_url = r.string(node["base_url"], path + ".base_url");
    parse_base_url(r, node["base_url"], path + ".base_url", up);
  } else if (up.base_url.empty()) {
    r.fail(node, path + ".base_url", "is required");
  }
  if (node["api_key"] && node["api_keys"]) r.fail(node["api_keys"], path + ".api_keys", "give api_key or api_keys, not both");
  if (node["api_key"]) {
    const auto key = r.string(node["api_key"], path + ".api_key");
    if (!key.empty()) up.api_keys.push_back(ApiKeyConfig{key, {}});
  }
  if (node["api_keys"]) parse_api_keys(r, node["api_keys"], path + ".api_keys", up);
  if (node["key_rotation"]) {
    const auto rotation = r.string(node["key_rotation"], path + ".key_rotation");
    if (rotation == "round_robin") {
      up.key_rotation = KeyRotation::round_robin;
    } else if (rotation == "least_used") {
      up.key_rotation = KeyRotation::least_used;
    } else {
      r.fail(node["key_rotation"], path + ".key_rotation", "must be round_robin or least_used");
    }
  }
  if (node["drop_fields"]) up.drop_fields = r.strings(node["drop_fields"], path + ".drop_fields");
  if (const auto renames = node["rename_fields"]) {
    r.expect_map(renames, path + ".rename_fields");
    up.rename_fields.clear();
    for (const auto& item : renames) {
      const auto from = item.first.as<std::string>();
      up.rename_fields[from] = r.string(item.second, path + ".rename_fields." + from);
    }
  }
  if (node["anthropic_version"]) up.anthropic_version = r.string(node["anthropic_version"], path + ".anthropic_version");
  if (node["default_max_tokens"])
    up.default_max_tokens = r.integer<std::int64_t>(node["default_max_tokens"], path + ".default_max_tokens", 1, 10'000'000);
  if (const auto t = node["timeouts"]) {
    const auto tpath = path + ".timeouts";
    r.expect_map(t, tpath);
    r.only_keys(t, tpath, {"connect_ms", "first_byte_ms", "chunk_gap_ms"});
    if (t["connect_ms"]) up.timeouts.connect = r.millis(t["connect_ms"], tpath + ".connect_ms");
    if (t["first_byte_ms"]) up.timeouts.first_byte = r.millis(t["first_byte_ms"], tpath + ".first_byte_ms");
    if (t["chunk_gap_ms"]) up.timeouts.chunk_gap = r.millis(t["chunk_gap_ms"], tpath + ".chunk_gap_ms");
  }
  if (const auto t = node["tls"]) {
    const auto tpath = path + ".tls";
    r.expect_map(t, tpath);
    r.only_keys(t, tpath, {"verify", "ca_file"});
    if (t["verify"]) up.tls_options.verify = r.boolean(t["verify"], tpath + ".verify");
    if (t["ca_file"]) {
      up.tls_options.ca_file = r.string(t["ca_file"], tpath + ".ca_file");
      if (!std::ifstream(up.tls_options.ca_file))
        r.fail(t["ca_file"], tpath + ".ca_file", "cannot read \"" + up.tls_options.ca_file + "\"");
    }
  }
  if (node["max_idle_connections"])
    up.max_idle_connections = r.integer<std::size_t>(node["max_idle_connections"], path + ".max_idle_connections", 0, 100000);
  if (node["max_response_bytes"])
    up.max_response_bytes = r.integer<std::size_t>(node["max_response_bytes"], path + ".max_response_bytes", 1024, 1ULL << 32);
  if (const auto h = node["health"]) parse_health(r, h, path + ".health", up.health);
  if (const auto c = node["circuit"]) {
    const auto cpath = path + ".circuit";
    r.expect_map(c, cpath);
    r.only_keys(c, cpath, {"failures", "open_ms", "max_open_ms"});
    if (c["failures"]) up.circuit.failures = r.integer<unsigned>(c["failures"], cpath + ".failures", 1, 1000);
    if (c["open_ms"]) up.circuit.open = r.millis(c["open_ms"], cpath + ".open_ms");
    if (c["max_open_ms"]) {
      up.circuit.max_open = r.millis(c["max_open_ms"], cpath + ".max_open_ms");
      if (up.circuit.max_open < up.circuit.open) r.fail(c, cpath + ".max_open_ms", "must not be less than open_ms");
    }
    up.circuit.max_open = std::max(up.circuit.max_open, up.circuit.open);
  }
  if (node["node"]) {
    const auto value = r.string(node["node"], path + ".node");
    if (value != "switchyard") r.fail(node["node"], path + ".node", "must be switchyard");
    if (up.kind != UpstreamKind::openai) r.fail(node["node"], path + ".node", "switchyard needs kind openai");
    up.node = UpstreamNode::switchyard;
  }
  return up;
}

LocalModelConfig parse_local_model(const Reader& r, const YAML::Node& node, const std::string& path) {
  r.expect_map(node, path);
  r.only_keys(node, path, {"model_path", "params", "load_timeout_sec", "pinned", "env", "vram_mib"});
  LocalModelConfig local;
  if (!node["model_path"]) r.fail(node, path + ".model_path", "is required: the GGUF file to serve");
  local.model_path = r.string(node["model_path"], path + ".model_path");
  if (const auto p = node["params"]) {
    const auto ppath = path + ".params";
    r.expect_map(p, ppath);
    r.only_keys(p, ppath, {"n_gpu_layers", "n_ctx", "parallel", "flash_attention", "type_k", "type_v", "embedding",
                           "threads", "batch_size", "ubatch_size", "extra_args"});
    auto& params = local.params;
    if (p["n_gpu_layers"]) params.n_gpu_layers = r.integer<int>(p["n_gpu_layers"], ppath + ".n_gpu_layers", -1, 100000);
    if (p["n_ctx"]) params.n_ctx = r.integer<unsigned>(p["n_ctx"], ppath + ".n_ctx", 0, 10'000'000);
    if (p["parallel"]) params.parallel = r.integer<unsigned>(p["parallel"], ppath + ".parallel", 1, 1024);
    if (p["flash_attention"]) {
      params.flash_attention = r.string(p["flash_attention"], ppath + ".flash_attention");
      if (params.flash_attention == "true") params.flash_attention = "on";   // YAML's on/off read as booleans
      if (params.flash_attention == "false") params.flash_attention = "off";
      if (params.flash_attention != "on" && params.flash_attention != "off" && params.flash_attention != "auto")
        r.fail(p["flash_attention"], ppath + ".flash_attention", "must be on, off or auto");
    }
    static const std::set<std::string> kv_types{"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"};
    for (const auto* key : {"type_k", "type_v"}) {
      if (!p[key]) continue;
      const auto value = r.string(p[key], ppath + "." + key);
      if (!kv_types.count(value))
        r.fail(p[key], ppath + "." + key, "must be one of f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1");
      (std::string(key) == "type_k" ? params.type_k : params.type_v) = value;
    }
    if (p["embedding"]) params.embedding = r.boolean(p["embedding"], ppath + ".embedding");
    if (p["threads"]) params.threads = r.integer<unsigned>(p["threads"], ppath + ".threads", 0, 4096);
    if (p["batch_size"]) params.batch_size = r.integer<unsigned>(p["batch_size"], ppath + ".batch_size", 0, 1 << 20);
    if (p["ubatch_size"]) params.ubatch_size = r.integer<unsigned>(p["ubatch_size"], ppath + ".ubatch_size", 0, 1 << 20);
    if (p["extra_args"]) params.extra_args = r.strings(p["extra_args"], ppath + ".extra_args");
  }
  if (node["load_timeout_sec"])
    local.load_timeout = Millis(1000 * r.integer<std::int64_t>(node["load_timeout_sec"], path + ".load_timeout_sec", 1, 24 * 3600));
  if (node["pinned"]) local.pinned = r.boolean(node["pinned"], path + ".pinned");
  if (const auto env = node["env"]) {
    r.expect_map(env, path + ".env");
    for (const auto& item : env) {
      const auto name = item.first.as<std::string>();
      local.env[name] = r.string(item.second, path + ".env." + name);
    }
  }
  if (node["vram_mib"]) local.vram_mib = r.integer<std::uint64_t>(node["vram_mib"], path + ".vram_mib", 1, 1ULL << 24);
  return local;
}

// The upstream a local model is served through: its own llama-server on loopback (the port is
// chosen when the gateway starts).
UpstreamConfig local_upstream(const std::string& alias) {
  UpstreamConfig up;
  up.name = "local:" + alias;
  up.kind = UpstreamKind::openai;
  up.host = "127.0.0.1";
  up.path_prefix = "/v1";
  up.base_url = "http://127.0.0.1:0/v1";
  up.health.enabled = false;  // the model manager checks its own processes
  return up;
}

ModelConfig parse_model(const Reader& r, const std::string& alias, const YAML::Node& node, Config& config) {
  const std::string path = "models." + alias;
  r.expect_map(node, path);
  r.only_keys(node, path, {"deployments", "strategy", "retries", "queue", "local"});
  ModelConfig model;
  model.alias = alias;
  if (node["local"]) {
    model.local = parse_local_model(r, node["local"], path + ".local");
    auto upstream = local_upstream(alias);
    DeploymentConfig d;
    d.upstream = upstream.name;
    d.model = alias;
    d.capacity = model.local->params.parallel;
    model.deployments.push_back(std::move(d));
    config.upstreams.emplace(upstream.name, std::move(upstream));
  }
  if (node["strategy"]) model.strategy = parse_strategy(r, node["strategy"], path + ".strategy");
  if (const auto q = node["retries"]) {
    const auto qpath = path + ".retries";
    r.expect_map(q, qpath);
    r.only_keys(q, qpath, {"max", "budget_percent", "budget_min"});
    if (q["max"]) model.retries.max = r.integer<unsigned>(q["max"], qpath + ".max", 0, 10);
    if (q["budget_percent"])
      model.retries.budget_ratio = r.integer<unsigned>(q["budget_percent"], qpath + ".budget_percent", 0, 100) / 100.0;
    if (q["budget_min"]) model.retries.budget_min = r.integer<unsigned>(q["budget_min"], qpath + ".budget_min", 0, 100000);
  }
  if (const auto q = node["queue"]) {
    const auto qpath = path + ".queue";
    r.expect_map(q, qpath);
    r.only_keys(q, qpath, {"max_size", "timeout_ms", "overflow_after_ms"});
    if (q["max_size"]) model.queue.max_size = r.integer<std::size_t>(q["max_size"], qpath + ".max_size", 0, 1000000);
    if (q["timeout_ms"]) model.queue.timeout = r.millis(q["timeout_ms"], qpath + ".timeout_ms");
    if (q["overflow_after_ms"]) model.queue.overflow_after = r.millis(q["overflow_after_ms"], qpath + ".overflow_after_ms");
  }
  const auto list = node["deployments"];
  if (!list && model.local) return model;
  if (!list) r.fail(node, path + ".deployments", "is required: a list of {upstream, model} (or a local model)");
  if (!list.IsSequence() || list.size() == 0) r.fail(list, path + ".deployments", "must be a non-empty list");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto item = list[i];
    const auto ipath = path + ".deployments[" + std::to_string(i) + "]";
    r.expect_map(item, ipath);
    r.only_keys(item, ipath, {"upstream", "model", "weight", "tier", "capacity", "num_ctx"});
    DeploymentConfig d;
    if (!item["upstream"]) r.fail(item, ipath + ".upstream", "is required");
    d.upstream = r.string(item["upstream"], ipath + ".upstream");
    if (!config.upstreams.count(d.upstream)) {
      std::string names;
      for (const auto& [n, _] : config.upstreams) names += (names.empty() ? "" : ", ") + n;
      r.fail(item["upstream"], ipath + ".upstream",
             "unknown upstream \"" + d.upstream + "\" (defined: " + (names.empty() ? "none" : names) + ")");
    }
    if (!item["model"]) r.fail(item, ipath + ".model", "is required: the model name sent upstream");
    d.model = r.string(item["model"], ipath + ".model");
    if (d.model.empty()) r.fail(item["model"], ipath + ".model", "must not be empty");
    if (item["weight"]) d.weight = r.integer<unsigned>(item["weight"], ipath + ".weight", 1, 1000);
    if (item["tier"]) d.tier = r.integer<unsigned>(item["tier"], ipath + ".tier", 0, 9);
    if (item["capacity"]) d.capacity = r.integer<unsigned>(item["capacity"], ipath + ".capacity", 0, 100000);
    if (item["num_ctx"]) {
      d.num_ctx = r.integer<unsigned>(item["num_ctx"], ipath + ".num_ctx", 1, 16'777'216);
      if (config.upstreams.at(d.upstream).kind != UpstreamKind::ollama)
        r.fail(item["num_ctx"], ipath + ".num_ctx",
               "applies to ollama upstreams only (\"" + d.upstream + "\" is not one); set the context on the server");
    }
    model.deployments.push_back(std::move(d));
  }
  return model;
}

void parse_local(const Reader& r, const YAML::Node& node, LocalConfig& local) {
  r.expect_map(node, "local");
  r.only_keys(node, "local", {"llama_server_path", "max_concurrent_models", "preload_models", "idle_timeout_sec",
                              "gpu_devices", "vram_multiplier", "state_dir", "health_interval_ms", "health_timeout_ms", "max_restarts",
                              "restart_window_sec", "restart_backoff_ms", "log_max_bytes", "nvidia_smi", "fake_gpus"});
  if (node["llama_server_path"]) local.llama_server_path = r.string(node["llama_server_path"], "local.llama_server_path");
  if (node["max_concurrent_models"])
    local.max_concurrent_models = r.integer<unsigned>(node["max_concurrent_models"], "local.max_concurrent_models", 1, 1000);
  if (node["preload_models"]) local.preload_models = r.strings(node["preload_models"], "local.preload_models");
  if (node["idle_timeout_sec"])
    local.idle_timeout = std::chrono::seconds(r.integer<std::int64_t>(node["idle_timeout_sec"], "local.idle_timeout_sec", 0, 365LL * 86400));
  if (const auto devices = node["gpu_devices"]) {
    if (!devices.IsSequence()) r.fail(devices, "local.gpu_devices", "must be a list of GPU indices");
    for (std::size_t i = 0; i < devices.size(); ++i)
      local.gpu_devices.push_back(r.integer<unsigned>(devices[i], "local.gpu_devices[" + std::to_string(i) + "]", 0, 255));
  }
  if (node["vram_multiplier"]) {
    const auto text = r.string(node["vram_multiplier"], "local.vram_multiplier");
    char* end = nullptr;
    local.vram_multiplier = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || local.vram_multiplier < 1.0 || local.vram_multiplier > 10.0)
      r.fail(node["vram_multiplier"], "local.vram_multiplier", "must be a number from 1.0 to 10.0");
  }
  if (node["state_dir"]) local.state_dir = r.string(node["state_dir"], "local.state_dir");
  if (node["health_interval_ms"]) local.health_interval = r.millis(node["health_interval_ms"], "local.health_interval_ms");
  if (node["health_timeout_ms"]) local.health_timeout = r.millis(node["health_timeout_ms"], "local.health_timeout_ms");
  if (node["max_restarts"]) local.max_restarts = r.integer<unsigned>(node["max_restarts"], "local.max_restarts", 0, 1000);
  if (node["restart_window_sec"])
    local.restart_window = Millis(1000 * r.integer<std::int64_t>(node["restart_window_sec"], "local.restart_window_sec", 1, 86400));
  if (node["restart_backoff_ms"]) local.restart_backoff = r.millis(node["restart_backoff_ms"], "local.restart_backoff_ms");
  if (node["log_max_bytes"])
    local.log_max_bytes = r.integer<std::size_t>(node["log_max_bytes"], "local.log_max_bytes", 4096, 1ULL << 34);
  if (node["nvidia_smi"]) local.nvidia_smi = r.string(node["nvidia_smi"], "local.nvidia_smi");
  if (const auto gpus = node["fake_gpus"]) {
    if (!gpus.IsSequence()) r.fail(gpus, "local.fake_gpus", "must be a list of {name, total_mib, used_mib}");
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      const auto path = "local.fake_gpus[" + std::to_string(i) + "]";
      r.expect_map(gpus[i], path);
      r.only_keys(gpus[i], path, {"name", "total_mib", "used_mib"});
      FakeGpuConfig gpu;
      if (gpus[i]["name"]) gpu.name = r.string(gpus[i]["name"], path + ".name");
      if (!gpus[i]["total_mib"]) r.fail(gpus[i], path + ".total_mib", "is required");
      gpu.total_mib = r.integer<std::uint64_t>(gpus[i]["total_mib"], path + ".total_mib", 1, 1ULL << 24);
      if (gpus[i]["used_mib"]) gpu.used_mib = r.integer<std::uint64_t>(gpus[i]["used_mib"], path + ".used_mib", 0, gpu.total_mib);
      local.fake_gpus.push_back(gpu);
    }
  }
}

Config parse_root(const YAML::Node& root, const std::string& source) {
  Reader r(source, process_environment());
  Config config;
  config.source_path = source;
  if (!root.IsDefined() || root.IsNull()) r.fail(root, "", "the file is empty");
  r.expect_map(root, "");
  r.only_keys(root, "", {"listen", "workers", "server", "logging", "images", "local", "upstreams", "models"});
  if (root["listen"]) parse_listen(r, root["listen"], config.server);
  if (root["workers"]) config.server.workers = r.integer<unsigned>(root["workers"], "workers", 0, 1024);
  if (root["server"]) parse_server(r, root["server"], config.server);
  if (const auto logging = root["logging"]) {
    r.expect_map(logging, "logging");
    r.only_keys(logging, "logging", {"level"});
    if (logging["level"]) {
      config.logging.level = r.string(logging["level"], "logging.level");
      static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
      if (!levels.count(config.logging.level))
        r.fail(logging["level"], "logging.level", "must be one of trace, debug, info, warn, error, critical, off");
    }
  }
  if (const auto images = root["images"]) {
    r.expect_map(images, "images");
    r.only_keys(images, "images", {"max_bytes", "timeout_ms", "allow_private_addresses"});
    if (images["max_bytes"])
      config.images.max_bytes = r.integer<std::size_t>(images["max_bytes"], "images.max_bytes", 1024, 1ULL << 30);
    if (images["timeout_ms"]) config.images.timeout = r.millis(images["timeout_ms"], "images.timeout_ms");
    if (images["allow_private_addresses"])
      config.images.allow_private_addresses = r.boolean(images["allow_private_addresses"], "images.allow_private_addresses");
  }
  if (const auto local = root["local"]) parse_local(r, local, config.local);
  const auto upstreams = root["upstreams"];
  if (upstreams) {
    r.expect_map(upstreams, "upstreams");
    for (const auto& item : upstreams) {
      const auto name = item.first.as<std::string>();
      if (name.starts_with("local:")) r.fail(item.first, "upstreams." + name, "names starting with local: are reserved");
      config.upstreams.emplace(name, parse_upstream(r, name, item.second));
    }
  }
  const auto models = root["models"];
  if (!models) r.fail(root, "models", "is required: at least one model alias");
  r.expect_map(models, "models");
  for (const auto& item : models) {
    const auto alias = item.first.as<std::string>();
    if (alias.empty()) r.fail(item.first, "models", "an alias must not be empty");
    config.models.emplace(alias, parse_model(r, alias, item.second, config));
  }
  if (config.upstreams.empty()) r.fail(root, "upstreams", "is required: at least one upstream (or a model with `local`)");
  for (const auto& name : config.local.preload_models)
    if (name != "*" && (!config.models.count(name) || !config.models.at(name).local))
      r.fail(root["local"]["preload_models"], "local.preload_models", "\"" + name + "\" is not a model with `local`");
  return config;
}

}  // namespace

std::string_view upstream_kind_name(UpstreamKind kind) {
  switch (kind) {
    case UpstreamKind::openai: return "openai";
    case UpstreamKind::anthropic: return "anthropic";
    case UpstreamKind::ollama: return "ollama";
  }
  return "openai";
}

std::string_view strategy_name(Strategy strategy) {
  switch (strategy) {
    case Strategy::round_robin: return "round_robin";
    case Strategy::weighted: return "weighted";
    case Strategy::least_loaded: return "least_loaded";
    case Strategy::latency_based: return "latency_based";
    case Strategy::random: return "random";
  }
  return "round_robin";
}

Config load_config_string(const std::string& yaml_text, const std::string& source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source_name + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  return parse_root(root, source_name);
}

Config load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open the config file");
  std::stringstream text;
  text << in.rdbuf();
  return load_config_string(text.str(), path);
}

}  // namespace switchyard

#include "config/config_loader.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "config/env_substitution.hpp"
#include "config_error_of.hpp"

namespace switchyard {
namespace {

const char* kIssueExample = R"(listen: 127.0.0.1:9300
upstreams:
  gpu-box:
    kind: openai
    base_url: http://127.0.0.1:8001/v1
    api_key: ${GPU_BOX_KEY}          # optional; ${VAR} taken from the environment
models:
  qwen-7b:                            # the alias clients use
    deployments:                      # a list: several deployments per alias come with routing
      - upstream: gpu-box
        model: Qwen/Qwen2.5-7B-Instruct   # the name sent upstream
)";

TEST(ConfigLoader, IssueExampleLoads) {
  ::setenv("GPU_BOX_KEY", "sk-test", 1);
  const auto config = load_config_string(kIssueExample, "example.yaml");
  EXPECT_EQ(config.server.listen_host, "127.0.0.1");
  EXPECT_EQ(config.server.listen_port, 9300);
  const auto& up = config.upstreams.at("gpu-box");
  ASSERT_EQ(up.api_keys.size(), 1u);
  EXPECT_EQ(up.api_keys[0].key, "sk-test");
  EXPECT_EQ(up.host, "127.0.0.1");
  EXPECT_EQ(up.port, 8001);
  EXPECT_EQ(up.path_prefix, "/v1");
  EXPECT_FALSE(up.tls);
  const auto& model = config.models.at("qwen-7b");
  ASSERT_EQ(model.deployments.size(), 1u);
  EXPECT_EQ(model.deployments[0].upstream, "gpu-box");
  EXPECT_EQ(model.deployments[0].model, "Qwen/Qwen2.5-7B-Instruct");
  ::unsetenv("GPU_BOX_KEY");
}

TEST(ConfigLoader, UnsetVariableIsAnErrorNamingIt) {
  ::unsetenv("GPU_BOX_KEY");
  const auto error = error_of(kIssueExample);
  EXPECT_NE(error.find("test.yaml:6:"), std::string::npos) << error;
  EXPECT_NE(error.find("upstreams.gpu-box.api_key"), std::string::npos) << error;
  EXPECT_NE(error.find("GPU_BOX_KEY"), std::string::npos) << error;
}

TEST(ConfigLoader, DefaultsAndJsonInput) {
  const auto config = load_config_string(
      R"({"upstreams":{"o":{"kind":"openai","base_url":"https://api.openai.com/v1/"}},
          "models":{"gpt":{"deployments":[{"upstream":"o","model":"gpt-4o-mini"}]}}})",
      "j.json");
  const auto& up = config.upstreams.at("o");
  EXPECT_TRUE(up.tls);
  EXPECT_EQ(up.port, 443);
  EXPECT_EQ(up.host, "api.openai.com");
  EXPECT_EQ(up.path_prefix, "/v1");
  EXPECT_TRUE(up.tls_options.verify);
  EXPECT_EQ(config.server.listen_port, 9300);
  EXPECT_EQ(config.server.max_body_bytes, 8u * 1024 * 1024);
}

TEST(ConfigLoader, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"upstreams:\n  a: {kind: openai, base_url: http://h/v1}\nmodels:\n  m:\n    deployments:\n      - {upstream: b, model: x}\n",
       "test.yaml:6: models.m.deployments[0].upstream: unknown upstream \"b\""},
      {"upstreams:\n  a:\n    kind: openai\n    base_url: ftp://h/v1\nmodels: {}\n",
       "test.yaml:4: upstreams.a.base_url: scheme must be http or https"},
      {"upstreams:\n  a:\n    kind: openai\n    base_url: http://h\n    timeouts: {connect_ms: soon}\nmodels: {}\n",
       "test.yaml:5: upstreams.a.timeouts.connect_ms: must be an integer"},
      {"listen: nowhere\nupstreams: {}\nmodels: {}\n", "test.yaml:1: listen: must be HOST:PORT"},
      {"upstreams:\n  a: {kind: grpc, base_url: http://h}\nmodels: {}\n", "test.yaml:2: upstreams.a.kind: must be one of"},
      {"upstreams:\n  a: {kind: openai, base_url: http://h, colour: red}\nmodels: {}\n",
       "test.yaml:2: upstreams.a.colour: unknown key"},
      {"upstreams:\n  a: {kind: openai, base_url: http://h}\nmodels:\n  m: {deployments: []}\n",
       "test.yaml:4: models.m.deployments: must be a non-empty list"},
      {"upstreams:\n  a: {kind: openai}\nmodels: {}\n", "upstreams.a.base_url: is required"},
      {"models: {}\n", "upstreams: is required"},
      {"upstreams: [\n", "test.yaml:2: invalid YAML"},
      {"server: {max_body_bytes: 0}\nupstreams: {}\nmodels: {}\n", "test.yaml:1: server.max_body_bytes: must be between"},
  };
  for (const auto& c : cases) {
    const auto error = error_of(c.yaml);
    EXPECT_NE(error.find(c.expected), std::string::npos) << "got: " << error << "\nwanted: " << c.expected;
  }
}

TEST(ConfigLoader, MissingFileIsAnError) {
  EXPECT_THROW(load_config_file("/nonexistent/switchyard.yaml"), ConfigError);
}

TEST(EnvSubstitution, DefaultsAndEscapes) {
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SET") return std::string("value");
    if (name == "EMPTY") return std::string();
    return std::nullopt;
  };
  EXPECT_EQ(substitute_env("a${SET}b", env), "avalueb");
  EXPECT_EQ(substitute_env("${UNSET:-fallback}", env), "fallback");
  EXPECT_EQ(substitute_env("${EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(substitute_env("${EMPTY}", env), "");
  EXPECT_EQ(substitute_env("cost $$5 and $x", env), "cost $5 and $x");
  EXPECT_THROW(substitute_env("${UNSET}", env), std::invalid_argument);
  EXPECT_THROW(substitute_env("${SET", env), std::invalid_argument);
}

// The routing issue's example, as written.
const char* kRoutingExample = R"(upstreams:
  gpu0: { kind: openai, base_url: http://127.0.0.1:8001/v1 }
  gpu1: { kind: openai, base_url: http://127.0.0.1:8002/v1, health: { path: /health, interval_ms: 1000 } }
  openrouter: { kind: openai, base_url: https://openrouter.ai/api/v1, health: false, circuit: { failures: 3 } }
models:
  qwen-7b:
    strategy: least_loaded          # round_robin | weighted | least_loaded | latency_based | random
    deployments:
      - { upstream: gpu0, model: qwen2.5-7b, capacity: 4, tier: 0 }
      - { upstream: gpu1, model: qwen2.5-7b, capacity: 4, tier: 0, weight: 2 }
      - { upstream: openrouter, model: qwen/qwen-2.5-7b-instruct, tier: 1 }
    queue: { max_size: 500, timeout_ms: 30000, overflow_after_ms: 250 }
    retries: { max: 2 }
)";

TEST(ConfigLoader, RoutingExampleLoads) {
  const auto config = load_config_string(kRoutingExample, "routing.yaml");
  const auto& model = config.models.at("qwen-7b");
  EXPECT_EQ(model.strategy, Strategy::least_loaded);
  ASSERT_EQ(model.deployments.size(), 3u);
  EXPECT_EQ(model.deployments[1].weight, 2u);
  EXPECT_EQ(model.deployments[1].capacity, 4u);
  EXPECT_EQ(model.deployments[2].tier, 1u);
  EXPECT_EQ(model.queue.max_size, 500u);
  EXPECT_EQ(model.queue.overflow_after.count(), 250);
  EXPECT_EQ(model.retries.max, 2u);
  EXPECT_EQ(config.upstreams.at("gpu1").health.path, "/health");
  EXPECT_FALSE(config.upstreams.at("openrouter").health.enabled);
  EXPECT_EQ(config.upstreams.at("openrouter").circuit.failures, 3u);
}

TEST(ConfigLoader, NumCtxIsForOllamaDeployments) {
  const auto config = load_config_string(R"(upstreams:
  box: { kind: ollama, base_url: http://127.0.0.1:11434 }
models:
  llama: { deployments: [ { upstream: box, model: "llama3.1:8b", num_ctx: 32768 } ] }
)",
                                         "num_ctx.yaml");
  EXPECT_EQ(config.models.at("llama").deployments[0].num_ctx, 32768u);
  std::string yaml = kRoutingExample;
  yaml.replace(yaml.find("capacity: 4, tier: 0 }"), 22, "num_ctx: 8192 }");
  EXPECT_NE(error_of(yaml).find("models.qwen-7b.deployments[0].num_ctx: applies to ollama upstreams only"), std::string::npos)
      << error_of(yaml);
}

TEST(ConfigLoader, RoutingMistakesNameTheKey) {
  std::string yaml = kRoutingExample;
  yaml.replace(yaml.find("least_loaded "), 12, "fastest_ever");
  EXPECT_NE(error_of(yaml).find("models.qwen-7b.strategy: must be one of"), std::string::npos) << error_of(yaml);
  yaml = kRoutingExample;
  yaml.replace(yaml.find("tier: 1"), 7, "tier: x");
  EXPECT_NE(error_of(yaml).find("models.qwen-7b.deployments[2].tier: must be an integer"), std::string::npos)
      << error_of(yaml);
  yaml = kRoutingExample;
  yaml.replace(yaml.find("interval_ms"), 11, "intervall");
  EXPECT_NE(error_of(yaml).find("upstreams.gpu1.health.intervall: unknown key"), std::string::npos) << error_of(yaml);
}

}  // namespace
}  // namespace switchyard

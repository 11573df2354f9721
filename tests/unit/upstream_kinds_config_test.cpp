// Config for the upstream kinds, presets, several keys and local models.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "config/config_loader.hpp"
#include "config_error_of.hpp"
#include "local/llama_command.hpp"

namespace switchyard {
namespace {

TEST(UpstreamKindsConfig, PresetTakesItsKeyFromTheEnvironmentAndItsQuirks) {
  ::setenv("MISTRAL_API_KEY", "mk-1", 1);
  const auto config = load_config_string(R"(
upstreams:
  m: { preset: mistral }
  o: { preset: ollama, base_url: "http://10.0.0.6:11434" }
models:
  a: { deployments: [ { upstream: m, model: mistral-small } ] }
)", "t.yaml");
  const auto& m = config.upstreams.at("m");
  EXPECT_EQ(m.kind, UpstreamKind::openai);
  EXPECT_EQ(m.host, "api.mistral.ai");
  EXPECT_TRUE(m.tls);
  EXPECT_EQ(m.path_prefix, "/v1");
  ASSERT_EQ(m.api_keys.size(), 1u);
  EXPECT_EQ(m.api_keys[0].key, "mk-1");
  EXPECT_NE(std::find(m.drop_fields.begin(), m.drop_fields.end(), "stream_options"), m.drop_fields.end());
  EXPECT_EQ(m.rename_fields.at("seed"), "random_seed");
  const auto& o = config.upstreams.at("o");
  EXPECT_EQ(o.kind, UpstreamKind::ollama);
  EXPECT_EQ(o.host, "10.0.0.6");
  EXPECT_TRUE(o.api_keys.empty());
  ::unsetenv("MISTRAL_API_KEY");
}

TEST(UpstreamKindsConfig, MissingPresetKeyAndUnknownPresetAreNamed) {
  ::unsetenv("GROQ_API_KEY");
  const auto missing = error_of("upstreams: { g: { preset: groq } }\nmodels: { a: { deployments: [ { upstream: g, model: x } ] } }\n");
  EXPECT_NE(missing.find("upstreams.g.preset"), std::string::npos) << missing;
  EXPECT_NE(missing.find("GROQ_API_KEY"), std::string::npos) << missing;
  const auto unknown = error_of("upstreams: { g: { preset: nope } }\nmodels: { a: { deployments: [ { upstream: g, model: x } ] } }\n");
  EXPECT_NE(unknown.find("unknown preset \"nope\""), std::string::npos) << unknown;
  const auto kind = error_of("upstreams: { g: { kind: grpc, base_url: \"http://h\" } }\nmodels: { a: { deployments: [ { upstream: g, model: x } ] } }\n");
  EXPECT_NE(kind.find("openai, anthropic, ollama"), std::string::npos) << kind;
}

TEST(UpstreamKindsConfig, SeveralKeysWithAllowlistsAndRotation) {
  const auto config = load_config_string(R"(
upstreams:
  c:
    kind: anthropic
    base_url: https://api.anthropic.com
    api_keys: [ "k1", { key: k2, models: [claude-haiku] }, "" ]
    key_rotation: least_used
    default_max_tokens: 1024
models:
  a: { deployments: [ { upstream: c, model: claude-haiku } ] }
)", "t.yaml");
  const auto& c = config.upstreams.at("c");
  ASSERT_EQ(c.api_keys.size(), 2u) << "the empty key is skipped";
  EXPECT_EQ(c.api_keys[1].models, std::vector<std::string>{"claude-haiku"});
  EXPECT_EQ(c.key_rotation, KeyRotation::least_used);
  EXPECT_EQ(c.default_max_tokens, 1024);
  EXPECT_EQ(c.path_prefix, "");
}

TEST(UpstreamKindsConfig, LocalModelBecomesTheFirstDeploymentAndBuildsTheCommandLine) {
  const auto config = load_config_string(R"(
local:
  llama_server_path: /usr/local/bin/llama-server
  max_concurrent_models: 2
  preload_models: ["qwen"]
  gpu_devices: [0, 1]
  vram_multiplier: 1.2
models:
  qwen:
    local:
      model_path: /models/q.gguf
      params: { n_gpu_layers: 99, n_ctx: 8192, parallel: 4, flash_attention: on, type_k: q8_0, type_v: q8_0 }
      pinned: true
)", "t.yaml");
  const auto& model = config.models.at("qwen");
  ASSERT_TRUE(model.local);
  ASSERT_EQ(model.deployments.size(), 1u);
  EXPECT_EQ(model.deployments[0].upstream, "local:qwen");
  EXPECT_EQ(model.deployments[0].capacity, 4u);
  EXPECT_TRUE(config.upstreams.count("local:qwen"));
  EXPECT_EQ(config.local.max_concurrent_models, 2u);
  EXPECT_DOUBLE_EQ(config.local.vram_multiplier, 1.2);
  EXPECT_EQ(model.local->params.flash_attention, "on") << "YAML's on is read as a boolean and mapped back";
  const auto args = llama_server_args("qwen", *model.local, 41234);
  const std::vector<std::string> expected{"--model", "/models/q.gguf", "--host", "127.0.0.1", "--port", "41234",
                                          "--alias", "qwen", "--n-gpu-layers", "99", "--ctx-size", "8192",
                                          "--parallel", "4", "--flash-attn", "on", "--cache-type-k", "q8_0",
                                          "--cache-type-v", "q8_0"};
  EXPECT_EQ(args, expected);
}

TEST(UpstreamKindsConfig, LocalMistakesAreNamed) {
  EXPECT_NE(error_of("models: { q: { local: { params: { n_ctx: 10 } } } }\n").find("models.q.local.model_path"), std::string::npos);
  EXPECT_NE(error_of("models: { q: { local: { model_path: /m, params: { type_k: q7 } } } }\n").find("models.q.local.params.type_k"),
            std::string::npos);
  EXPECT_NE(error_of("local: { preload_models: [nope] }\nmodels: { q: { local: { model_path: /m } } }\n").find("local.preload_models"),
            std::string::npos);
  EXPECT_NE(error_of("models: { q: { deployments: [] } }\n").find("must be a non-empty list"), std::string::npos);
  EXPECT_NE(error_of("models: {}\n").find("upstreams"), std::string::npos);
}

}  // namespace
}  // namespace switchyard

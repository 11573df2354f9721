// Loaded-model preference: what the health checks read from Ollama's /api/ps and another
// Switchyard's /v1/models/status, how an upstream keeps it, and how the router prefers deployments
// whose model is loaded (loaded > unknown > not loaded), among those that can take the request now.
#include <gtest/gtest.h>

#include <map>

#include "config/config_loader.hpp"
#include "routing/health_check.hpp"
#include "routing/route_table.hpp"
#include "routing/router.hpp"
#include "route_fixture.hpp"

namespace switchyard {
namespace {

LoadedModels ollama(std::vector<std::string> loaded) { return LoadedModels{std::move(loaded), {}, true}; }
LoadedModels node(std::vector<std::string> loaded, std::vector<std::string> unloaded) {
  return LoadedModels{std::move(loaded), std::move(unloaded), false};
}

// One alias over `n` upstreams, deployment i sending `models[i]` (default "m1").
struct Fixture : RouteFixture {
  explicit Fixture(std::size_t n, Strategy strategy = Strategy::round_robin, std::vector<std::string> models = {},
                   unsigned capacity = 0)
      : RouteFixture(n, strategy, "alias", [&](std::size_t i, DeploymentConfig& d) {
          d.model = i < models.size() ? models[i] : "m1";
          d.capacity = capacity;
        }) {}

  UpstreamRuntime& upstream(std::size_t i) { return *runtimes.at("gpu" + std::to_string(i)); }

  // Picks `count` times, releasing each slot at once; the chosen upstreams' last digits in order.
  std::string order(Router& router, int count, std::span<const Deployment* const> tried = {}) {
    std::string out;
    for (int i = 0; i < count; ++i) {
      const auto pick = router.pick(*route, tried, false);
      if (!pick.deployment) return out + "-";
      out += pick.deployment->name.back();
      pick.deployment->state->release();
    }
    return out;
  }
};

TEST(LoadedModels, SameModelAddsOllamasLatestTag) {
  EXPECT_TRUE(same_model("llama3", "llama3"));
  EXPECT_TRUE(same_model("llama3:latest", "llama3"));
  EXPECT_TRUE(same_model("library/llama3:latest", "library/llama3"));
  EXPECT_TRUE(same_model("host:5000/llama3:latest", "host:5000/llama3"));
  EXPECT_FALSE(same_model("llama3:8b", "llama3"));
  EXPECT_FALSE(same_model("llama3:latest", "llama3:8b"));
  EXPECT_FALSE(same_model("llama3", "llama3:latest"));
  EXPECT_FALSE(same_model("llama3.1:latest", "llama3"));
  EXPECT_FALSE(same_model("xllama3:latest", "llama3"));
  EXPECT_FALSE(same_model("", "llama3"));
}

TEST(LoadedModels, ParsesOllamaPs) {
  // As Ollama (and the fake upstream) answer GET /api/ps.
  const auto parsed = parse_ollama_ps(
      R"({"models":[{"name":"llama3:latest","model":"llama3:latest","size":2019393189,"digest":"a80c",)"
      R"("details":{"format":"gguf"},"expires_at":"2025-01-01T00:05:00Z","size_vram":2019393189},)"
      R"({"name":"qwen2.5:7b","model":"registry.local/qwen2.5:7b"}]})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, ollama({"llama3:latest", "qwen2.5:7b", "registry.local/qwen2.5:7b"}));
  EXPECT_EQ(*parse_ollama_ps(R"({"models":[]})"), ollama({}));
  // Entries of other shapes are skipped, never thrown on.
  EXPECT_EQ(*parse_ollama_ps(R"({"models":[1,null,{"name":5,"model":["x"]},{"name":""},{"model":"a"}]})"), ollama({"a"}));
  for (const char* bad : {"", "null", "[]", "{", R"({"models":{}})", R"({"models":null})", R"({"other":[]})"})
    EXPECT_FALSE(parse_ollama_ps(bad)) << bad;
}

TEST(LoadedModels, ParsesSwitchyardStatus) {
  // As ModelManager publishes GET /v1/models/status.
  const auto parsed = parse_switchyard_status(
      R"({"server":{"status":"ok","gpu_source":"fake"},"models":{)"
      R"("qwen":{"alias":"qwen","status":"ready","port":40001,"gpu":0},)"
      R"("llama":{"alias":"llama","status":"off","port":40002,"gpu":null},)"
      R"("phi":{"alias":"phi","status":"loading"},"odd":{"status":7},"bare":3},"gpus":[],"summary":{"ready":1}})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, node({"qwen"}, {"llama", "phi"}));
  EXPECT_EQ(*parse_switchyard_status(R"({"models":{}})"), node({}, {}));
  for (const char* bad : {"", "{}", "[]", R"({"models":[]})", R"({"models":"x"})", "nonsense"})
    EXPECT_FALSE(parse_switchyard_status(bad)) << bad;
}

TEST(LoadedModels, TargetsByKindAndNode) {
  UpstreamConfig up;
  up.kind = UpstreamKind::ollama;
  EXPECT_EQ(loaded_models_target(up), "/api/ps");
  up.path_prefix = "/ollama";
  EXPECT_EQ(loaded_models_target(up), "/ollama/api/ps");
  up.kind = UpstreamKind::openai;
  up.path_prefix = "/v1";
  EXPECT_EQ(loaded_models_target(up), "");  // vLLM, llama-server, cloud APIs: cannot tell
  up.node = UpstreamNode::switchyard;
  EXPECT_EQ(loaded_models_target(up), "/v1/models/status");
  up.path_prefix = "/gateway-b/v1";
  EXPECT_EQ(loaded_models_target(up), "/gateway-b/v1/models/status");
  up.path_prefix = "";
  EXPECT_EQ(loaded_models_target(up), "/v1/models/status");
  up.kind = UpstreamKind::anthropic;
  up.node = UpstreamNode::plain;
  EXPECT_EQ(loaded_models_target(up), "");
}

TEST(LoadedModels, UpstreamAnswersAndCountsChanges) {
  UpstreamConfig config;
  config.name = "box";
  UpstreamRuntime upstream(config);
  std::uint64_t version = 99;
  EXPECT_EQ(upstream.model_loaded("m1", version), ModelLoaded::unknown);
  EXPECT_EQ(version, 0u);
  EXPECT_FALSE(upstream.has_loaded_info.load());

  const auto ps = ollama({"m1:latest"});
  upstream.set_loaded_models(&ps);
  EXPECT_TRUE(upstream.has_loaded_info.load());
  EXPECT_EQ(upstream.loaded_models_version.load(), 1u);
  EXPECT_EQ(upstream.model_loaded("m1", version), ModelLoaded::yes);
  EXPECT_EQ(version, 1u);
  EXPECT_EQ(upstream.model_loaded("m2", version), ModelLoaded::no);  // Ollama lists all it has loaded

  upstream.set_loaded_models(&ps);  // the same again: no change for the routers to pick up
  EXPECT_EQ(upstream.loaded_models_version.load(), 1u);

  const auto status = node({"m1"}, {"m2"});
  upstream.set_loaded_models(&status);
  EXPECT_EQ(upstream.loaded_models_version.load(), 2u);
  EXPECT_EQ(upstream.model_loaded("m1", version), ModelLoaded::yes);
  EXPECT_EQ(upstream.model_loaded("m2", version), ModelLoaded::no);
  EXPECT_EQ(upstream.model_loaded("m3", version), ModelLoaded::unknown);  // not a local model there
  EXPECT_EQ(version, 2u);

  upstream.set_loaded_models(nullptr);
  EXPECT_FALSE(upstream.has_loaded_info.load());
  EXPECT_EQ(upstream.loaded_models_version.load(), 3u);
  EXPECT_EQ(upstream.model_loaded("m1", version), ModelLoaded::unknown);
  upstream.set_loaded_models(nullptr);
  EXPECT_EQ(upstream.loaded_models_version.load(), 3u);
}

TEST(LoadedPreference, NothingReportedLeavesTheStrategyAlone) {
  Fixture f(3);
  Router router(*f.table, 1);
  EXPECT_EQ(f.order(router, 9), "012012012");
}

TEST(LoadedPreference, OnlyTheLoadedOnesWhenOthersAreNot) {
  Fixture f(3);
  const auto has = ollama({"m1:latest"});
  const auto other = ollama({"other:latest"});
  f.upstream(0).set_loaded_models(&other);
  f.upstream(1).set_loaded_models(&has);
  f.upstream(2).set_loaded_models(&other);
  Router router(*f.table, 1);
  EXPECT_EQ(f.order(router, 6), "111111");
  f.upstream(2).set_loaded_models(&has);
  EXPECT_EQ(f.order(router, 6), "121212");  // the strategy runs among the loaded ones
}

TEST(LoadedPreference, LoadedBeforeUnknownBeforeNotLoaded) {
  Fixture f(3);
  const auto has = node({"m1"}, {});
  const auto off = node({}, {"m1"});
  f.upstream(0).set_loaded_models(&off);
  f.upstream(2).set_loaded_models(&has);  // gpu1 says nothing
  Router router(*f.table, 1);
  EXPECT_EQ(f.order(router, 4), "2222");
  f.upstream(2).set_loaded_models(&off);  // ejected: the one that cannot tell beats the two without it
  EXPECT_EQ(f.order(router, 4), "1111");
  f.upstream(1).set_loaded_models(&off);  // none has it: all stay in
  EXPECT_EQ(f.order(router, 6), "012012");
  f.upstream(0).set_loaded_models(nullptr);  // gpu0 cannot tell any more: unknown beats not loaded
  EXPECT_EQ(f.order(router, 3), "000");
}

TEST(LoadedPreference, ModelsAreMatchedPerDeployment) {
  // The same upstream serves two deployments with different models; only one of them is loaded.
  Fixture f(2, Strategy::round_robin, {"big", "small"});
  const auto ps = ollama({"small:latest"});
  f.upstream(0).set_loaded_models(&ps);  // "big" not loaded on gpu0
  f.upstream(1).set_loaded_models(&ps);  // "small" loaded on gpu1
  Router router(*f.table, 1);
  EXPECT_EQ(f.order(router, 4), "1111");
}

TEST(LoadedPreference, OnlyAmongThoseThatCanTakeTheRequest) {
  Fixture f(2, Strategy::round_robin, {}, 1);
  const auto has = ollama({"m1"});
  const auto other = ollama({});
  f.upstream(0).set_loaded_models(&has);
  f.upstream(1).set_loaded_models(&other);
  Router router(*f.table, 1);
  // The loaded one is full: the other takes the request rather than making it wait.
  const auto first = router.pick(*f.route, {}, false);
  ASSERT_NE(first.deployment, nullptr);
  EXPECT_EQ(first.deployment->name, "gpu0");
  const auto second = router.pick(*f.route, {}, false);
  ASSERT_NE(second.deployment, nullptr);
  EXPECT_EQ(second.deployment->name, "gpu1");
  second.deployment->state->release();
  // A retry after the loaded one failed goes to the other as well.
  const Deployment* tried[] = {first.deployment};
  first.deployment->state->release();
  EXPECT_EQ(f.order(router, 2, tried), "11");
  // A loaded one that is down is not chosen.
  f.upstream(0).healthy.store(false);
  EXPECT_EQ(f.order(router, 2), "11");
}

TEST(LoadedPreference, WorksWithEveryStrategy) {
  for (const auto strategy : {Strategy::weighted, Strategy::least_loaded, Strategy::latency_based, Strategy::random}) {
    Fixture f(3, strategy);
    const auto has = ollama({"m1"});
    const auto other = ollama({});
    f.upstream(0).set_loaded_models(&other);
    f.upstream(1).set_loaded_models(&other);
    f.upstream(2).set_loaded_models(&has);
    Router router(*f.table, 7);
    EXPECT_EQ(f.order(router, 20), std::string(20, '2')) << strategy_name(strategy);
  }
}

TEST(LoadedPreference, NodeKeyIsParsed) {
  const std::string head = "upstreams:\n  b:\n";
  const std::string tail = "models:\n  q:\n    deployments: [{upstream: b, model: q}]\n";
  const std::string openai = "    kind: openai\n    base_url: http://127.0.0.1:9400/v1\n";
  const auto config = load_config_string(head + openai + "    node: switchyard\n" + tail, "t.yaml");
  EXPECT_EQ(config.upstreams.at("b").node, UpstreamNode::switchyard);
  const auto plain = load_config_string(head + openai + tail, "t.yaml");
  EXPECT_EQ(plain.upstreams.at("b").node, UpstreamNode::plain);
  const auto error_of = [&](const std::string& upstream) -> std::string {
    try {
      load_config_string(head + upstream + tail, "t.yaml");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_of("    kind: openai\n    base_url: http://127.0.0.1:9400/v1\n    node: vllm\n"),
            "t.yaml:5: upstreams.b.node: must be switchyard");
  EXPECT_EQ(error_of("    kind: ollama\n    base_url: http://127.0.0.1:11434\n    node: switchyard\n"),
            "t.yaml:5: upstreams.b.node: switchyard needs kind openai");
}

}  // namespace
}  // namespace switchyard

// How much to think, across the three protocols: each translator's mapping and the round trips.
#include "protocol/reasoning_effort.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "protocol/anthropic_to_openai.hpp"
#include "protocol/ollama_request_to_openai.hpp"
#include "protocol/openai_request_to_anthropic.hpp"
#include "protocol/openai_request_to_ollama.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

json::object to_anthropic(std::string_view openai) {
  json::object anthropic;
  ApiError error;
  AnthropicRequestOptions options;
  options.default_max_tokens = 4096;
  EXPECT_TRUE(openai_to_anthropic_request(json::parse(openai).as_object(), anthropic, options, error)) << error.message;
  return anthropic;
}

json::object anthropic_to_hub(const json::object& anthropic) {
  json::object openai;
  ApiError error;
  EXPECT_TRUE(anthropic_to_openai_request(anthropic, openai, error)) << error.message;
  return openai;
}

json::object ollama_to_hub(std::string_view ollama) {
  json::object openai;
  ApiError error;
  EXPECT_TRUE(ollama_to_openai_request(OllamaEndpoint::chat, json::parse(ollama).as_object(), openai, error))
      << error.message;
  return openai;
}

json::object hub_to_ollama(const json::object& openai) {
  json::object ollama;
  ApiError error;
  EXPECT_TRUE(openai_to_ollama_chat_request(openai, ollama, error)) << error.message;
  return ollama;
}

std::string openai_with_effort(std::string_view effort, std::string_view extra = "") {
  return std::string(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"reasoning_effort":")") +
         std::string(effort) + "\"" + std::string(extra) + "}";
}

TEST(ReasoningEffort, OpenAiEffortBecomesAnthropicThinkingBudget) {
  const auto low = to_anthropic(openai_with_effort("low"));
  EXPECT_EQ(low.at("thinking"), json::parse(R"({"type":"enabled","budget_tokens":1024})"));
  EXPECT_EQ(low.at("max_tokens"), 4096);
  EXPECT_EQ(to_anthropic(openai_with_effort("minimal")).at("thinking").at("budget_tokens"), 1024);
  EXPECT_EQ(to_anthropic(openai_with_effort("medium")).at("thinking").at("budget_tokens"), 2048);
  EXPECT_EQ(to_anthropic(openai_with_effort("xhigh")).at("thinking").at("budget_tokens"), 8192);
  EXPECT_FALSE(to_anthropic(openai_with_effort("none")).contains("thinking"));
  EXPECT_FALSE(to_anthropic(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})").contains("thinking"));
  // The Responses API's form.
  EXPECT_EQ(to_anthropic(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"reasoning":{"effort":"high"}})")
                .at("thinking")
                .at("budget_tokens"),
            4096);
}

TEST(ReasoningEffort, MaxTokensStaysAboveTheBudget) {
  // Anthropic refuses max_tokens <= budget_tokens; the client's 100 tokens come on top of the budget.
  const auto high = to_anthropic(openai_with_effort("high", R"(,"max_tokens":100)"));
  EXPECT_EQ(high.at("thinking").at("budget_tokens"), 4096);
  EXPECT_EQ(high.at("max_tokens"), 4196);
  // A limit already above the budget is left alone.
  EXPECT_EQ(to_anthropic(openai_with_effort("low", R"(,"max_completion_tokens":5000)")).at("max_tokens"), 5000);
}

TEST(ReasoningEffort, UnknownEffortIsRefusedWithItsParam) {
  json::object anthropic;
  ApiError error;
  EXPECT_FALSE(openai_to_anthropic_request(json::parse(openai_with_effort("extreme")).as_object(), anthropic,
                                           AnthropicRequestOptions{}, error));
  EXPECT_EQ(error.param, "reasoning_effort");
  EXPECT_NE(error.message.find("'extreme'"), std::string::npos);
}

TEST(ReasoningEffort, AnthropicThinkingBecomesEffortAndCrossesBackToTheSameBudget) {
  for (const std::int64_t budget : {1024, 2048, 4096}) {
    const auto hub = anthropic_to_hub(
        json::parse(R"({"model":"m","max_tokens":9000,"messages":[{"role":"user","content":"hi"}],)"
                    R"("thinking":{"type":"enabled","budget_tokens":)" +
                    std::to_string(budget) + "}}")
            .as_object());
    const auto back = to_anthropic(json::serialize(hub));
    EXPECT_EQ(back.at("thinking").at("budget_tokens"), budget) << json::serialize(hub);
  }
  const auto bucket = [](std::string_view thinking) { return std::string(effort_for_thinking(json::parse(thinking))); };
  EXPECT_EQ(bucket(R"({"type":"enabled","budget_tokens":1500})"), "low");
  EXPECT_EQ(bucket(R"({"type":"enabled","budget_tokens":3000})"), "medium");
  EXPECT_EQ(bucket(R"({"type":"enabled","budget_tokens":32000})"), "high");
  EXPECT_EQ(bucket(R"({"type":"adaptive"})"), "medium");
  EXPECT_EQ(bucket(R"({"type":"disabled"})"), "");
  const auto off = anthropic_to_hub(
      json::parse(R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"disabled"}})")
          .as_object());
  EXPECT_FALSE(off.contains("reasoning_effort"));
  // The newer output_config.effort, alone or beside a budget (it wins).
  const auto effort = [](std::string_view extra) {
    const auto hub = anthropic_to_hub(
        json::parse(std::string(R"({"model":"m","max_tokens":9000,"messages":[{"role":"user","content":"hi"}])") +
                    std::string(extra) + "}")
            .as_object());
    return hub.contains("reasoning_effort") ? std::string(hub.at("reasoning_effort").as_string()) : std::string();
  };
  EXPECT_EQ(effort(R"(,"output_config":{"effort":"high"})"), "high");
  EXPECT_EQ(effort(R"(,"output_config":{"effort":"max"})"), "xhigh");
  EXPECT_EQ(effort(R"(,"thinking":{"type":"enabled","budget_tokens":1024},"output_config":{"effort":"high"})"), "high");
  EXPECT_EQ(effort(R"(,"output_config":{"effort":"extreme"})"), "");
}

TEST(ReasoningEffort, OllamaThinkCrossesBothWays) {
  EXPECT_EQ(ollama_to_hub(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"think":true})").at("reasoning_effort"),
            "medium");
  EXPECT_EQ(ollama_to_hub(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"think":"high"})").at("reasoning_effort"),
            "high");
  EXPECT_EQ(ollama_to_hub(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"think":"max"})").at("reasoning_effort"),
            "xhigh");
  EXPECT_FALSE(
      ollama_to_hub(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"think":false})").contains("reasoning_effort"));
  // Ollama -> hub -> Ollama keeps the level.
  for (const char* level : {"low", "medium", "high", "max"}) {
    const auto hub = ollama_to_hub(std::string(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"think":")") +
                                   level + "\"}");
    EXPECT_EQ(hub_to_ollama(hub).at("think"), level);
  }
  EXPECT_EQ(hub_to_ollama(json::parse(openai_with_effort("none")).as_object()).at("think"), false);
  EXPECT_EQ(hub_to_ollama(json::parse(openai_with_effort("minimal")).as_object()).at("think"), "low");
}

}  // namespace
}  // namespace switchyard

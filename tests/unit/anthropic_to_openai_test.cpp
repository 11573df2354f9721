#include "protocol/anthropic_to_openai.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace switchyard {
namespace {

namespace json = boost::json;

json::object translate(std::string_view anthropic) {
  json::object openai;
  ApiError error;
  EXPECT_TRUE(anthropic_to_openai_request(json::parse(anthropic).as_object(), openai, error)) << error.message;
  return openai;
}

std::string error_param(std::string_view anthropic) {
  json::object openai;
  ApiError error;
  EXPECT_FALSE(anthropic_to_openai_request(json::parse(anthropic).as_object(), openai, error));
  return error.param;
}

TEST(AnthropicToOpenAi, TextRequestWithSystem) {
  // Fixture A-1 of the protocol reference.
  const auto openai = translate(
      R"({"model":"claude-sonnet-4-5","max_tokens":1024,"system":"You are concise.","messages":[{"role":"user","content":"Say hello"}]})");
  EXPECT_EQ(json::serialize(openai),
            R"({"model":"claude-sonnet-4-5","messages":[{"role":"system","content":"You are concise."},)"
            R"({"role":"user","content":"Say hello"}],"max_tokens":1024})");
}

TEST(AnthropicToOpenAi, SystemBlocksJoinAndUnsetSamplingStaysUnset) {
  const auto openai = translate(
      R"({"model":"m","max_tokens":5,"system":[{"type":"text","text":"A"},{"type":"text","text":"B"}],)"
      R"("messages":[{"role":"user","content":"hi"}],"top_k":5})");
  EXPECT_EQ(openai.at("messages").as_array()[0].at("content"), "A\nB");
  EXPECT_FALSE(openai.contains("temperature"));
  EXPECT_FALSE(openai.contains("top_p"));
  EXPECT_FALSE(openai.contains("top_k"));
}

TEST(AnthropicToOpenAi, SamplingStopsStreamAndUser) {
  const auto openai = translate(
      R"({"model":"m","max_tokens":5,"temperature":0.2,"top_p":0.9,"stop_sequences":["END"],"stream":true,)"
      R"("metadata":{"user_id":"u-1"},"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(openai.at("temperature").as_double(), 0.2);
  EXPECT_EQ(openai.at("top_p").as_double(), 0.9);
  EXPECT_EQ(json::serialize(openai.at("stop")), R"(["END"])");
  EXPECT_EQ(openai.at("stream"), true);
  EXPECT_EQ(json::serialize(openai.at("stream_options")), R"({"include_usage":true})");
  EXPECT_EQ(openai.at("user"), "u-1");
}

TEST(AnthropicToOpenAi, ImagesBecomeImageUrlPartsAndEmptyTextIsDropped) {
  const auto openai = translate(
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":""},)"
      R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},)"
      R"({"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},)"
      R"({"type":"text","text":"What is it?"}]}]})");
  EXPECT_EQ(json::serialize(openai.at("messages")),
            R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},)"
            R"({"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},)"
            R"({"type":"text","text":"What is it?"}]}])");
}

TEST(AnthropicToOpenAi, ToolUseBecomesToolCallsWithStringArguments) {
  const auto openai = translate(
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Weather?"},)"
      R"({"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"x"},)"
      R"({"type":"text","text":"Checking."},)"
      R"({"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"Paris"}}]}]})");
  const auto& assistant = openai.at("messages").as_array()[1].as_object();
  EXPECT_EQ(assistant.at("content"), "Checking.");
  EXPECT_EQ(json::serialize(assistant.at("tool_calls")),
            R"([{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}])");
}

TEST(AnthropicToOpenAi, AssistantWithOnlyToolUseHasNullContent) {
  const auto openai = translate(
      R"({"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[)"
      R"({"type":"tool_use","id":"t1","name":"f","input":{}}]}]})");
  EXPECT_TRUE(openai.at("messages").as_array()[0].at("content").is_null());
  EXPECT_EQ(openai.at("messages").as_array()[0].at("tool_calls").as_array()[0].at("function").at("arguments"), "{}");
}

TEST(AnthropicToOpenAi, ToolResultsComeFirstAsToolMessagesThenTheUserText) {
  const auto openai = translate(
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[)"
      R"({"type":"text","text":"And tomorrow?"},)"
      R"({"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},)"
      R"({"type":"tool_result","tool_use_id":"toolu_2","is_error":true,)"
      R"("content":[{"type":"text","text":"timeout"},{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}]})");
  EXPECT_EQ(json::serialize(openai.at("messages")),
            R"([{"role":"tool","tool_call_id":"toolu_1","content":"18C"},)"
            R"({"role":"tool","tool_call_id":"toolu_2","content":"Error: timeout"},)"
            R"({"role":"user","content":[{"type":"text","text":"And tomorrow?"},)"
            R"({"type":"image_url","image_url":{"url":"https://x/y.png"}}]}])");
}

TEST(AnthropicToOpenAi, ToolsAndToolChoice) {
  const auto openai = translate(
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],)"
      R"("tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object"}},)"
      R"({"type":"web_search_20250305","name":"web_search"}],)"
      R"("tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true}})");
  EXPECT_EQ(json::serialize(openai.at("tools")),
            R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"},"description":"Weather"}}])");
  EXPECT_EQ(json::serialize(openai.at("tool_choice")), R"({"type":"function","function":{"name":"get_weather"}})");
  EXPECT_EQ(openai.at("parallel_tool_calls"), false);
  for (const auto& [anthropic, expected] : {std::pair{"any", R"("required")"}, {"none", R"("none")"}, {"auto", R"("auto")"}}) {
    const auto choice = translate(std::string(R"({"model":"m","max_tokens":5,"messages":[],"tool_choice":{"type":")") +
                                  anthropic + R"("}})");
    EXPECT_EQ(json::serialize(choice.at("tool_choice")), expected) << anthropic;
  }
}

TEST(AnthropicToOpenAi, InvalidRequestsNameTheField) {
  EXPECT_EQ(error_param(R"({"max_tokens":5,"messages":[]})"), "model");
  EXPECT_EQ(error_param(R"({"model":"m","messages":[]})"), "max_tokens");
  EXPECT_EQ(error_param(R"({"model":"m","max_tokens":5})"), "messages");
  EXPECT_EQ(error_param(R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})"),
            "messages[0].role");
  EXPECT_EQ(error_param(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]})"),
            "messages[0].content");
}

}  // namespace
}  // namespace switchyard

#include "protocol/openai_to_anthropic.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace switchyard {
namespace {

namespace json = boost::json;

std::string translate(std::string_view openai) {
  json::object anthropic;
  openai_to_anthropic_response(json::parse(openai).as_object(), anthropic);
  return json::serialize(anthropic);
}

TEST(OpenAiToAnthropic, TextAnswer) {
  EXPECT_EQ(translate(R"({"id":"chatcmpl-abc","object":"chat.completion","model":"qwen","choices":[{"index":0,)"
                      R"("message":{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}],)"
                      R"("usage":{"prompt_tokens":11,"completion_tokens":6,"total_tokens":17}})"),
            R"({"id":"msg_chatcmpl-abc","type":"message","role":"assistant","model":"qwen",)"
            R"("content":[{"type":"text","text":"Hello there!"}],"stop_reason":"end_turn","stop_sequence":null,)"
            R"("usage":{"input_tokens":11,"output_tokens":6,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}})");
}

TEST(OpenAiToAnthropic, ToolCallsBecomeToolUseWithParsedInputEvenWhenFinishSaysStop) {
  const auto out = translate(
      R"({"id":"x","model":"m","choices":[{"message":{"role":"assistant","content":null,"tool_calls":[)"
      R"({"id":"functions.Bash:0","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}},)"
      R"({"id":"call_2","type":"function","function":{"name":"noop","arguments":""}}]},"finish_reason":"stop"}]})");
  const auto message = json::parse(out).as_object();
  const auto& content = message.at("content").as_array();
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(json::serialize(content[0]),
            R"({"type":"tool_use","id":"functions_Bash_0","name":"get_weather","input":{"location":"Paris"}})");
  EXPECT_EQ(json::serialize(content[1].at("input")), "{}");  // empty arguments
  EXPECT_EQ(message.at("stop_reason"), "tool_use");
}

TEST(OpenAiToAnthropic, TextBeforeToolUse) {
  const auto message = json::parse(translate(
      R"({"id":"x","model":"m","choices":[{"message":{"role":"assistant","content":"Checking.","tool_calls":[)"
      R"({"id":"c1","type":"function","function":{"name":"f","arguments":"not json"}}]},"finish_reason":"tool_calls"}]})")).as_object();
  const auto& content = message.at("content").as_array();
  EXPECT_EQ(content[0].at("type"), "text");
  EXPECT_EQ(content[1].at("type"), "tool_use");
  EXPECT_EQ(json::serialize(content[1].at("input")), "{}");
}

TEST(OpenAiToAnthropic, StopReasons) {
  EXPECT_EQ(anthropic_stop_reason("stop"), "end_turn");
  EXPECT_EQ(anthropic_stop_reason("length"), "max_tokens");
  EXPECT_EQ(anthropic_stop_reason("tool_calls"), "tool_use");
  EXPECT_EQ(anthropic_stop_reason("function_call"), "tool_use");
  EXPECT_EQ(anthropic_stop_reason("content_filter"), "refusal");
  EXPECT_EQ(anthropic_stop_reason("something_new"), "end_turn");
}

TEST(OpenAiToAnthropic, CachedTokensAreSplitOutOfInputTokens) {
  const auto message = json::parse(translate(
      R"({"id":"x","model":"m","choices":[{"message":{"content":"ok"},"finish_reason":"length"}],)"
      R"("usage":{"prompt_tokens":100,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":60}}})")).as_object();
  EXPECT_EQ(json::serialize(message.at("usage")),
            R"({"input_tokens":40,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":60})");
  EXPECT_EQ(message.at("stop_reason"), "max_tokens");
}

TEST(OpenAiToAnthropic, EmptyOrOddResponsesStillGiveAValidMessage) {
  const auto message = json::parse(translate(R"({"choices":[]})")).as_object();
  EXPECT_EQ(message.at("type"), "message");
  EXPECT_TRUE(message.at("content").as_array().empty());
  EXPECT_EQ(message.at("stop_reason"), "end_turn");
  EXPECT_EQ(message.at("usage").at("output_tokens").as_int64(), 0);
}

}  // namespace
}  // namespace switchyard

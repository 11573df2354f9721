#include "protocol/anthropic_response_to_openai.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>

namespace switchyard {
namespace {

namespace json = boost::json;

// Translates and checks `created` (now, in Unix seconds) separately, then drops it so the rest can be
// compared as a golden value.
json::object translate(std::string_view anthropic) {
  json::object openai;
  anthropic_to_openai_response(json::parse(anthropic).as_object(), openai);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_TRUE(openai.contains("created") && openai.at("created").is_int64());
  if (openai.contains("created") && openai.at("created").is_int64()) {
    EXPECT_LE(openai.at("created").get_int64(), now);
    EXPECT_GE(openai.at("created").get_int64(), now - 5);
  }
  openai.erase("created");
  return openai;
}

void expect_json(const json::value& actual, std::string_view expected) {
  EXPECT_EQ(actual, json::parse(expected)) << "actual:   " << json::serialize(actual) << "\nexpected: " << expected;
}

TEST(AnthropicResponseToOpenAi, TextAnswer) {
  // Fixture A-1's answer.
  expect_json(translate(R"({"id":"msg_01ABC","type":"message","role":"assistant","model":"claude-sonnet-4-5",)"
                        R"("content":[{"type":"text","text":"Hello there!"}],"stop_reason":"end_turn","stop_sequence":null,)"
                        R"("usage":{"input_tokens":11,"output_tokens":6}})"),
              R"({"id":"chatcmpl-msg_01ABC","object":"chat.completion","model":"claude-sonnet-4-5",)"
              R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!","refusal":null},)"
              R"("logprobs":null,"finish_reason":"stop"}],)"
              R"("usage":{"prompt_tokens":11,"completion_tokens":6,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":0}}})");
}

TEST(AnthropicResponseToOpenAi, ToolUseBecomesToolCallsWithStringArguments) {
  // Fixture A-4 and its expected translation.
  expect_json(translate(R"({"id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message","role":"assistant","model":"claude-opus-4-8",)"
                        R"("content":[{"type":"text","text":"I'll check the current weather in Paris for you."},)"
                        R"({"type":"tool_use","id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":"get_weather","input":{"location":"Paris"}}],)"
                        R"("stop_reason":"tool_use","stop_sequence":null,)"
                        R"("usage":{"input_tokens":377,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
                        R"("output_tokens":65,"service_tier":"standard"}})"),
              R"({"id":"chatcmpl-msg_019Q1hrJbZG26Fb9BQhrkHEr","object":"chat.completion","model":"claude-opus-4-8",)"
              R"("choices":[{"index":0,"message":{"role":"assistant",)"
              R"("content":"I'll check the current weather in Paris for you.","refusal":null,)"
              R"("tool_calls":[{"id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","type":"function",)"
              R"("function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},)"
              R"("logprobs":null,"finish_reason":"tool_calls"}],)"
              R"("usage":{"prompt_tokens":377,"completion_tokens":65,"total_tokens":442,"prompt_tokens_details":{"cached_tokens":0}}})");
}

TEST(AnthropicResponseToOpenAi, ToolCallsOnlyGiveNullContentAndThinkingIsReasoningContent) {
  const auto openai = translate(
      R"({"id":"msg_1","model":"m","content":[{"type":"thinking","thinking":"Let me ","signature":"sig"},)"
      R"({"type":"redacted_thinking","data":"xyz"},{"type":"thinking","thinking":"think."},)"
      R"({"type":"tool_use","id":"toolu_a","name":"a","input":{}},{"type":"tool_use","id":"toolu_b","name":"b"}],)"
      R"("stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}})");
  expect_json(openai.at("choices").as_array()[0].at("message"),
              R"({"role":"assistant","content":null,"refusal":null,"reasoning_content":"Let me think.",)"
              R"("tool_calls":[{"id":"toolu_a","type":"function","function":{"name":"a","arguments":"{}"}},)"
              R"({"id":"toolu_b","type":"function","function":{"name":"b","arguments":"{}"}}]})");
}

TEST(AnthropicResponseToOpenAi, TextBlocksJoinWithoutSeparator) {
  const auto openai = translate(R"({"id":"msg_1","model":"m","content":[{"type":"text","text":"The answer"},)"
                                R"({"type":"text","text":" is 42","citations":[]},{"type":"text","text":"."}],"stop_reason":"end_turn"})");
  EXPECT_EQ(openai.at("choices").as_array()[0].at("message").at("content"), "The answer is 42.");
}

TEST(AnthropicResponseToOpenAi, UsageCountsCacheReadsAndWritesIntoPromptTokens) {
  const auto openai = translate(R"({"id":"msg_1","model":"m","content":[{"type":"text","text":"x"}],"stop_reason":"end_turn",)"
                                R"("usage":{"input_tokens":10,"cache_read_input_tokens":100,"cache_creation_input_tokens":20,"output_tokens":5}})");
  expect_json(openai.at("usage"),
              R"({"prompt_tokens":130,"completion_tokens":5,"total_tokens":135,"prompt_tokens_details":{"cached_tokens":100}})");
}

TEST(AnthropicResponseToOpenAi, EveryStopReason) {
  const std::pair<const char*, const char*> reasons[] = {
      {"end_turn", "stop"},          {"max_tokens", "length"},     {"stop_sequence", "stop"},
      {"tool_use", "tool_calls"},    {"refusal", "content_filter"}, {"pause_turn", "stop"},
      {"model_context_window_exceeded", "length"}, {"something_new", "stop"}, {"", "stop"},
  };
  for (const auto& [stop, finish] : reasons) {
    EXPECT_EQ(openai_finish_reason(stop), finish) << stop;
    const auto openai = translate(std::string(R"({"id":"msg_1","model":"m","content":[{"type":"text","text":"x"}],"stop_reason":")") +
                                  stop + R"("})");
    EXPECT_EQ(openai.at("choices").as_array()[0].at("finish_reason"), finish) << stop;
  }
  // A null stop_reason is "stop".
  EXPECT_EQ(translate(R"({"id":"msg_1","content":[],"stop_reason":null})").at("choices").as_array()[0].at("finish_reason"),
            "stop");
  // max_tokens with a tool call stays "length": the call may be cut short.
  EXPECT_EQ(translate(R"({"id":"msg_1","content":[{"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"max_tokens"})")
                .at("choices").as_array()[0].at("finish_reason"),
            "length");
}

TEST(AnthropicResponseToOpenAi, MissingAndOddFieldsNeverThrow) {
  expect_json(translate(R"({})"),
              R"({"id":"chatcmpl-","object":"chat.completion","model":"",)"
              R"("choices":[{"index":0,"message":{"role":"assistant","content":"","refusal":null},)"
              R"("logprobs":null,"finish_reason":"stop"}],)"
              R"("usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0,"prompt_tokens_details":{"cached_tokens":0}}})");
  const char* bodies[] = {
      R"({"id":5,"model":[],"content":"text","usage":"many"})",
      R"({"content":[null,1,{"type":7},{"type":"text","text":5},{"type":"tool_use","id":1,"name":null,"input":"s"}],)"
      R"("stop_reason":3,"usage":{"input_tokens":-4,"output_tokens":"5","cache_read_input_tokens":null}})",
  };
  for (const char* body : bodies) {
    json::object openai;
    EXPECT_NO_THROW(anthropic_to_openai_response(json::parse(body).as_object(), openai)) << body;
  }
}

}  // namespace
}  // namespace switchyard

#include "protocol/anthropic_stream_to_openai.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace switchyard {
namespace {

namespace json = boost::json;

using Events = std::vector<std::pair<std::string, std::string>>;  // SSE event name, data

struct Result {
  std::vector<json::object> chunks;
  bool finished = false;
};

Result run(const Events& events) {
  AnthropicToOpenAiStream stream("chatcmpl-1", 1700000000);
  Result result;
  for (const auto& [name, data] : events) stream.on_event(name, json::parse(data).as_object(), result.chunks);
  result.finished = stream.finished();
  return result;
}

// The expected chunk for one delta (JSON text) and finish_reason (JSON text).
std::string chunk(std::string_view delta, std::string_view finish = "null", std::string_view model = "claude-opus-4-8") {
  return std::string(R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":")") +
         std::string(model) + R"(","choices":[{"index":0,"delta":)" + std::string(delta) +
         R"(,"finish_reason":)" + std::string(finish) + "}]}";
}

std::string usage_chunk(int prompt, int completion, int cached, std::string_view model = "claude-opus-4-8") {
  return std::string(R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":")") +
         std::string(model) + R"(","choices":[],"usage":{"prompt_tokens":)" + std::to_string(prompt) +
         R"(,"completion_tokens":)" + std::to_string(completion) + R"(,"total_tokens":)" +
         std::to_string(prompt + completion) + R"(,"prompt_tokens_details":{"cached_tokens":)" + std::to_string(cached) +
         "}}}";
}

void expect_chunks(const std::vector<json::object>& actual, const std::vector<std::string>& expected) {
  ASSERT_EQ(actual.size(), expected.size()) << [&] {
    std::string all;
    for (const auto& c : actual) all += json::serialize(c) + "\n";
    return all;
  }();
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(json::value(actual[i]), json::parse(expected[i]))
        << "chunk " << i << "\nactual:   " << json::serialize(actual[i]) << "\nexpected: " << expected[i];
}

const std::string kRole = chunk(R"({"role":"assistant","content":""})");

std::string message_start(std::string_view usage = R"({"input_tokens":11,"output_tokens":1})") {
  return std::string(R"({"type":"message_start","message":{"id":"msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK","type":"message",)"
                     R"("role":"assistant","content":[],"model":"claude-opus-4-8","stop_reason":null,"stop_sequence":null,"usage":)") +
         std::string(usage) + "}}";
}

std::pair<std::string, std::string> message_delta(std::string_view stop_reason, int output_tokens) {
  return {"message_delta", std::string(R"({"type":"message_delta","delta":{"stop_reason":)") + std::string(stop_reason) +
                               R"(,"stop_sequence":null},"usage":{"output_tokens":)" + std::to_string(output_tokens) + "}}"};
}

const std::pair<std::string, std::string> kMessageStop{"message_stop", R"({"type":"message_stop"})"};

TEST(AnthropicStreamToOpenAi, TextStream) {
  // Fixture A-2 (basic_response.txt), verbatim.
  const auto result = run({
      {"message_start", message_start()},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"ping", R"({"type": "ping"})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      message_delta(R"("end_turn")", 6),
      kMessageStop,
  });
  expect_chunks(result.chunks, {kRole, chunk(R"({"content":"Hello"})"), chunk(R"({"content":" there"})"),
                                chunk(R"({"content":"!"})"), chunk("{}", R"("stop")"), usage_chunk(11, 6, 0)});
  EXPECT_TRUE(result.finished);
}

TEST(AnthropicStreamToOpenAi, ToolCallSplitOverSeveralInputJsonDeltas) {
  // Fixture A-3 (tool_use_response.txt), verbatim: the tool block is Anthropic block 1 but OpenAI tool 0.
  const auto result = run({
      {"message_start",
       R"({"type":"message_start","message":{"id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message","role":"assistant",)"
       R"("model":"claude-opus-4-8","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":377,)"
       R"("cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1,"service_tier":"standard"}}})"},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"ping", R"({"type": "ping"})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I"}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"'ll check the current weather in Paris for you."}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start",
       R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":"get_weather","input":{}}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"locati"}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"on\": \"P"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ar"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"is\"}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      message_delta(R"("tool_use")", 65),
      kMessageStop,
  });
  expect_chunks(result.chunks,
                {kRole, chunk(R"({"content":"I"})"), chunk(R"({"content":"'ll check the current weather in Paris for you."})"),
                 chunk(R"({"tool_calls":[{"index":0,"id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","type":"function",)"
                       R"("function":{"name":"get_weather","arguments":""}}]})"),
                 chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"locati"}}]})"),
                 chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"on\": \"P"}}]})"),
                 chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"ar"}}]})"),
                 chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"is\"}"}}]})"), chunk("{}", R"("tool_calls")"),
                 usage_chunk(377, 65, 0)});
  // The fragments concatenate to the full arguments.
  std::string arguments;
  for (const auto& c : result.chunks) {
    if (!c.at("choices").as_array().empty())
      if (const auto* calls = c.at("choices").as_array()[0].at("delta").as_object().if_contains("tool_calls"))
        arguments += calls->as_array()[0].at("function").at("arguments").as_string();
  }
  EXPECT_EQ(arguments, R"({"location": "Paris"})");
}

TEST(AnthropicStreamToOpenAi, ParallelToolCallsGetDenseIndices) {
  const auto result = run({
      {"message_start", message_start()},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Both."}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"a","input":{}}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      {"content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_b","name":"b","input":{}}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"x\":1}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":2})"},
      message_delta(R"("tool_use")", 30),
      kMessageStop,
  });
  expect_chunks(result.chunks,
                {kRole, chunk(R"({"content":"Both."})"),
                 chunk(R"({"tool_calls":[{"index":0,"id":"toolu_a","type":"function","function":{"name":"a","arguments":""}}]})"),
                 chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]})"),
                 chunk(R"({"tool_calls":[{"index":1,"id":"toolu_b","type":"function","function":{"name":"b","arguments":""}}]})"),
                 chunk(R"({"tool_calls":[{"index":1,"function":{"arguments":"{\"x\":1}"}}]})"), chunk("{}", R"("tool_calls")"),
                 usage_chunk(11, 30, 0)});
}

TEST(AnthropicStreamToOpenAi, ThinkingBecomesReasoningContentAndSignaturesVanish) {
  const auto result = run({
      {"message_start", message_start()},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Two plus "}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"two."}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"abc"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      {"content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"4"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":2})"},
      message_delta(R"("end_turn")", 12),
      kMessageStop,
  });
  expect_chunks(result.chunks, {kRole, chunk(R"({"reasoning_content":"Two plus "})"), chunk(R"({"reasoning_content":"two."})"),
                                chunk(R"({"content":"4"})"), chunk("{}", R"("stop")"), usage_chunk(11, 12, 0)});
}

TEST(AnthropicStreamToOpenAi, UsageCountsCacheTokensAndTakesTheLastValues) {
  const auto result = run({
      {"message_start",
       message_start(R"({"input_tokens":10,"cache_read_input_tokens":100,"cache_creation_input_tokens":20,"output_tokens":1})")},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})"},
      // message_delta's usage is cumulative and may restate the input counts.
      {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
                        R"("usage":{"output_tokens":7,"input_tokens":12,"cache_read_input_tokens":null}})"},
      kMessageStop,
  });
  expect_chunks(result.chunks, {kRole, chunk(R"({"content":"x"})"), chunk("{}", R"("stop")"), usage_chunk(132, 7, 100)});
}

TEST(AnthropicStreamToOpenAi, EveryStopReason) {
  const std::pair<const char*, const char*> reasons[] = {
      {R"("end_turn")", R"("stop")"},          {R"("max_tokens")", R"("length")"},
      {R"("stop_sequence")", R"("stop")"},     {R"("tool_use")", R"("tool_calls")"},
      {R"("refusal")", R"("content_filter")"}, {R"("pause_turn")", R"("stop")"},
      {R"("model_context_window_exceeded")", R"("length")"}, {R"("brand_new")", R"("stop")"},
  };
  for (const auto& [stop, finish] : reasons) {
    const auto result = run({{"message_start", message_start()}, message_delta(stop, 3), kMessageStop});
    expect_chunks(result.chunks, {kRole, chunk("{}", finish), usage_chunk(11, 3, 0)});
  }
  // No stop_reason at all (null in message_delta, or no message_delta): still one finish chunk.
  expect_chunks(run({{"message_start", message_start()}, message_delta("null", 3), kMessageStop}).chunks,
                {kRole, chunk("{}", R"("stop")"), usage_chunk(11, 3, 0)});
  expect_chunks(run({{"message_start", message_start()}, kMessageStop}).chunks,
                {kRole, chunk("{}", R"("stop")"), usage_chunk(11, 1, 0)});
  // Two message_deltas: the first reason counts, the last usage counts.
  expect_chunks(run({{"message_start", message_start()}, message_delta(R"("max_tokens")", 3), message_delta(R"("end_turn")", 4),
                     kMessageStop})
                    .chunks,
                {kRole, chunk("{}", R"("length")"), usage_chunk(11, 4, 0)});
}

TEST(AnthropicStreamToOpenAi, ErrorEventEndsTheStream) {
  const auto result = run({
      {"message_start", message_start()},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"},
      {"error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}})"},
      kMessageStop,
  });
  expect_chunks(result.chunks, {kRole, chunk(R"({"content":"Hi"})"),
                                R"({"error":{"message":"Overloaded","type":"overloaded_error","param":null,"code":null}})"});
  EXPECT_TRUE(result.finished);
  // An error with nothing in it still says something.
  expect_chunks(run({{"error", "{}"}}).chunks,
                {R"({"error":{"message":"The upstream reported an error.","type":"api_error","param":null,"code":null}})"});
}

TEST(AnthropicStreamToOpenAi, NothingAfterMessageStop) {
  const auto result = run({{"message_start", message_start()}, message_delta(R"("end_turn")", 2), kMessageStop,
                           {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})"},
                           {"message_start", message_start()}, kMessageStop});
  EXPECT_EQ(result.chunks.size(), 3u);
  EXPECT_TRUE(result.finished);
  EXPECT_FALSE(run({{"message_start", message_start()}, message_delta(R"("end_turn")", 2)}).finished);
}

TEST(AnthropicStreamToOpenAi, EventsOutOfSpecDoNotCrash) {
  // Deltas before message_start get the role chunk first; a tool fragment for a block that never
  // started is dropped; a missing event name falls back to data.type; unknown events are ignored.
  const auto result = run({
      {"", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"early"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":5,"delta":{"type":"input_json_delta","partial_json":"{}"}})"},
      {"message_start", message_start()},
      {"message_start", message_start()},
      {"something_new", R"({"type":"something_new"})"},
      {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","name":"f","input":{"a":1}}})"},
      {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"dup","name":"g"}})"},
      {"content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"server_tool_use","id":"s","name":"web_search"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":3,"delta":{"type":"citations_delta","citation":{}}})"},
      {"", R"({"type":"message_stop"})"},
  });
  expect_chunks(result.chunks,
                {chunk(R"({"role":"assistant","content":""})", "null", ""), chunk(R"({"content":"early"})", "null", ""),
                 chunk(R"({"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]})"),
                 chunk("{}", R"("tool_calls")"), usage_chunk(11, 1, 0)});
  EXPECT_TRUE(result.finished);

  const char* names[] = {"message_start", "content_block_start", "content_block_delta", "content_block_stop",
                         "message_delta", "message_stop", "error", "ping", ""};
  const char* bodies[] = {
      "{}",
      R"({"type":5,"index":"x","message":7,"content_block":[],"delta":"d","usage":null,"error":"e"})",
      R"({"index":-3,"message":{"model":1,"usage":{"input_tokens":"many"}},"content_block":{"type":"tool_use","id":5,"name":[],"input":3},)"
      R"("delta":{"type":"input_json_delta","partial_json":7,"stop_reason":9,"text":null},"error":{"type":1,"message":{}}})",
  };
  for (const char* name : names) {
    for (const char* body : bodies) {
      AnthropicToOpenAiStream stream("chatcmpl-x", 1);
      std::vector<json::object> chunks;
      EXPECT_NO_THROW(stream.on_event(name, json::parse(body).as_object(), chunks)) << name << " " << body;
      EXPECT_NO_THROW(stream.on_event("content_block_delta", json::parse(body).as_object(), chunks)) << name << " " << body;
      EXPECT_NO_THROW(stream.on_event("message_stop", json::parse(body).as_object(), chunks)) << name << " " << body;
    }
  }
}

}  // namespace
}  // namespace switchyard

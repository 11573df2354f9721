#include "protocol/openai_to_anthropic_stream.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "protocol/sse_parser.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

struct Event {
  std::string name;
  json::object data;
};

// Runs OpenAI chunks (JSON texts; "[DONE]" ends) through the translator and parses what comes out.
std::vector<Event> run(const std::vector<std::string>& chunks) {
  OpenAiToAnthropicStream stream("claude-alias", "msg_1");
  std::string out;
  for (const auto& chunk : chunks) {
    if (chunk == "[DONE]") {
      stream.on_done(out);
    } else {
      stream.on_chunk(json::parse(chunk).as_object(), out);
    }
  }
  std::vector<Event> events;
  SseParser parser;
  parser.feed(out, [&](const SseEvent& e) {
    auto data = json::parse(e.data).as_object();
    EXPECT_EQ(data.at("type").as_string(), e.event) << "every event's name equals its data.type";
    events.push_back({e.event, std::move(data)});
  });
  return events;
}

std::vector<std::string> names(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.name);
  return out;
}

std::string chunk(std::string_view delta, std::string_view finish = "null") {
  return std::string(R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":)") +
         std::string(delta) + R"(,"finish_reason":)" + std::string(finish) + "}]}";
}

const std::string kUsage =
    R"({"id":"c","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":10}}})";

// The deltas are written without a JSON library: quotes, backslashes, control characters and
// non-ASCII text must still come out as the same strings.
TEST(OpenAiToAnthropicStream, DeltasKeepEscapedText) {
  const auto events = run({chunk(R"({"content":"say \"hi\"\\n\u0001 caf\u00e9 \ud83d\ude00\n"})"),
                           chunk(R"({"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":"{\"a\":\"\\\\\"}"}}]})"),
                           chunk("{}", R"("tool_calls")"), "[DONE]"});
  ASSERT_GE(events.size(), 6u);
  EXPECT_EQ(events[2].data.at("index"), 0);
  EXPECT_EQ(events[2].data.at("delta").at("text"), "say \"hi\"\\n\x01 caf\u00e9 \U0001F600\n");
  EXPECT_EQ(events[5].name, "content_block_delta");
  EXPECT_EQ(events[5].data.at("index"), 1);
  EXPECT_EQ(events[5].data.at("delta").at("type"), "input_json_delta");
  EXPECT_EQ(events[5].data.at("delta").at("partial_json"), "{\"a\":\"\\\\\"}");
}

TEST(OpenAiToAnthropicStream, TextWithUsageLast) {
  const auto events = run({chunk(R"({"role":"assistant","content":""})"), chunk(R"({"content":"Hel"})"),
                           chunk(R"({"content":"lo"})"), chunk("{}", R"("stop")"), kUsage, "[DONE]"});
  EXPECT_EQ(names(events), (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                                     "content_block_delta", "content_block_stop", "message_delta",
                                                     "message_stop"}));
  EXPECT_EQ(events[0].data.at("message").at("model"), "claude-alias");
  EXPECT_EQ(events[2].data.at("delta").at("text"), "Hel");
  const auto& delta = events[5].data;
  EXPECT_EQ(delta.at("delta").at("stop_reason"), "end_turn");
  EXPECT_EQ(json::serialize(delta.at("usage")), R"({"output_tokens":4,"input_tokens":20,"cache_read_input_tokens":10})");
}

TEST(OpenAiToAnthropicStream, ToolCallAfterTextGetsItsOwnDenseIndexAndFragmentsPassThrough) {
  const auto events = run({
      chunk(R"({"role":"assistant","content":"Let me check."})"),
      chunk(R"({"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]})"),
      chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"locat"}}]})"),
      chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"ion\":\"Paris\"}"}}]})"),
      chunk("{}", R"("stop")"),  // some upstreams say stop although a tool was called
      "[DONE]",
  });
  EXPECT_EQ(names(events), (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                                     "content_block_stop", "content_block_start", "content_block_delta",
                                                     "content_block_delta", "content_block_stop", "message_delta",
                                                     "message_stop"}));
  EXPECT_EQ(events[4].data.at("index").as_int64(), 1);
  EXPECT_EQ(json::serialize(events[4].data.at("content_block")),
            R"({"type":"tool_use","id":"call_1","name":"get_weather","input":{}})");
  std::string arguments;
  for (const auto& e : events)
    if (e.name == "content_block_delta" && e.data.at("delta").at("type") == "input_json_delta")
      arguments += e.data.at("delta").at("partial_json").as_string();
  EXPECT_EQ(arguments, R"({"location":"Paris"})");
  EXPECT_EQ(events[8].data.at("delta").at("stop_reason"), "tool_use");
}

TEST(OpenAiToAnthropicStream, TwoToolCallsAndAnEmptyToolCallsArrayWithText) {
  const auto events = run({
      chunk(R"({"content":"ok","tool_calls":[]})"),  // vLLM: text, not an empty tool delta
      chunk(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]})"),
      chunk(R"({"tool_calls":[{"index":1,"id":"b","function":{"name":"g","arguments":"{}"}}]})", R"("tool_calls")"),
      "[DONE]",
  });
  std::vector<std::int64_t> starts;
  for (const auto& e : events)
    if (e.name == "content_block_start") starts.push_back(e.data.at("index").as_int64());
  EXPECT_EQ(starts, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(events[2].data.at("delta").at("type"), "text_delta");
}

TEST(OpenAiToAnthropicStream, ReasoningBecomesAThinkingBlockClosedWithASignature) {
  const auto events = run({chunk(R"({"reasoning_content":"hmm"})"), chunk(R"({"content":"Yes."})", R"("stop")"),
                           "[DONE]"});
  EXPECT_EQ(names(events), (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                                     "content_block_delta", "content_block_stop",
                                                     "content_block_start", "content_block_delta",
                                                     "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(events[1].data.at("content_block").at("type"), "thinking");
  EXPECT_EQ(events[3].data.at("delta").at("type"), "signature_delta");
}

TEST(OpenAiToAnthropicStream, UsageFirstOrNeverAndLengthLimit) {
  const auto first = run({kUsage, chunk(R"({"content":"a"})", R"("length")"), "[DONE]"});
  EXPECT_EQ(json::serialize(first[0].data.at("message").at("usage")),
            R"({"input_tokens":20,"output_tokens":0,"cache_read_input_tokens":10})");
  EXPECT_EQ(first.at(first.size() - 2).data.at("delta").at("stop_reason"), "max_tokens");
  const auto never = run({chunk(R"({"content":"a"})", R"("stop")"), "[DONE]"});
  EXPECT_EQ(json::serialize(never.at(never.size() - 2).data.at("usage")), R"({"output_tokens":0})");
}

TEST(OpenAiToAnthropicStream, OneMessageStartEvenForAnEmptyStream) {
  EXPECT_EQ(names(run({"[DONE]"})), (std::vector<std::string>{"message_start", "message_delta", "message_stop"}));
  std::string out;
  OpenAiToAnthropicStream::append_error_event("overloaded_error", "Overloaded", out);
  EXPECT_EQ(out, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
}

}  // namespace
}  // namespace switchyard

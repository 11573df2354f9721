#include "protocol/ollama_stream_to_openai.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "protocol/ndjson_parser.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

// Feeds NDJSON text, in the given reads, through the parser and the translator; returns every chunk.
std::vector<json::value> run(bool chat, const std::vector<std::string>& reads, bool* finished = nullptr) {
  OllamaToOpenAiStream stream(chat, "chatcmpl-1", 1751919739);
  NdjsonParser parser;
  std::vector<json::object> chunks;
  for (const auto& read : reads)
    parser.feed(read, [&](std::string_view line) { stream.on_line(json::parse(line).as_object(), chunks); });
  if (finished) *finished = stream.finished();
  return {chunks.begin(), chunks.end()};
}

std::vector<json::value> expected(std::initializer_list<std::string_view> chunks) {
  std::vector<json::value> out;
  for (const auto chunk : chunks) out.push_back(json::parse(chunk));
  return out;
}

std::string chat_chunk(std::string_view delta, std::string_view finish = "null", std::string_view model = "llama3.2") {
  return R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1751919739,"model":")" + std::string(model) +
         R"(","choices":[{"index":0,"delta":)" + std::string(delta) + R"(,"finish_reason":)" + std::string(finish) + "}]}";
}

std::string chat_usage(int prompt, int completion, std::string_view model = "llama3.2") {
  return R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1751919739,"model":")" + std::string(model) +
         R"(","choices":[],"usage":{"prompt_tokens":)" + std::to_string(prompt) +
         R"(,"completion_tokens":)" + std::to_string(completion) + R"(,"total_tokens":)" +
         std::to_string(prompt + completion) + "}}";
}

TEST(OllamaStreamToOpenAi, TextStreamWithFinishAndUsage) {  // fixture L-2
  bool finished = false;
  const auto chunks = run(
      true,
      {R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The"},"done":false})"
       "\n"
       R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" sky"},"done":false})"
       "\n"
       R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,)"
       R"("total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000})"
       "\n"},
      &finished);
  EXPECT_EQ(chunks, expected({chat_chunk(R"({"role":"assistant","content":"The"})"), chat_chunk(R"({"content":" sky"})"),
                              chat_chunk("{}", R"("stop")"), chat_usage(26, 282)}));
  EXPECT_TRUE(finished);
}

TEST(OllamaStreamToOpenAi, SameOutputWhenLinesAreSplitMidJsonAndEndWithCrlf) {
  const std::string text =
      "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\r\n"
      "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,"
      "\"prompt_eval_count\":3,\"eval_count\":1}\r\n";
  const auto whole = run(true, {text});
  ASSERT_EQ(whole.size(), 3u);
  for (std::size_t cut = 1; cut < text.size(); cut += 5)
    EXPECT_EQ(run(true, {text.substr(0, cut), text.substr(cut)}), whole) << "cut at " << cut;
}

TEST(OllamaStreamToOpenAi, ToolCallLineBecomesOneDeltaAndFinishIsToolCalls) {  // fixture L-3
  const auto chunks = run(
      true,
      {R"({"model":"llama3.2","created_at":"2025-07-07T20:22:19.184789Z","message":{"role":"assistant","content":"",)"
       R"("tool_calls":[{"id":"call_k3x9p2aa","function":{"index":0,"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done":false})"
       "\n"
       R"({"model":"llama3.2","created_at":"2025-07-07T20:22:19.19314Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,)"
       R"("total_duration":182242375,"load_duration":41295167,"prompt_eval_count":169,"prompt_eval_duration":24573166,"eval_count":15,"eval_duration":115959084})"
       "\n"});
  EXPECT_EQ(chunks, expected({chat_chunk(R"({"role":"assistant","content":"","tool_calls":[{"id":"call_k3x9p2aa","index":0,)"
                                         R"("type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}}]})"),
                              chat_chunk("{}", R"("tool_calls")"), chat_usage(169, 15)}));
}

TEST(OllamaStreamToOpenAi, ToolIndicesAreDenseAcrossLinesAndIdsAreMadeWhenMissing) {
  const auto chunks = run(true, {
      R"({"model":"m","message":{"role":"assistant","content":"Checking."},"done":false})" "\n"
      R"({"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"a","arguments":{"x":1}}},)"
      R"({"function":{"name":"b","arguments":{}}}]},"done":false})" "\n"
      R"({"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"c"}}]},"done":false})" "\n"
      R"({"model":"m","message":{"role":"assistant","content":""},"done_reason":"stop","done":true})" "\n"});
  EXPECT_EQ(chunks,
            expected({chat_chunk(R"({"role":"assistant","content":"Checking."})", "null", "m"),
                      chat_chunk(R"({"tool_calls":[)"
                                 R"({"id":"call_0","index":0,"type":"function","function":{"name":"a","arguments":"{\"x\":1}"}},)"
                                 R"({"id":"call_1","index":1,"type":"function","function":{"name":"b","arguments":"{}"}}]})",
                                 "null", "m"),
                      chat_chunk(R"({"tool_calls":[{"id":"call_2","index":2,"type":"function","function":{"name":"c","arguments":"{}"}}]})",
                                 "null", "m"),
                      chat_chunk("{}", R"("tool_calls")", "m"), chat_usage(0, 0, "m")}));
}

TEST(OllamaStreamToOpenAi, ThinkingComesAsReasoningContentBeforeContentOfTheSameLine) {
  const auto chunks = run(true, {
      R"({"model":"qwen3","message":{"role":"assistant","content":"","thinking":"Let me"},"done":false})" "\n"
      R"({"model":"qwen3","message":{"role":"assistant","content":"4","thinking":" add."},"done":false})" "\n"
      R"({"model":"qwen3","message":{"role":"assistant","content":""},"done_reason":"length","done":true,"prompt_eval_count":5,"eval_count":9})" "\n"});
  EXPECT_EQ(chunks, expected({chat_chunk(R"({"role":"assistant","content":"","reasoning_content":"Let me"})", "null", "qwen3"),
                              chat_chunk(R"({"reasoning_content":" add."})", "null", "qwen3"),
                              chat_chunk(R"({"content":"4"})", "null", "qwen3"),
                              chat_chunk("{}", R"("length")", "qwen3"), chat_usage(5, 9, "qwen3")}));
}

TEST(OllamaStreamToOpenAi, EmptyAnswerStillNamesTheRoleAndContentOnTheDoneLineIsKept) {
  EXPECT_EQ(run(true, {R"({"model":"m","message":{"role":"assistant","content":""},"done_reason":"load","done":true})" "\n"}),
            expected({chat_chunk(R"({"role":"assistant","content":""})", "null", "m"), chat_chunk("{}", R"("stop")", "m"),
                      chat_usage(0, 0, "m")}));
  EXPECT_EQ(run(true, {R"({"model":"m","message":{"role":"assistant","content":"All"},"done_reason":"stop","done":true,"eval_count":1})" "\n"}),
            expected({chat_chunk(R"({"role":"assistant","content":"All"})", "null", "m"), chat_chunk("{}", R"("stop")", "m"),
                      chat_usage(0, 1, "m")}));
}

TEST(OllamaStreamToOpenAi, ErrorLineEndsTheStream) {  // fixture L-9
  bool finished = false;
  const auto chunks = run(true,
                          {R"({"model":"m","message":{"role":"assistant","content":"Hel"},"done":false})" "\n"
                           R"({"error":"an error was encountered while running the model"})" "\n"
                           R"({"model":"m","message":{"role":"assistant","content":"lo"},"done":false})" "\n"},
                          &finished);
  EXPECT_EQ(chunks, expected({chat_chunk(R"({"role":"assistant","content":"Hel"})", "null", "m"),
                              R"({"error":{"message":"an error was encountered while running the model","type":"upstream_error"}})"}));
  EXPECT_TRUE(finished);
}

TEST(OllamaStreamToOpenAi, NothingAfterDone) {
  bool finished = false;
  const auto chunks = run(true,
                          {R"({"model":"m","message":{"content":""},"done":true})" "\n"
                           R"({"model":"m","message":{"content":"late"},"done":false})" "\n"
                           R"({"model":"m","message":{"content":""},"done":true})" "\n"},
                          &finished);
  EXPECT_EQ(chunks.size(), 3u);
  EXPECT_TRUE(finished);
}

TEST(OllamaStreamToOpenAi, OddLinesDoNotThrow) {
  bool finished = true;
  const auto chunks = run(true,
                          {R"({"message":"x","done":"yes"})" "\n" R"({"message":{"content":5,"thinking":[],"tool_calls":{}}})" "\n"
                           R"({"model":7,"message":{"tool_calls":[1,{"function":null}]}})" "\n"},
                          &finished);
  EXPECT_TRUE(chunks.empty());
  EXPECT_FALSE(finished);
  EXPECT_EQ(run(true, {R"({"error":{"message":"boom"}})" "\n"}),
            expected({R"({"error":{"message":"boom","type":"upstream_error"}})"}));
  EXPECT_EQ(run(false, {R"({"error":null})" "\n"}), expected({R"({"error":{"message":"upstream error","type":"upstream_error"}})"}));
}

TEST(OllamaStreamToOpenAi, GenerateLinesBecomeTextCompletionChunks) {  // fixture L-5, streamed
  bool finished = false;
  const auto chunks = run(
      false,
      {R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":"The","done":false})" "\n"
       R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":" sky","done":false})" "\n"
       R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":"","done":true,"done_reason":"length",)"
       R"("context":[1,2,3],"prompt_eval_count":26,"eval_count":2})" "\n"},
      &finished);
  const std::string head = R"({"id":"chatcmpl-1","object":"text_completion","created":1751919739,"model":"llama3.2",)";
  EXPECT_EQ(chunks, expected({head + R"("choices":[{"text":"The","index":0,"logprobs":null,"finish_reason":null}]})",
                              head + R"("choices":[{"text":" sky","index":0,"logprobs":null,"finish_reason":null}]})",
                              head + R"("choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}]})",
                              head + R"("choices":[],"usage":{"prompt_tokens":26,"completion_tokens":2,"total_tokens":28}})"}));
  EXPECT_TRUE(finished);
}

}  // namespace
}  // namespace switchyard

#include "protocol/openai_stream_to_ollama.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace switchyard {
namespace {

namespace json = boost::json;

const std::regex kTimestamp(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)");

// L-2's metrics.
const OllamaTimings kTimings{4883583458, 1334875, 342546000, 4535599000};

// Splits NDJSON output into lines, checking that each ends with '\n', is compact JSON and (unless it
// is an error line) has an RFC 3339 created_at, which is removed before comparing.
std::vector<json::value> lines_of(const std::string& out) {
  std::vector<json::value> lines;
  EXPECT_TRUE(out.empty() || out.back() == '\n') << out;
  std::size_t start = 0;
  while (start < out.size()) {
    const auto end = out.find('\n', start);
    if (end == std::string::npos) break;
    const auto text = out.substr(start, end - start);
    auto line = json::parse(text);
    EXPECT_EQ(json::serialize(line), text) << "compact, one object per line";
    auto& object = line.as_object();
    if (!object.contains("error")) {
      const auto* created = object.if_contains("created_at");
      EXPECT_TRUE(created && created->is_string() && std::regex_match(std::string(created->get_string()), kTimestamp))
          << text;
      object.erase("created_at");
    }
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

// Runs OpenAI chunks (JSON texts; "[DONE]" ends) through the translator.
std::vector<json::value> run(OllamaEndpoint endpoint, const std::vector<std::string>& chunks,
                             const OllamaTimings& timings = kTimings) {
  OpenAiToOllamaStream stream(endpoint, "llama3.2");
  std::string out;
  for (const auto& chunk : chunks) {
    if (chunk == "[DONE]") {
      stream.on_done(timings, out);
      EXPECT_TRUE(stream.finished());
    } else {
      stream.on_chunk(json::parse(chunk).as_object(), out);
    }
  }
  return lines_of(out);
}

std::vector<json::value> expected(std::initializer_list<std::string_view> lines) {
  std::vector<json::value> out;
  for (auto line : lines) out.push_back(json::parse(line));
  return out;
}

std::string chunk(std::string_view delta, std::string_view finish = "null") {
  return std::string(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":)") +
         std::string(delta) + R"(,"finish_reason":)" + std::string(finish) + "}]}";
}

const std::string kUsage = R"({"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":26,"completion_tokens":282,"total_tokens":308}})";

TEST(OpenAiStreamToOllama, TextL2) {
  EXPECT_EQ(run(OllamaEndpoint::chat, {chunk(R"({"role":"assistant","content":""})"), chunk(R"({"content":"The"})"),
                                       chunk(R"({"content":" sky"})"), chunk("{}", R"("stop")"), kUsage, "[DONE]"}),
            expected({
                R"({"model":"llama3.2","message":{"role":"assistant","content":"The"},"done":false})",
                R"({"model":"llama3.2","message":{"role":"assistant","content":" sky"},"done":false})",
                R"({"model":"llama3.2","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,
                    "total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,
                    "eval_count":282,"eval_duration":4535599000})",
            }));
}

TEST(OpenAiStreamToOllama, ToolCallFragmentsGoOutWholeL3) {
  const OllamaTimings timings{182242375, 41295167, 24573166, 115959084};
  EXPECT_EQ(
      run(OllamaEndpoint::chat,
          {chunk(R"({"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_k3x9p2aa","type":"function","function":{"name":"get_weather","arguments":""}}]})"),
           chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]})"),
           chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"ty\": \"Tok"}}]})"),
           chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"yo\"}"}}]})"),
           // usage in the finish chunk, as some upstreams send it
           R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":169,"completion_tokens":15}})",
           "[DONE]"},
          timings),
      expected({
          R"({"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[
              {"id":"call_k3x9p2aa","function":{"index":0,"name":"get_weather","arguments":{"city":"Tokyo"}}}]},"done":false})",
          R"({"model":"llama3.2","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,
              "total_duration":182242375,"load_duration":41295167,"prompt_eval_count":169,"prompt_eval_duration":24573166,
              "eval_count":15,"eval_duration":115959084})",
      }));
}

TEST(OpenAiStreamToOllama, ParallelInterleavedCallsAfterTextFlushAtTheEndWithoutFinishReason) {
  EXPECT_EQ(
      run(OllamaEndpoint::chat,
          {kUsage,  // usage first, as some upstreams do
           chunk(R"({"role":"assistant","content":"Checking both."})"),
           chunk(R"({"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]})"),
           chunk(R"({"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_weather","arguments":""}}]})"),
           chunk(R"({"tool_calls":[{"index":1,"function":{"arguments":"{\"city\":\"Rome\"}"}},{"index":0,"function":{"arguments":"\"Paris\"}"}}]})"),
           chunk(R"({"tool_calls":[{"index":2,"id":"call_c","function":{"name":"broken","arguments":"{not json"}}]})"),
           "[DONE]"},
          OllamaTimings{}),
      expected({
          R"({"model":"llama3.2","message":{"role":"assistant","content":"Checking both."},"done":false})",
          R"({"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[
              {"id":"call_a","function":{"index":0,"name":"get_weather","arguments":{"city":"Paris"}}},
              {"id":"call_b","function":{"index":1,"name":"get_weather","arguments":{"city":"Rome"}}},
              {"id":"call_c","function":{"index":2,"name":"broken","arguments":{}}}]},"done":false})",
          R"({"model":"llama3.2","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,
              "total_duration":0,"load_duration":0,"prompt_eval_count":26,"prompt_eval_duration":0,"eval_count":282,"eval_duration":0})",
      }));
}

TEST(OpenAiStreamToOllama, ToolFragmentsWithoutIndexFollowTheirId) {
  EXPECT_EQ(run(OllamaEndpoint::chat,
                {chunk(R"({"tool_calls":[{"id":"call_1","function":{"name":"a","arguments":"{\"x\":"}}]})"),
                 chunk(R"({"tool_calls":[{"function":{"arguments":"1}"}}]})"),
                 chunk(R"({"tool_calls":[{"id":"call_2","function":{"name":"b","arguments":"{}"}}]})"),
                 chunk("{}", R"("tool_calls")"), "[DONE]"},
                OllamaTimings{}),
            expected({
                R"({"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[
                    {"id":"call_1","function":{"index":0,"name":"a","arguments":{"x":1}}},
                    {"id":"call_2","function":{"index":1,"name":"b","arguments":{}}}]},"done":false})",
                R"({"model":"llama3.2","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,
                    "total_duration":0,"load_duration":0,"prompt_eval_count":0,"prompt_eval_duration":0,"eval_count":0,"eval_duration":0})",
            }));
}

TEST(OpenAiStreamToOllama, ReasoningBecomesThinkingAndLengthIsKept) {
  EXPECT_EQ(run(OllamaEndpoint::chat,
                {chunk(R"({"role":"assistant","reasoning_content":"Let me think"})"), chunk(R"({"reasoning":"..."})"),
                 chunk(R"({"content":"Answer","reasoning_content":" done."})"), chunk(R"({"content":""})", R"("length")"),
                 kUsage, "[DONE]"},
                OllamaTimings{}),
            expected({
                R"({"model":"llama3.2","message":{"role":"assistant","content":"","thinking":"Let me think"},"done":false})",
                R"({"model":"llama3.2","message":{"role":"assistant","content":"","thinking":"..."},"done":false})",
                R"({"model":"llama3.2","message":{"role":"assistant","content":"Answer","thinking":" done."},"done":false})",
                R"({"model":"llama3.2","message":{"role":"assistant","content":""},"done_reason":"length","done":true,
                    "total_duration":0,"load_duration":0,"prompt_eval_count":26,"prompt_eval_duration":0,"eval_count":282,"eval_duration":0})",
            }));
}

TEST(OpenAiStreamToOllama, GenerateLinesCarryResponse) {
  EXPECT_EQ(run(OllamaEndpoint::generate,
                {chunk(R"({"role":"assistant"})"), chunk(R"({"content":"The"})"), chunk(R"({"reasoning_content":"hm"})"),
                 chunk(R"({"tool_calls":[{"index":0,"id":"x","function":{"name":"f","arguments":"{}"}}]})"),
                 chunk(R"({"content":" sky"})", R"("stop")"), kUsage, "[DONE]"}),
            expected({
                R"({"model":"llama3.2","response":"The","done":false})",
                R"({"model":"llama3.2","response":"","thinking":"hm","done":false})",
                R"({"model":"llama3.2","response":" sky","done":false})",
                R"({"model":"llama3.2","response":"","done_reason":"stop","done":true,"total_duration":4883583458,
                    "load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,
                    "eval_duration":4535599000})",
            }));
}

TEST(OpenAiStreamToOllama, ErrorChunkEndsTheStream) {
  OpenAiToOllamaStream stream(OllamaEndpoint::chat, "llama3.2");
  std::string out;
  stream.on_chunk(json::parse(chunk(R"({"content":"Hi"})")).as_object(), out);
  stream.on_chunk(json::parse(chunk(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]})")).as_object(), out);
  stream.on_chunk(json::parse(R"({"error":{"message":"Rate limit reached","type":"rate_limit_error"}})").as_object(), out);
  EXPECT_TRUE(stream.finished());
  stream.on_chunk(json::parse(chunk(R"({"content":"late"})")).as_object(), out);
  stream.on_done(kTimings, out);
  EXPECT_EQ(lines_of(out), expected({
                               R"({"model":"llama3.2","message":{"role":"assistant","content":"Hi"},"done":false})",
                               R"({"error":"Rate limit reached"})",
                           }));

  OpenAiToOllamaStream plain(OllamaEndpoint::generate, "m");
  std::string plain_out;
  plain.on_chunk(json::parse(R"({"error":"overloaded"})").as_object(), plain_out);
  EXPECT_EQ(plain_out, "{\"error\":\"overloaded\"}\n");
  OpenAiToOllamaStream bare(OllamaEndpoint::chat, "m");
  std::string bare_out;
  bare.on_chunk(json::parse(R"({"error":{}})").as_object(), bare_out);
  EXPECT_EQ(bare_out, "{\"error\":\"an error was encountered while running the model\"}\n");
}

TEST(OpenAiStreamToOllama, ErrorLineIsOneCompactLine) {
  std::string out;
  OpenAiToOllamaStream::append_error_line("upstream said \"no\"\n", out);
  EXPECT_EQ(out, "{\"error\":\"upstream said \\\"no\\\"\\n\"}\n");
}

TEST(OpenAiStreamToOllama, OnDoneTwiceWritesOneDoneLine) {
  OpenAiToOllamaStream stream(OllamaEndpoint::chat, "m");
  std::string out;
  EXPECT_FALSE(stream.finished());
  stream.on_done(OllamaTimings{}, out);
  stream.on_done(OllamaTimings{}, out);
  EXPECT_EQ(lines_of(out).size(), 1u);
}

TEST(OpenAiStreamToOllama, OddChunksNeverThrow) {
  const char* const chunks[] = {
      R"({})",
      R"({"choices":"x","usage":[1]})",
      R"({"choices":[1]})",
      R"({"choices":[{"delta":"hi","finish_reason":3}]})",
      R"({"choices":[{"delta":{"content":5,"reasoning_content":null,"tool_calls":{"a":1}}}]})",
      R"({"choices":[{"delta":{"tool_calls":[1,{"index":-4},{"index":"z","function":"f"},{"index":1e3,"function":{"name":7,"arguments":[1]}}]}}]})",
      R"({"usage":{"prompt_tokens":"x","completion_tokens":1.5}})",
      R"({"error":null})",
      R"({"error":7})",
  };
  for (auto endpoint : {OllamaEndpoint::chat, OllamaEndpoint::generate}) {
    OpenAiToOllamaStream stream(endpoint, "m");
    std::string out;
    for (const char* c : chunks) EXPECT_NO_THROW(stream.on_chunk(json::parse(c).as_object(), out)) << c;
    EXPECT_NO_THROW(stream.on_done(OllamaTimings{}, out));
    EXPECT_TRUE(stream.finished());
    const auto lines = lines_of(out);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), json::parse(R"({"error":"an error was encountered while running the model"})"));
  }
}

}  // namespace
}  // namespace switchyard

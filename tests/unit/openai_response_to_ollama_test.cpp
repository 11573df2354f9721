#include "protocol/openai_response_to_ollama.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <string>

namespace switchyard {
namespace {

namespace json = boost::json;

const std::regex kTimestamp(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)");

const OllamaTimings kTimings{5191566416, 2154458, 383809000, 4799921000};

// Translates and checks created_at, which is then removed: the rest is compared exactly.
json::object translate(OllamaEndpoint endpoint, std::string_view openai, const OllamaTimings& timings = kTimings) {
  json::object ollama;
  openai_to_ollama_response(endpoint, json::parse(openai).as_object(), "llama3.2", timings, ollama);
  if (endpoint == OllamaEndpoint::chat || endpoint == OllamaEndpoint::generate) {
    const auto* created = ollama.if_contains("created_at");
    EXPECT_TRUE(created && created->is_string() && std::regex_match(std::string(created->get_string()), kTimestamp))
        << json::serialize(ollama);
    ollama.erase("created_at");
  }
  return ollama;
}

json::object expected(std::string_view text) { return json::parse(text).as_object(); }

TEST(OpenAiResponseToOllama, TimestampIsRfc3339UtcWithNanoseconds) {
  const auto stamp = ollama_timestamp();
  EXPECT_TRUE(std::regex_match(stamp, kTimestamp)) << stamp;
  EXPECT_EQ(stamp.substr(0, 2), "20");
}

TEST(OpenAiResponseToOllama, DoneReason) {
  EXPECT_EQ(ollama_done_reason("stop"), "stop");
  EXPECT_EQ(ollama_done_reason("length"), "length");
  EXPECT_EQ(ollama_done_reason("tool_calls"), "stop");  // Ollama has no tool_calls reason
  EXPECT_EQ(ollama_done_reason("content_filter"), "stop");
  EXPECT_EQ(ollama_done_reason(""), "stop");
}

TEST(OpenAiResponseToOllama, ChatTextL1) {
  EXPECT_EQ(translate(OllamaEndpoint::chat, R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o",
                "choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How are you today?"},"finish_reason":"stop"}],
                "usage":{"prompt_tokens":26,"completion_tokens":298,"total_tokens":324}})"),
            expected(R"({"model":"llama3.2","message":{"role":"assistant","content":"Hello! How are you today?"},
                "done_reason":"stop","done":true,"total_duration":5191566416,"load_duration":2154458,"prompt_eval_count":26,
                "prompt_eval_duration":383809000,"eval_count":298,"eval_duration":4799921000})"));
}

TEST(OpenAiResponseToOllama, ChatToolCallsWithObjectArgumentsAndThinking) {
  EXPECT_EQ(translate(OllamaEndpoint::chat, R"({"id":"c","object":"chat.completion","choices":[{"index":0,"message":{
                "role":"assistant","content":null,"reasoning_content":"They want weather.","tool_calls":[
                {"id":"call_k3x9p2aa","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}},
                {"type":"function","function":{"name":"get_time","arguments":"{\"tz\":"}},
                {"id":"call_2","type":"function","function":{"name":"list","arguments":"[1]"}}]},
                "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":169,"completion_tokens":15}})",
                      OllamaTimings{}),
            expected(R"({"model":"llama3.2","message":{"role":"assistant","content":"","thinking":"They want weather.",
                "tool_calls":[{"id":"call_k3x9p2aa","function":{"index":0,"name":"get_weather","arguments":{"city":"Tokyo"}}},
                              {"function":{"index":1,"name":"get_time","arguments":{}}},
                              {"id":"call_2","function":{"index":2,"name":"list","arguments":{}}}]},
                "done_reason":"stop","done":true,"total_duration":0,"load_duration":0,"prompt_eval_count":169,
                "prompt_eval_duration":0,"eval_count":15,"eval_duration":0})"));
}

TEST(OpenAiResponseToOllama, ChatLengthWithoutUsageAndContentParts) {
  EXPECT_EQ(translate(OllamaEndpoint::chat, R"({"choices":[{"message":{"role":"assistant","reasoning":"hm",
                "content":[{"type":"text","text":"Once upon"},{"type":"text","text":" a time"}]},"finish_reason":"length"}]})"),
            expected(R"({"model":"llama3.2","message":{"role":"assistant","content":"Once upon a time","thinking":"hm"},
                "done_reason":"length","done":true,"total_duration":5191566416,"load_duration":2154458,"prompt_eval_count":0,
                "prompt_eval_duration":383809000,"eval_count":0,"eval_duration":4799921000})"));
}

TEST(OpenAiResponseToOllama, GenerateL5) {
  EXPECT_EQ(translate(OllamaEndpoint::generate, R"({"choices":[{"index":0,"message":{"role":"assistant",
                "content":"The sky is blue because it is the color of the sky.","reasoning_content":"Easy.",
                "tool_calls":[{"id":"x","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}],
                "usage":{"prompt_tokens":26,"completion_tokens":290}})"),
            expected(R"({"model":"llama3.2","response":"The sky is blue because it is the color of the sky.","thinking":"Easy.",
                "done_reason":"stop","done":true,"total_duration":5191566416,"load_duration":2154458,"prompt_eval_count":26,
                "prompt_eval_duration":383809000,"eval_count":290,"eval_duration":4799921000})"));
}

TEST(OpenAiResponseToOllama, EmbedListInIndexOrderAndBase64Vectors) {
  const char* const list = R"({"object":"list","model":"text-embedding-3-small","data":[
      {"object":"embedding","index":1,"embedding":"AACAPgAAAEE="},
      {"object":"embedding","index":0,"embedding":[0.010071029,-0.0017594862]},
      {"object":"embedding","index":2,"embedding":"AAAAPwAAoL8AAABA"}],"usage":{"prompt_tokens":12,"total_tokens":12}})";
  EXPECT_EQ(translate(OllamaEndpoint::embed, list),
            expected(R"({"model":"llama3.2","embeddings":[[0.010071029,-0.0017594862],[0.25,8.0],[0.5,-1.25,2.0]],
                "total_duration":5191566416,"load_duration":2154458,"prompt_eval_count":12})"));
  EXPECT_EQ(translate(OllamaEndpoint::embeddings, list), expected(R"({"embedding":[0.010071029,-0.0017594862]})"));
  EXPECT_EQ(translate(OllamaEndpoint::embeddings, R"({"data":[]})"), expected(R"({"embedding":[]})"));
  EXPECT_EQ(translate(OllamaEndpoint::embed, R"({"data":[{"embedding":"not base64!"},{"embedding":null}]})", OllamaTimings{}),
            expected(R"({"model":"llama3.2","embeddings":[[],[]],"total_duration":0,"load_duration":0,"prompt_eval_count":0})"));
}

TEST(OpenAiResponseToOllama, OddInputNeverThrows) {
  const char* const bodies[] = {
      R"({})",
      R"({"choices":"x","usage":"y","data":{"a":1}})",
      R"({"choices":[1],"usage":{"prompt_tokens":"many","completion_tokens":-3}})",
      R"({"choices":[{"message":"hi","finish_reason":7}]})",
      R"({"choices":[{"message":{"content":7,"tool_calls":[1,{"function":"f"},{"function":{"name":1,"arguments":2}}]}}]})",
      R"({"data":[1,"x",{"embedding":{"a":1},"index":"z"},{"embedding":"====","index":-1}]})",
  };
  for (const char* body : bodies) {
    for (auto endpoint : {OllamaEndpoint::chat, OllamaEndpoint::generate, OllamaEndpoint::embed, OllamaEndpoint::embeddings}) {
      json::object ollama;
      EXPECT_NO_THROW(openai_to_ollama_response(endpoint, json::parse(body).as_object(), "m", OllamaTimings{}, ollama))
          << body;
    }
  }
  EXPECT_EQ(translate(OllamaEndpoint::chat, bodies[4], OllamaTimings{}),
            expected(R"({"model":"llama3.2","message":{"role":"assistant","content":"",
                "tool_calls":[{"function":{"index":0,"name":"","arguments":{}}}]},"done_reason":"stop","done":true,
                "total_duration":0,"load_duration":0,"prompt_eval_count":0,"prompt_eval_duration":0,"eval_count":0,"eval_duration":0})"));
}

}  // namespace
}  // namespace switchyard

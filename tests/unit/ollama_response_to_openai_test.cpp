#include "protocol/ollama_response_to_openai.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace switchyard {
namespace {

namespace json = boost::json;

json::value chat(std::string_view ollama) {
  json::object openai;
  ollama_chat_to_openai_response(json::parse(ollama).as_object(), "chatcmpl-1", 1700000000, openai);
  return openai;
}

json::value generate(std::string_view ollama) {
  json::object openai;
  ollama_generate_to_openai_completion(json::parse(ollama).as_object(), "cmpl-1", 1700000000, openai);
  return openai;
}

json::value embed(std::string_view ollama) {
  json::object openai;
  ollama_embed_to_openai_embeddings(json::parse(ollama).as_object(), openai);
  return openai;
}

TEST(OllamaResponseToOpenAi, ChatTextWithUsage) {  // fixture L-1, with done_reason
  EXPECT_EQ(chat(R"({"model":"llama3.2","created_at":"2023-12-12T14:13:43.416799Z","message":{"role":"assistant",)"
                 R"("content":"Hello! How are you today?"},"done_reason":"stop","done":true,"total_duration":5191566416,)"
                 R"("load_duration":2154458,"prompt_eval_count":26,"prompt_eval_duration":383809000,"eval_count":298,)"
                 R"("eval_duration":4799921000})"),
            json::parse(R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"llama3.2",)"
                        R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How are you today?"},)"
                        R"("logprobs":null,"finish_reason":"stop"}],)"
                        R"("usage":{"prompt_tokens":26,"completion_tokens":298,"total_tokens":324}})"));
}

TEST(OllamaResponseToOpenAi, ToolCallsGetIdsStringArgumentsAndToolCallsFinish) {
  // Older servers send no id (call_<n>), newer ones do; done_reason says stop all the same.
  EXPECT_EQ(chat(R"({"model":"llama3.2","message":{"role":"assistant","content":"","tool_calls":[)"
                 R"({"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}},)"
                 R"({"id":"call_k3x9p2aa","function":{"index":1,"name":"get_time","arguments":{}}}]},)"
                 R"("done_reason":"stop","done":true,"prompt_eval_count":169,"eval_count":15})"),
            json::parse(R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"llama3.2",)"
                        R"("choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[)"
                        R"({"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\"}"}},)"
                        R"({"id":"call_k3x9p2aa","type":"function","function":{"name":"get_time","arguments":"{}"}}]},)"
                        R"("logprobs":null,"finish_reason":"tool_calls"}],)"
                        R"("usage":{"prompt_tokens":169,"completion_tokens":15,"total_tokens":184}})"));
}

TEST(OllamaResponseToOpenAi, ThinkingBecomesReasoningContentAndLengthFinish) {
  EXPECT_EQ(chat(R"({"model":"qwen3","message":{"role":"assistant","content":"4","thinking":"2+2 is 4"},)"
                 R"("done_reason":"length","done":true,"eval_count":3})"),
            json::parse(R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"qwen3",)"
                        R"("choices":[{"index":0,"message":{"role":"assistant","content":"4","reasoning_content":"2+2 is 4"},)"
                        R"("logprobs":null,"finish_reason":"length"}],)"
                        R"("usage":{"prompt_tokens":0,"completion_tokens":3,"total_tokens":3}})"));
}

TEST(OllamaResponseToOpenAi, OddInputGivesAnEmptyAnswerNotAThrow) {
  EXPECT_EQ(chat(R"({"message":"nope","done_reason":7,"prompt_eval_count":"x"})"),
            json::parse(R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"",)"
                        R"("choices":[{"index":0,"message":{"role":"assistant","content":""},"logprobs":null,"finish_reason":"stop"}]})"));
  EXPECT_EQ(chat(R"({"model":"m","message":{"content":["x"],"tool_calls":[3,{"function":"f"},{"function":{"arguments":"{\"a\":1}"}}]}})"),
            json::parse(R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m",)"
                        R"("choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[)"
                        R"({"id":"call_0","type":"function","function":{"name":"","arguments":"{\"a\":1}"}}]},)"
                        R"("logprobs":null,"finish_reason":"tool_calls"}]})"));
}

TEST(OllamaResponseToOpenAi, FinishReasons) {
  EXPECT_EQ(openai_finish_reason_from_ollama("stop"), "stop");
  EXPECT_EQ(openai_finish_reason_from_ollama("length"), "length");
  EXPECT_EQ(openai_finish_reason_from_ollama("load"), "stop");
  EXPECT_EQ(openai_finish_reason_from_ollama("unload"), "stop");
  EXPECT_EQ(openai_finish_reason_from_ollama(""), "stop");
  EXPECT_EQ(openai_finish_reason_from_ollama("something_new"), "stop");
}

TEST(OllamaResponseToOpenAi, GenerateBecomesTextCompletion) {  // fixture L-5
  EXPECT_EQ(generate(R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z",)"
                     R"("response":"The sky is blue because it is the color of the sky.","done":true,"context":[1,2,3],)"
                     R"("total_duration":5043500667,"load_duration":5025959,"prompt_eval_count":26,)"
                     R"("prompt_eval_duration":325953000,"eval_count":290,"eval_duration":4709213000})"),
            json::parse(R"({"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"llama3.2",)"
                        R"("choices":[{"text":"The sky is blue because it is the color of the sky.","index":0,"logprobs":null,)"
                        R"("finish_reason":"stop"}],"usage":{"prompt_tokens":26,"completion_tokens":290,"total_tokens":316}})"));
  EXPECT_EQ(generate(R"({"model":"m","response":"abc","done":true,"done_reason":"length"})"),
            json::parse(R"({"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"m",)"
                        R"("choices":[{"text":"abc","index":0,"logprobs":null,"finish_reason":"length"}]})"));
}

TEST(OllamaResponseToOpenAi, EmbedBecomesAnEmbeddingsList) {  // fixture L-8
  EXPECT_EQ(embed(R"({"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862],[-0.0098027075,0.06042469]],)"
                  R"("total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8})"),
            json::parse(R"({"object":"list","data":[)"
                        R"({"object":"embedding","index":0,"embedding":[0.010071029,-0.0017594862]},)"
                        R"({"object":"embedding","index":1,"embedding":[-0.0098027075,0.06042469]}],)"
                        R"("model":"all-minilm","usage":{"prompt_tokens":8,"total_tokens":8}})"));
  // A batch answer may come without a count; odd shapes do not throw.
  EXPECT_EQ(embed(R"({"model":"e","embeddings":[[1.5],"x"]})"),
            json::parse(R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[1.5]},)"
                        R"({"object":"embedding","index":1,"embedding":[]}],"model":"e","usage":{"prompt_tokens":0,"total_tokens":0}})"));
  EXPECT_EQ(embed(R"({"embeddings":{}})"),
            json::parse(R"({"object":"list","data":[],"model":"","usage":{"prompt_tokens":0,"total_tokens":0}})"));
}

}  // namespace
}  // namespace switchyard

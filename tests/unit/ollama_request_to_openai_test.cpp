#include "protocol/ollama_request_to_openai.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace switchyard {
namespace {

namespace json = boost::json;

json::object translate(OllamaEndpoint endpoint, std::string_view body) {
  json::object openai;
  ApiError error;
  EXPECT_TRUE(ollama_to_openai_request(endpoint, json::parse(body).as_object(), openai, error)) << error.message;
  return openai;
}

ApiError rejection(OllamaEndpoint endpoint, std::string_view body) {
  json::object openai;
  ApiError error;
  EXPECT_FALSE(ollama_to_openai_request(endpoint, json::parse(body).as_object(), openai, error)) << body;
  return error;
}

json::object expected(std::string_view text) { return json::parse(text).as_object(); }

const char* const kWeatherTool =
    R"({"type":"function","function":{"name":"get_weather","description":"Get the weather in a given city",)"
    R"("parameters":{"type":"object","properties":{"city":{"type":"string","description":"The city to get the weather for"}},"required":["city"]}}})";

TEST(OllamaRequestToOpenAi, EndpointPaths) {
  EXPECT_EQ(ollama_endpoint_path(OllamaEndpoint::chat), "/api/chat");
  EXPECT_EQ(ollama_endpoint_path(OllamaEndpoint::generate), "/api/generate");
  EXPECT_EQ(ollama_endpoint_path(OllamaEndpoint::embed), "/api/embed");
  EXPECT_EQ(ollama_endpoint_path(OllamaEndpoint::embeddings), "/api/embeddings");
}

TEST(OllamaRequestToOpenAi, ChatNonStreamingL1) {
  EXPECT_EQ(translate(OllamaEndpoint::chat,
                      R"({"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue?"}],"stream":false})"),
            expected(R"({"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue?"}],"stream":false})"));
}

// think becomes reasoning_effort (tests/unit/reasoning_effort_test.cpp); keep_alive and the history's
// thinking have no OpenAI counterpart.
TEST(OllamaRequestToOpenAi, ChatStreamsByDefaultWithUsageAndDropsOllamaOnlyFields) {
  EXPECT_EQ(translate(OllamaEndpoint::chat, R"({"model":"m","keep_alive":"5m","think":true,"messages":[
                {"role":"System","content":"Be brief."},
                {"role":"user","content":"hi"},
                {"role":"assistant","content":"Hello.","thinking":"The user greets me."},
                {"role":"user","content":"bye"}]})"),
            expected(R"({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"},
                {"role":"assistant","content":"Hello."},{"role":"user","content":"bye"}],
                "reasoning_effort":"medium","stream":true,"stream_options":{"include_usage":true}})"));
}

TEST(OllamaRequestToOpenAi, ImagesBecomeDataUrlsWithTheSniffedType) {
  const auto openai = translate(OllamaEndpoint::chat, R"({"model":"llava","stream":false,"messages":[
      {"role":"user","content":"what is in these?","images":["iVBORw0KGgoAAAANSUhEUg==","/9j/4AAQSkZJRgAB",
       "R0lGODlhAQABAIAA","UklGRiQAAABXRUJQVlA4IA==","aGVsbG8gd29ybGQh","iVBORw0KGgoAAAAN!!not base64 past the head!!",
       "data:image/webp;base64,UklGRiQAAABXRUJQ"]},
      {"role":"user","content":"","images":["/9j/4AAQSkZJRgAB"]}]})");
  EXPECT_EQ(openai, expected(R"({"model":"llava","stream":false,"messages":[
      {"role":"user","content":[{"type":"text","text":"what is in these?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="}},
        {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQSkZJRgAB"}},
        {"type":"image_url","image_url":{"url":"data:image/gif;base64,R0lGODlhAQABAIAA"}},
        {"type":"image_url","image_url":{"url":"data:image/webp;base64,UklGRiQAAABXRUJQVlA4IA=="}},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,aGVsbG8gd29ybGQh"}},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAAN!!not base64 past the head!!"}},
        {"type":"image_url","image_url":{"url":"data:image/webp;base64,UklGRiQAAABXRUJQ"}}]},
      {"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQSkZJRgAB"}}]}]})"));
}

TEST(OllamaRequestToOpenAi, ToolHistoryL4GetsGeneratedIdsAndTheToolMessageIsMatchedByName) {
  const auto openai = translate(OllamaEndpoint::chat, std::string(R"({"model":"llama3.2","stream":false,"messages":[
      {"role":"user","content":"what is the weather in Toronto?"},
      {"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Toronto"}}}]},
      {"role":"tool","content":"11 degrees celsius","tool_name":"get_weather"}],"tools":[)") +
                                                          kWeatherTool + "]}");
  EXPECT_EQ(openai, expected(std::string(R"({"model":"llama3.2","stream":false,"messages":[
      {"role":"user","content":"what is the weather in Toronto?"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function",
        "function":{"name":"get_weather","arguments":"{\"city\":\"Toronto\"}"}}]},
      {"role":"tool","tool_call_id":"call_0","content":"11 degrees celsius"}],"tools":[)") +
                             kWeatherTool + "]}"));
}

TEST(OllamaRequestToOpenAi, ParallelCallsOfOneToolAreAnsweredInOrderAndIdsCountAcrossTheRequest) {
  const auto openai = translate(OllamaEndpoint::chat, R"({"model":"m","stream":false,"messages":[
      {"role":"user","content":"weather in Paris and Rome, then the time"},
      {"role":"assistant","content":"Checking.","tool_calls":[
        {"function":{"name":"get_weather","arguments":{"city":"Paris"}}},
        {"function":{"name":"get_weather","arguments":{"city":"Rome"}}}]},
      {"role":"tool","content":"20C","tool_name":"get_weather"},
      {"role":"tool","content":"25C","tool_name":"get_weather"},
      {"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_time","arguments":{}}},
        {"id":"call_abc12345","function":{"index":1,"name":"get_date","arguments":"{\"tz\":\"UTC\"}"}}]},
      {"role":"tool","content":"2024-07-02","tool_call_id":"call_abc12345"},
      {"role":"tool","content":"noon"},
      {"role":"tool","content":"Paris again","tool_name":"get_weather"},
      {"role":"tool","content":"nothing left to answer"}]})");
  EXPECT_EQ(openai, expected(R"({"model":"m","stream":false,"messages":[
      {"role":"user","content":"weather in Paris and Rome, then the time"},
      {"role":"assistant","content":"Checking.","tool_calls":[
        {"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
        {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
      {"role":"tool","tool_call_id":"call_0","content":"20C"},
      {"role":"tool","tool_call_id":"call_1","content":"25C"},
      {"role":"assistant","content":null,"tool_calls":[
        {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}},
        {"id":"call_abc12345","type":"function","function":{"name":"get_date","arguments":"{\"tz\":\"UTC\"}"}}]},
      {"role":"tool","tool_call_id":"call_abc12345","content":"2024-07-02"},
      {"role":"tool","tool_call_id":"call_2","content":"noon"},
      {"role":"tool","tool_call_id":"call_1","content":"Paris again"},
      {"role":"tool","tool_call_id":"call_3","content":"nothing left to answer"}]})"));
}

TEST(OllamaRequestToOpenAi, ToolMessageImagesFollowInAUserMessage) {
  EXPECT_EQ(translate(OllamaEndpoint::chat, R"({"model":"m","stream":false,"messages":[
                {"role":"assistant","tool_calls":[{"function":{"name":"screenshot","arguments":{}}}]},
                {"role":"tool","content":"done","tool_name":"screenshot","images":["iVBORw0KGgoAAAANSUhEUg=="]}]})"),
            expected(R"({"model":"m","stream":false,"messages":[
                {"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function",
                  "function":{"name":"screenshot","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"call_0","content":"done"},
                {"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="}}]}]})"));
}

TEST(OllamaRequestToOpenAi, FormatAndOptions) {
  EXPECT_EQ(translate(OllamaEndpoint::chat, R"({"model":"m","messages":[],"format":"json","stream":true,
                "options":{"num_predict":128,"temperature":0,"top_p":0.9,"top_k":40,"seed":42,"stop":["\n\n","User:"],
                           "presence_penalty":0.5,"frequency_penalty":-0.5,"num_ctx":8192,"repeat_penalty":1.1,"min_p":0.05}})"),
            expected(R"({"model":"m","messages":[],"response_format":{"type":"json_object"},"max_tokens":128,
                "temperature":0,"top_p":0.9,"top_k":40,"seed":42,"stop":["\n\n","User:"],"presence_penalty":0.5,
                "frequency_penalty":-0.5,"stream":true,"stream_options":{"include_usage":true}})"));
  // L-6: a schema; num_predict -1 (unlimited) sets nothing.
  EXPECT_EQ(translate(OllamaEndpoint::chat, R"({"model":"llama3.1","messages":[{"role":"user","content":"Ollama is 22"}],
                "stream":false,"format":{"type":"object","properties":{"age":{"type":"integer"},"available":{"type":"boolean"}},
                "required":["age","available"]},"options":{"temperature":0,"num_predict":-1,"stop":"END"}})"),
            expected(R"({"model":"llama3.1","messages":[{"role":"user","content":"Ollama is 22"}],
                "response_format":{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object",
                "properties":{"age":{"type":"integer"},"available":{"type":"boolean"}},"required":["age","available"]}}},
                "temperature":0,"stop":["END"],"stream":false})"));
  // Unknown format strings and option values of the wrong type are left out.
  EXPECT_EQ(translate(OllamaEndpoint::chat,
                      R"({"model":"m","messages":[],"stream":false,"format":"","options":{"temperature":"hot","num_predict":0}})"),
            expected(R"({"model":"m","messages":[],"stream":false})"));
}

TEST(OllamaRequestToOpenAi, ChatRejections) {
  auto error = rejection(OllamaEndpoint::chat, R"({"messages":[]})");
  EXPECT_EQ(error.kind, ErrorKind::missing_field);
  EXPECT_EQ(error.param, "model");
  error = rejection(OllamaEndpoint::chat, R"({"model":"","messages":[]})");
  EXPECT_EQ(error.param, "model");
  error = rejection(OllamaEndpoint::chat, R"({"model":"m"})");
  EXPECT_EQ(error.kind, ErrorKind::missing_field);
  EXPECT_EQ(error.param, "messages");
  error = rejection(OllamaEndpoint::chat, R"({"model":"m","messages":{"role":"user"}})");
  EXPECT_EQ(error.param, "messages");
  error = rejection(OllamaEndpoint::chat, R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"robot","content":"b"}]})");
  EXPECT_EQ(error.kind, ErrorKind::invalid_request);
  EXPECT_EQ(error.param, "messages[1].role");
  error = rejection(OllamaEndpoint::chat, R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}]})");
  EXPECT_EQ(error.kind, ErrorKind::invalid_request);
  EXPECT_EQ(error.param, "messages[0].content");
  error = rejection(OllamaEndpoint::chat, R"({"model":"m","messages":[{"content":"a"}]})");
  EXPECT_EQ(error.param, "messages[0].role");
  error = rejection(OllamaEndpoint::chat, R"({"model":"m","messages":[{"role":"user","content":"a","images":[1]}]})");
  EXPECT_EQ(error.param, "messages[0].images");
  error = rejection(OllamaEndpoint::chat, R"({"model":"m","messages":["hi"]})");
  EXPECT_EQ(error.param, "messages[0]");
}

TEST(OllamaRequestToOpenAi, GenerateL5AndSystemImagesOptions) {
  EXPECT_EQ(translate(OllamaEndpoint::generate, R"({"model":"llama3.2","prompt":"Why is the sky blue?","stream":false})"),
            expected(R"({"model":"llama3.2","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":false})"));
  EXPECT_EQ(translate(OllamaEndpoint::generate, R"({"model":"llava","prompt":"Describe","system":"You are terse.",
                "images":["/9j/4AAQSkZJRgAB"],"suffix":"  return x","raw":true,"template":"{{ .Prompt }}","context":[1,2,3],
                "keep_alive":0,"format":"json","options":{"num_predict":10}})"),
            expected(R"({"model":"llava","messages":[{"role":"system","content":"You are terse."},
                {"role":"user","content":[{"type":"text","text":"Describe"},
                  {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQSkZJRgAB"}}]}],
                "response_format":{"type":"json_object"},"max_tokens":10,"stream":true,"stream_options":{"include_usage":true}})"));
  // Images alone are a question too.
  EXPECT_EQ(translate(OllamaEndpoint::generate, R"({"model":"llava","images":["R0lGODlhAQABAIAA"],"stream":false})"),
            expected(R"({"model":"llava","messages":[{"role":"user","content":[
                {"type":"image_url","image_url":{"url":"data:image/gif;base64,R0lGODlhAQABAIAA"}}]}],"stream":false})"));
}

TEST(OllamaRequestToOpenAi, GenerateRejections) {
  for (const char* body : {R"({"model":"m","prompt":""})", R"({"model":"m"})", R"({"model":"m","prompt":null,"images":[]})"}) {
    const auto error = rejection(OllamaEndpoint::generate, body);
    EXPECT_EQ(error.kind, ErrorKind::invalid_request) << body;
    EXPECT_EQ(error.message, "prompt must not be empty") << body;
    EXPECT_EQ(error.param, "prompt") << body;
  }
  auto error = rejection(OllamaEndpoint::generate, R"({"model":"m","prompt":["a"]})");
  EXPECT_EQ(error.kind, ErrorKind::missing_field);
  EXPECT_EQ(error.param, "prompt");
  error = rejection(OllamaEndpoint::generate, R"({"prompt":"a"})");
  EXPECT_EQ(error.param, "model");
  error = rejection(OllamaEndpoint::generate, R"({"model":"m","prompt":"a","images":"iVBORw0KGgo="})");
  EXPECT_EQ(error.param, "images");
}

TEST(OllamaRequestToOpenAi, EmbedAndLegacyEmbeddings) {
  EXPECT_EQ(translate(OllamaEndpoint::embed,
                      R"({"model":"all-minilm","input":["Why is the sky blue?","Why is the grass green?"],"truncate":true,
                          "keep_alive":"1m","options":{"num_ctx":512}})"),
            expected(R"({"model":"all-minilm","input":["Why is the sky blue?","Why is the grass green?"]})"));
  EXPECT_EQ(translate(OllamaEndpoint::embed, R"({"model":"all-minilm","input":"hello","dimensions":256})"),
            expected(R"({"model":"all-minilm","input":"hello","dimensions":256})"));
  EXPECT_EQ(translate(OllamaEndpoint::embeddings, R"({"model":"all-minilm","prompt":"Here is an article about llamas..."})"),
            expected(R"({"model":"all-minilm","input":"Here is an article about llamas..."})"));

  auto error = rejection(OllamaEndpoint::embed, R"({"model":"m"})");
  EXPECT_EQ(error.kind, ErrorKind::missing_field);
  EXPECT_EQ(error.param, "input");
  error = rejection(OllamaEndpoint::embed, R"({"model":"m","input":["a",2]})");
  EXPECT_EQ(error.param, "input");
  error = rejection(OllamaEndpoint::embed, R"({"model":"m","input":[]})");
  EXPECT_EQ(error.param, "input");
  error = rejection(OllamaEndpoint::embeddings, R"({"model":"m","input":"a"})");
  EXPECT_EQ(error.kind, ErrorKind::missing_field);
  EXPECT_EQ(error.param, "prompt");
  error = rejection(OllamaEndpoint::embeddings, R"({"model":"m","prompt":""})");
  EXPECT_EQ(error.kind, ErrorKind::invalid_request);
  error = rejection(OllamaEndpoint::embeddings, R"({"prompt":"a"})");
  EXPECT_EQ(error.param, "model");
}

TEST(OllamaRequestToOpenAi, OddInputNeverThrows) {
  const char* const bodies[] = {
      R"({})",
      R"({"model":1,"messages":[]})",
      R"({"model":"m","messages":[{"role":"assistant","tool_calls":"x"},{"role":"assistant","tool_calls":[1,{"function":7},
         {"function":{"name":3,"arguments":[1,2]}},{"id":5,"function":{"arguments":null}}]},{"role":"tool","tool_name":4}],
         "tools":{"a":1},"format":[1],"options":"fast","stream":"no"})",
      R"({"model":"m","messages":[{"role":"user","content":null,"images":null,"tool_calls":null}],"options":{"stop":[1,null,""],
         "num_predict":1e30,"seed":"x"}})",
      R"({"model":"m","messages":[{"role":"user","images":["","=","====","ab","\n\n\n\n\n"," /9j/\n4AAQSkZJRgAB"]}]})",
      R"({"model":"m","prompt":7,"images":[{}]})",
      R"({"model":"m","input":{"a":1},"prompt":{}})",
  };
  for (const char* body : bodies) {
    for (auto endpoint : {OllamaEndpoint::chat, OllamaEndpoint::generate, OllamaEndpoint::embed, OllamaEndpoint::embeddings}) {
      json::object openai;
      ApiError error;
      EXPECT_NO_THROW(ollama_to_openai_request(endpoint, json::parse(body).as_object(), openai, error)) << body;
    }
  }
  // What the odd-but-valid chat above becomes.
  EXPECT_EQ(translate(OllamaEndpoint::chat, bodies[2]),
            expected(R"({"model":"m","messages":[{"role":"assistant","content":""},
                {"role":"assistant","content":null,"tool_calls":[
                  {"id":"call_0","type":"function","function":{"name":"","arguments":"{}"}},
                  {"id":"call_1","type":"function","function":{"name":"","arguments":"[1,2]"}},
                  {"id":"call_2","type":"function","function":{"name":"","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"call_0","content":""}],
                "stream":true,"stream_options":{"include_usage":true}})"));
  EXPECT_EQ(translate(OllamaEndpoint::chat, bodies[4]),
            expected(R"({"model":"m","messages":[{"role":"user","content":[
                {"type":"image_url","image_url":{"url":"data:image/png;base64,"}},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,="}},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,===="}},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,ab"}},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,\n\n\n\n\n"}},
                {"type":"image_url","image_url":{"url":"data:image/jpeg;base64, /9j/\n4AAQSkZJRgAB"}}]}],
                "stream":true,"stream_options":{"include_usage":true}})"));
}

}  // namespace
}  // namespace switchyard

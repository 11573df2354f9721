#include "protocol/openai_request_to_ollama.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace switchyard {
namespace {

namespace json = boost::json;

using Translate = bool (*)(const json::object&, json::object&, ApiError&);

// Translates `openai` and checks the result equals `expected` as a JSON value (key order aside).
void expect_golden(Translate translate, std::string_view openai, std::string_view expected) {
  json::object ollama;
  ApiError error;
  ASSERT_TRUE(translate(json::parse(openai).as_object(), ollama, error)) << error.message;
  EXPECT_EQ(json::value(ollama), json::parse(expected)) << json::serialize(ollama);
}

ApiError expect_error(Translate translate, std::string_view openai) {
  json::object ollama;
  ApiError error;
  EXPECT_FALSE(translate(json::parse(openai).as_object(), ollama, error));
  return error;
}

TEST(OpenAiRequestToOllama, SimpleChatStreamsFalseWhenAbsent) {
  expect_golden(openai_to_ollama_chat_request,
                R"({"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue?"}]})",
                R"({"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue?"}],"stream":false})");
  expect_golden(openai_to_ollama_chat_request,
                R"({"model":"m","stream":true,"messages":[{"role":"system","content":"Be brief."},)"
                R"({"role":"developer","content":"Use metric."},{"role":"user","content":"Hi"}]})",
                R"({"model":"m","stream":true,"messages":[{"role":"system","content":"Be brief."},)"
                R"({"role":"system","content":"Use metric."},{"role":"user","content":"Hi"}]})");
}

TEST(OpenAiRequestToOllama, PartsJoinTextWithNewlinesAndImagesBecomeBase64) {
  expect_golden(
      openai_to_ollama_chat_request,
      R"({"model":"llava","messages":[{"role":"user","content":[)"
      R"({"type":"text","text":"What is in this picture?"},)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},)"
      R"({"type":"text","text":"Answer in one word."},)"
      R"({"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}}]}]})",
      R"({"model":"llava","stream":false,"messages":[{"role":"user",)"
      R"("content":"What is in this picture?\nAnswer in one word.","images":["iVBORw0KGgo=","/9j/4AAQ"]}]})");
}

TEST(OpenAiRequestToOllama, ImageByHttpUrlIsRefusedNamingThePart) {
  const auto error = expect_error(
      openai_to_ollama_chat_request,
      R"({"model":"llava","messages":[{"role":"system","content":"x"},{"role":"user","content":[)"
      R"({"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]})");
  EXPECT_EQ(error.kind, ErrorKind::invalid_request);
  EXPECT_EQ(error.param, "messages[1].content[1].image_url");
  EXPECT_FALSE(error.message.empty());
  // A data: URL that is not base64 cannot be handed over either.
  EXPECT_EQ(expect_error(openai_to_ollama_chat_request,
                         R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]})")
                .param,
            "messages[0].content[0].image_url");
}

TEST(OpenAiRequestToOllama, ToolsToolCallsAndToolResultsWithToolName) {
  // The OpenAI form of fixture L-4, plus a second call to show the name is found by id.
  expect_golden(
      openai_to_ollama_chat_request,
      R"({"model":"llama3.2","messages":[)"
      R"({"role":"user","content":"what is the weather in Toronto?"},)"
      R"({"role":"assistant","content":null,"tool_calls":[)"
      R"({"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Toronto\"}"}},)"
      R"({"id":"call_2","type":"function","function":{"name":"get_time","arguments":"not json"}}]},)"
      R"({"role":"tool","tool_call_id":"call_2","content":"10:00"},)"
      R"({"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"11 degrees celsius"}]},)"
      R"({"role":"tool","tool_call_id":"call_unknown","content":"?"}],)"
      R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather in a given city",)"
      R"("parameters":{"type":"object","properties":{"city":{"type":"string","description":"The city to get the weather for"}},"required":["city"]}}}]})",
      R"({"model":"llama3.2","stream":false,"messages":[)"
      R"({"role":"user","content":"what is the weather in Toronto?"},)"
      R"({"role":"assistant","content":"","tool_calls":[)"
      R"({"function":{"name":"get_weather","arguments":{"city":"Toronto"}}},)"
      R"({"function":{"name":"get_time","arguments":{}}}]},)"
      R"({"role":"tool","content":"10:00","tool_name":"get_time","tool_call_id":"call_2"},)"
      R"({"role":"tool","content":"11 degrees celsius","tool_name":"get_weather","tool_call_id":"call_1"},)"
      R"({"role":"tool","content":"?","tool_call_id":"call_unknown"}],)"
      R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Get the weather in a given city",)"
      R"("parameters":{"type":"object","properties":{"city":{"type":"string","description":"The city to get the weather for"}},"required":["city"]}}}]})");
}

TEST(OpenAiRequestToOllama, ToolNameFromTheLastEarlierCallWithThatId) {
  expect_golden(openai_to_ollama_chat_request,
                R"({"messages":[)"
                R"({"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"old","arguments":"{}"}}]},)"
                R"({"role":"tool","tool_call_id":"c","content":"1"},)"
                R"({"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"new","arguments":"{}"}}]},)"
                R"({"role":"tool","tool_call_id":"c","content":"2"}]})",
                R"({"stream":false,"messages":[)"
                R"({"role":"assistant","content":"","tool_calls":[{"function":{"name":"old","arguments":{}}}]},)"
                R"({"role":"tool","content":"1","tool_name":"old","tool_call_id":"c"},)"
                R"({"role":"assistant","content":"","tool_calls":[{"function":{"name":"new","arguments":{}}}]},)"
                R"({"role":"tool","content":"2","tool_name":"new","tool_call_id":"c"}]})");
}

TEST(OpenAiRequestToOllama, ToolChoiceNoneLeavesToolsOut) {
  expect_golden(openai_to_ollama_chat_request,
                R"({"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"none",)"
                R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]})",
                R"({"model":"m","stream":false,"messages":[{"role":"user","content":"hi"}]})");
}

TEST(OpenAiRequestToOllama, ResponseFormats) {
  expect_golden(openai_to_ollama_chat_request,
                R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})",
                R"({"model":"m","stream":false,"messages":[{"role":"user","content":"x"}],"format":"json"})");
  // Fixture L-6: the schema itself is the format; name and strict are dropped.
  expect_golden(openai_to_ollama_chat_request,
                R"({"model":"llama3.1","messages":[{"role":"user","content":"Ollama is 22 years old and busy."}],)"
                R"("temperature":0,"response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,"schema":)"
                R"({"type":"object","properties":{"age":{"type":"integer"},"available":{"type":"boolean"}},"required":["age","available"]}}}})",
                R"({"model":"llama3.1","messages":[{"role":"user","content":"Ollama is 22 years old and busy."}],"stream":false,)"
                R"("format":{"type":"object","properties":{"age":{"type":"integer"},"available":{"type":"boolean"}},"required":["age","available"]},)"
                R"("options":{"temperature":0}})");
  expect_golden(openai_to_ollama_chat_request,
                R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}})",
                R"({"stream":false,"messages":[{"role":"user","content":"x"}]})");
}

TEST(OpenAiRequestToOllama, SamplingMaxTokensStopAndKeepAliveIntoOptions) {
  expect_golden(openai_to_ollama_chat_request,
                R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"temperature":0.2,"top_p":0.9,)"
                R"("seed":42,"presence_penalty":0.5,"frequency_penalty":-0.5,"max_tokens":100,"stop":"END","top_k":40,)"
                R"("keep_alive":"5m","user":"u1","logit_bias":{"1":2},"stream_options":{"include_usage":true}})",
                R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"keep_alive":"5m",)"
                R"("options":{"temperature":0.2,"top_p":0.9,"seed":42,"presence_penalty":0.5,"frequency_penalty":-0.5,)"
                R"("num_predict":100,"stop":["END"],"top_k":40}})");
  // max_completion_tokens is the newer name and wins; a stop array stays an array; nulls are left out.
  expect_golden(openai_to_ollama_chat_request,
                R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":10,"max_completion_tokens":20,)"
                R"("stop":["a","b"],"temperature":null})",
                R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":false,"options":{"num_predict":20,"stop":["a","b"]}})");
}

TEST(OpenAiRequestToOllama, AssistantReasoningAndReasoningEffort) {
  expect_golden(openai_to_ollama_chat_request,
                R"({"messages":[{"role":"assistant","content":"4","reasoning_content":"2+2"}],"reasoning_effort":"minimal"})",
                R"({"stream":false,"messages":[{"role":"assistant","content":"4","thinking":"2+2"}],"think":"low"})");
  expect_golden(openai_to_ollama_chat_request, R"({"messages":[],"reasoning_effort":"none"})",
                R"({"stream":false,"messages":[],"think":false})");
}

TEST(OpenAiRequestToOllama, MalformedChatRequestsAreRefusedNotThrown) {
  EXPECT_EQ(expect_error(openai_to_ollama_chat_request, R"({"model":"m"})").param, "messages");
  EXPECT_EQ(expect_error(openai_to_ollama_chat_request, R"({"messages":"hi"})").kind, ErrorKind::missing_field);
  EXPECT_EQ(expect_error(openai_to_ollama_chat_request, R"({"messages":[1]})").param, "messages[0]");
  EXPECT_EQ(expect_error(openai_to_ollama_chat_request, R"({"messages":[{"content":"x"}]})").param, "messages[0].role");
  EXPECT_EQ(expect_error(openai_to_ollama_chat_request, R"({"messages":[{"role":"user","content":5}]})").param,
            "messages[0].content");
  EXPECT_EQ(expect_error(openai_to_ollama_chat_request, R"({"messages":[{"role":"user","content":[{"type":"input_audio"}]}]})")
                .param,
            "messages[0].content[0].type");
  EXPECT_EQ(expect_error(openai_to_ollama_chat_request, R"({"messages":[{"role":"user","content":"x"}],"n":2})").param, "n");
  // Odd but harmless shapes pass: tool calls without a function, a non-string stream flag.
  expect_golden(openai_to_ollama_chat_request,
                R"({"messages":[{"role":"assistant","content":"x","tool_calls":[1,{"id":"a"}]}],"stream":"yes","n":1})",
                R"({"stream":false,"messages":[{"role":"assistant","content":"x"}]})");
}

TEST(OpenAiRequestToOllama, GenerateFromLegacyCompletions) {
  expect_golden(openai_to_ollama_generate_request,
                R"({"model":"llama3.2","prompt":"Why is the sky blue?","stream":false})",
                R"({"model":"llama3.2","prompt":"Why is the sky blue?","stream":false})");
  expect_golden(openai_to_ollama_generate_request,
                R"({"model":"coder","prompt":["def add(a, b):"],"suffix":"    return c","max_tokens":16,"temperature":0,)"
                R"("stop":["\n\n"],"stream":true,"echo":false,"best_of":1})",
                R"({"model":"coder","prompt":"def add(a, b):","suffix":"    return c","stream":true,)"
                R"("options":{"num_predict":16,"temperature":0,"stop":["\n\n"]}})");
}

TEST(OpenAiRequestToOllama, GeneratePromptMustBeOneString) {
  EXPECT_EQ(expect_error(openai_to_ollama_generate_request, R"({"model":"m"})").kind, ErrorKind::missing_field);
  EXPECT_EQ(expect_error(openai_to_ollama_generate_request, R"({"prompt":["a","b"]})").param, "prompt");
  EXPECT_EQ(expect_error(openai_to_ollama_generate_request, R"({"prompt":[1,2,3]})").kind, ErrorKind::invalid_request);
  EXPECT_EQ(expect_error(openai_to_ollama_generate_request, R"({"prompt":[]})").param, "prompt");
}

TEST(OpenAiRequestToOllama, Embed) {
  expect_golden(openai_to_ollama_embed_request,
                R"({"model":"all-minilm","input":["Why is the sky blue?","Why is the grass green?"],"encoding_format":"float"})",
                R"({"model":"all-minilm","input":["Why is the sky blue?","Why is the grass green?"]})");
  expect_golden(openai_to_ollama_embed_request, R"({"model":"e","input":"hello","dimensions":256,"user":"u"})",
                R"({"model":"e","input":"hello","dimensions":256})");
  EXPECT_EQ(expect_error(openai_to_ollama_embed_request, R"({"model":"e"})").kind, ErrorKind::missing_field);
  EXPECT_EQ(expect_error(openai_to_ollama_embed_request, R"({"model":"e","input":[[1,2],[3]]})").param, "input");
  EXPECT_EQ(expect_error(openai_to_ollama_embed_request, R"({"model":"e","input":42})").kind, ErrorKind::invalid_request);
}

}  // namespace
}  // namespace switchyard

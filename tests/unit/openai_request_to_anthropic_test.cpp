#include "protocol/openai_request_to_anthropic.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace switchyard {
namespace {

namespace json = boost::json;

json::object translate(std::string_view openai, std::int64_t default_max_tokens = 4096) {
  json::object anthropic;
  ApiError error;
  AnthropicRequestOptions options;
  options.default_max_tokens = default_max_tokens;
  EXPECT_TRUE(openai_to_anthropic_request(json::parse(openai).as_object(), anthropic, options, error)) << error.message;
  return anthropic;
}

// Golden comparison as parsed JSON values (key order does not matter, everything else does).
void expect_json(const json::value& actual, std::string_view expected) {
  EXPECT_EQ(actual, json::parse(expected)) << "actual:   " << json::serialize(actual) << "\nexpected: " << expected;
}

ApiError failure(std::string_view openai) {
  json::object anthropic;
  ApiError error;
  EXPECT_FALSE(openai_to_anthropic_request(json::parse(openai).as_object(), anthropic, AnthropicRequestOptions{}, error))
      << json::serialize(anthropic);
  EXPECT_FALSE(error.message.empty());
  return error;
}

TEST(OpenAiRequestToAnthropic, TextWithSystem) {
  // The request of fixture A-1 of the protocol reference, in its OpenAI form.
  expect_json(translate(R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[)"
                        R"({"role":"system","content":"You are concise."},{"role":"user","content":"Say hello"}]})"),
              R"({"model":"claude-sonnet-4-5","max_tokens":1024,"system":"You are concise.",)"
              R"("messages":[{"role":"user","content":"Say hello"}]})");
}

TEST(OpenAiRequestToAnthropic, MaxTokensDefaultsAndPrefersMaxCompletionTokens) {
  expect_json(translate(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", 777),
              R"({"model":"m","max_tokens":777,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(translate(R"({"model":"m","max_tokens":10,"max_completion_tokens":20,"messages":[{"role":"user","content":"hi"}]})")
                .at("max_tokens"),
            20);
  EXPECT_EQ(translate(R"({"model":"m","max_tokens":10,"max_completion_tokens":null,"messages":[{"role":"user","content":"hi"}]})")
                .at("max_tokens"),
            10);
}

TEST(OpenAiRequestToAnthropic, SystemAndDeveloperMessagesAnywhereBecomeSystemBlocksInOrder) {
  expect_json(translate(R"({"model":"m","messages":[{"role":"system","content":"A"},{"role":"user","content":"hi"},)"
                        R"({"role":"developer","content":[{"type":"text","text":"B"},{"type":"text","text":""},)"
                        R"({"type":"text","text":"C","cache_control":{"type":"ephemeral"}}]}]})"),
              R"({"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],)"
              R"("system":[{"type":"text","text":"A"},{"type":"text","text":"B"},)"
              R"({"type":"text","text":"C","cache_control":{"type":"ephemeral"}}]})");
  // One system text part is sent as a plain string.
  expect_json(translate(R"({"model":"m","messages":[{"role":"developer","content":[{"type":"text","text":"Be brief."}]},)"
                        R"({"role":"user","content":"hi"}]})")
                  .at("system"),
              R"("Be brief.")");
}

TEST(OpenAiRequestToAnthropic, ImagesBecomeBase64OrUrlSourcesAndEmptyTextIsDropped) {
  expect_json(
      translate(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":""},{"type":"text","text":"  "},)"
                R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},)"
                R"({"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},)"
                R"({"type":"image_url","image_url":"data:image/jpeg;charset=x;base64,/9j/4A=="},)"
                R"({"type":"text","text":"What is it?"}]}]})")
          .at("messages"),
      R"([{"role":"user","content":[)"
      R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},)"
      R"({"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},)"
      R"({"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4A=="}},)"
      R"({"type":"text","text":"What is it?"}]}])");
}

TEST(OpenAiRequestToAnthropic, ToolRoundTripGroupsResultsIntoOneUserTurnBeforeTheUsersText) {
  // Fixture A-5 in its OpenAI form, with a second parallel call, an id Anthropic would reject and
  // arguments that are not JSON.
  const auto anthropic = translate(
      R"({"model":"claude-opus-4-8","messages":[{"role":"user","content":"What's the weather in Paris?"},)"
      R"({"role":"assistant","content":null,"tool_calls":[)"
      R"({"id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}},)"
      R"({"id":"functions.Bash:0","type":"function","function":{"name":"bash","arguments":"not json"}}]},)"
      R"({"role":"tool","tool_call_id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","content":"18°C, sunny"},)"
      R"({"role":"tool","tool_call_id":"functions.Bash:0","content":[{"type":"text","text":"ok"}]},)"
      R"({"role":"user","content":"Thanks. And Rome?"}]})");
  expect_json(anthropic.at("messages"),
              R"([{"role":"user","content":"What's the weather in Paris?"},)"
              R"({"role":"assistant","content":[)"
              R"({"type":"tool_use","id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":"get_weather","input":{"location":"Paris"}},)"
              R"({"type":"tool_use","id":"functions_Bash_0","name":"bash","input":{}}]},)"
              R"({"role":"user","content":[)"
              R"({"type":"tool_result","tool_use_id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","content":"18°C, sunny"},)"
              R"({"type":"tool_result","tool_use_id":"functions_Bash_0","content":[{"type":"text","text":"ok"}]},)"
              R"({"type":"text","text":"Thanks. And Rome?"}]}])");
}

TEST(OpenAiRequestToAnthropic, AssistantTextBeforeToolUseAndToolResultsGoFirstInTheirTurn) {
  const auto anthropic = translate(
      R"({"model":"m","messages":[{"role":"user","content":"Weather?"},)"
      R"({"role":"assistant","content":[{"type":"text","text":"Checking."}],"tool_calls":[)"
      R"({"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},)"
      R"({"role":"user","content":"hurry"},)"
      R"({"role":"tool","tool_call_id":"call_1","content":""}]})");
  expect_json(anthropic.at("messages"),
              R"([{"role":"user","content":"Weather?"},)"
              R"({"role":"assistant","content":[{"type":"text","text":"Checking."},)"
              R"({"type":"tool_use","id":"call_1","name":"get_weather","input":{}}]},)"
              R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1"},{"type":"text","text":"hurry"}]}])");
}

TEST(OpenAiRequestToAnthropic, ConsecutiveSameRoleTurnsMergeAndEmptyTurnsVanish) {
  expect_json(translate(R"({"model":"m","messages":[{"role":"assistant","content":"I start."},)"
                        R"({"role":"user","content":"one"},{"role":"user","content":[{"type":"text","text":"two"}]},)"
                        R"({"role":"assistant","content":""},{"role":"user","content":"three"},)"
                        R"({"role":"assistant","content":[{"type":"refusal","refusal":"No."}]}]})")
                  .at("messages"),
              R"([{"role":"assistant","content":"I start."},)"
              R"({"role":"user","content":[{"type":"text","text":"one"},{"type":"text","text":"two"},)"
              R"({"type":"text","text":"three"}]},)"
              R"({"role":"assistant","content":"No."}])");
}

TEST(OpenAiRequestToAnthropic, ToolsAndToolChoice) {
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Get current weather",)"
      R"("parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]},"strict":true}},)"
      R"({"type":"function","function":{"name":"now"}}])";
  const std::string head = R"({"model":"m","messages":[{"role":"user","content":"hi"}],)";
  const auto anthropic = translate(head + tools + "}");
  expect_json(anthropic.at("tools"),
              R"([{"name":"get_weather","description":"Get current weather",)"
              R"("input_schema":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}},)"
              R"({"name":"now","input_schema":{"type":"object","properties":{}}}])");
  EXPECT_FALSE(anthropic.contains("tool_choice"));  // Anthropic's default is the client's default

  const std::pair<std::string, std::string> choices[] = {
      {R"("auto")", R"({"type":"auto"})"},
      {R"("required")", R"({"type":"any"})"},
      {R"("none")", R"({"type":"none"})"},
      {R"({"type":"function","function":{"name":"now"}})", R"({"type":"tool","name":"now"})"},
  };
  for (const auto& [openai, expected] : choices)
    expect_json(translate(head + tools + R"(,"tool_choice":)" + openai + "}").at("tool_choice"), expected);

  expect_json(translate(head + tools + R"(,"parallel_tool_calls":false})").at("tool_choice"),
              R"({"type":"auto","disable_parallel_tool_use":true})");
  expect_json(translate(head + tools + R"(,"tool_choice":"required","parallel_tool_calls":false})").at("tool_choice"),
              R"({"type":"any","disable_parallel_tool_use":true})");
  expect_json(translate(head + tools + R"(,"tool_choice":"none","parallel_tool_calls":false})").at("tool_choice"),
              R"({"type":"none"})");
  // Without tools no tool_choice is sent (Anthropic rejects one).
  const auto no_tools = translate(head + R"("tool_choice":"auto","parallel_tool_calls":false})");
  EXPECT_FALSE(no_tools.contains("tools"));
  EXPECT_FALSE(no_tools.contains("tool_choice"));
}

TEST(OpenAiRequestToAnthropic, SamplingStopStreamUserAndDroppedFields) {
  expect_json(translate(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":50,)"
                        R"("temperature":1.7,"top_p":0.9,"top_k":40,"stop":["END"," ","\n","STOP"],"stream":true,)"
                        R"("stream_options":{"include_usage":true},"user":"u-1","seed":7,"logprobs":true,"top_logprobs":2,)"
                        R"("presence_penalty":0.5,"frequency_penalty":0.5,"logit_bias":{"1":2},"n":1,"store":true})"),
              R"({"model":"m","max_tokens":50,"messages":[{"role":"user","content":"hi"}],"temperature":1.0,)"
              R"("top_p":0.9,"top_k":40,"stop_sequences":["END","STOP"],"stream":true,"metadata":{"user_id":"u-1"}})");
  expect_json(translate(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":-1,"stop":"END",)"
                        R"("stream":false,"user":"someone@example.com"})"),
              R"({"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}],"temperature":0.0,)"
              R"("stop_sequences":["END"],"stream":false})");
  // Unset sampling parameters stay unset (newer Claude models reject non-default values).
  const auto plain = translate(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":null,"stop":null})");
  EXPECT_FALSE(plain.contains("temperature"));
  EXPECT_FALSE(plain.contains("top_p"));
  EXPECT_FALSE(plain.contains("stop_sequences"));
  EXPECT_FALSE(plain.contains("stream"));
}

TEST(OpenAiRequestToAnthropic, ResponseFormatBecomesASystemInstruction) {
  expect_json(translate(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}})")
                  .at("system"),
              R"("Respond only with a single valid JSON object: no other text, no Markdown code fences.")");
  expect_json(translate(R"({"model":"m","messages":[{"role":"system","content":"Be exact."},{"role":"user","content":"hi"}],)"
                        R"("response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,)"
                        R"("schema":{"type":"object","properties":{"age":{"type":"integer"}}}}}})")
                  .at("system"),
              R"([{"type":"text","text":"Be exact."},{"type":"text","text":)"
              R"("Respond only with a single valid JSON value that conforms to this JSON Schema, with no other text and )"
              R"(no Markdown code fences:\n{\"type\":\"object\",\"properties\":{\"age\":{\"type\":\"integer\"}}}"}])");
  EXPECT_FALSE(translate(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"text"}})")
                   .contains("system"));
}

TEST(OpenAiRequestToAnthropic, InvalidRequestsNameTheField) {
  auto error = failure(R"({"model":"m"})");
  EXPECT_EQ(error.kind, ErrorKind::missing_field);
  EXPECT_EQ(error.param, "messages");
  error = failure(R"({"model":"m","messages":"hi"})");
  EXPECT_EQ(error.kind, ErrorKind::missing_field);
  EXPECT_EQ(error.param, "messages");
  error = failure(R"({"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(error.kind, ErrorKind::invalid_request);
  EXPECT_EQ(error.param, "n");
  error = failure(R"({"model":"m","messages":[{"role":"user","content":"hi"},{"content":"x"}]})");
  EXPECT_EQ(error.kind, ErrorKind::missing_field);
  EXPECT_EQ(error.param, "messages[1].role");
  error = failure(R"({"model":"m","messages":[{"role":"robot","content":"x"}]})");
  EXPECT_EQ(error.kind, ErrorKind::invalid_request);
  EXPECT_EQ(error.param, "messages[0].role");
  EXPECT_EQ(failure(R"({"model":"m","messages":[{"role":7,"content":"x"}]})").param, "messages[0].role");
  EXPECT_EQ(failure(R"({"model":"m","messages":[42]})").param, "messages[0]");
  EXPECT_EQ(failure(R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]})")
                .param,
            "messages[0].content[0].image_url.url");
  EXPECT_EQ(failure(R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]})")
                .param,
            "messages[0].content[0].image_url.url");
  EXPECT_EQ(failure(R"({"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]})").param,
            "messages[0].content[0].type");
  EXPECT_EQ(failure(R"({"model":"m","messages":[{"role":"tool","content":"x"}]})").param, "messages[0].tool_call_id");
  EXPECT_EQ(failure(R"({"model":"m","messages":[{"role":"system","content":"only system"}]})").param, "messages");
  EXPECT_EQ(failure(R"({"model":"m","max_tokens":"10","messages":[{"role":"user","content":"hi"}]})").param, "max_tokens");
  EXPECT_EQ(failure(R"({"model":"m","max_completion_tokens":-1,"messages":[{"role":"user","content":"hi"}]})").param,
            "max_completion_tokens");
  EXPECT_EQ(failure(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],)"
                    R"("tool_choice":"sometimes"})")
                .param,
            "tool_choice");
  EXPECT_EQ(failure(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"custom","custom":{"name":"f"}}]})")
                .param,
            "tools[0]");
}

TEST(OpenAiRequestToAnthropic, OddShapesNeverThrow) {
  const char* bodies[] = {
      R"({})",
      R"({"messages":[]})",
      R"({"messages":[null,{"role":null},{"role":"user","content":7}]})",
      R"({"messages":[{"role":"user","content":[1,{"type":null},{"type":"text"}]}]})",
      R"({"messages":[{"role":"assistant","tool_calls":[null]}]})",
      R"({"messages":[{"role":"assistant","tool_calls":{"a":1}}]})",
      R"({"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":[1]}}]}]})",
      R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":5}}]}]})",
      R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":"data:"}]}]})",
      R"({"messages":[{"role":"user","content":"x"}],"tools":[null],"stop":[1,null],"temperature":"hot","n":"2"})",
      R"({"messages":[{"role":"user","content":"x"}],"tools":"all","max_tokens":1e30})",
      R"({"messages":[{"role":"tool","tool_call_id":5}],"response_format":{"type":"json_schema","json_schema":7}})",
      R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"},"user":5})",
  };
  for (const char* body : bodies) {
    json::object anthropic;
    ApiError error;
    EXPECT_NO_THROW(openai_to_anthropic_request(json::parse(body).as_object(), anthropic, AnthropicRequestOptions{}, error))
        << body;
  }
  // The assistant's tool call with no id still gets a valid one, and array arguments become {}.
  const auto anthropic = translate(
      R"({"model":"m","messages":[{"role":"user","content":"x"},)"
      R"({"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":[1]}}]}]})");
  expect_json(anthropic.at("messages").as_array()[1],
              R"({"role":"assistant","content":[{"type":"tool_use","id":"toolu_none","name":"f","input":{}}]})");
}

}  // namespace
}  // namespace switchyard

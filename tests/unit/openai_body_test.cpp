#include "protocol/openai_body.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace switchyard {
namespace {

namespace json = boost::json;

TEST(JsonScan, FindsTopLevelFieldsAndModelSpan) {
  const std::string body = R"({"model":"qwen-7b","messages":[{"role":"user","content":"hi","model":"inner"}],"stream":true})";
  const auto scan = scan_json(body);
  ASSERT_TRUE(scan.valid);
  EXPECT_TRUE(scan.is_object);
  EXPECT_EQ(scan.model, "qwen-7b");
  ASSERT_TRUE(scan.model_span);
  EXPECT_EQ(body.substr(scan.model_span->begin, scan.model_span->end - scan.model_span->begin), "\"qwen-7b\"");
  EXPECT_EQ(scan.messages_type, JsonType::array);
  EXPECT_EQ(scan.stream, true);
  EXPECT_EQ(scan.stream_options_type, JsonType::absent);
}

TEST(JsonScan, ReportsInvalidJson) {
  for (const char* bad : {"", "{", "{\"model\":}", "[1,2", "{\"a\":1} trailing", "nul"}) {
    const auto scan = scan_json(bad);
    EXPECT_FALSE(scan.valid) << bad;
    EXPECT_FALSE(scan.error.empty()) << bad;
  }
}

TEST(JsonScan, EscapedModelHasNoSpanButDecodedValue) {
  const auto scan = scan_json(R"({"model":"q\u0077en","messages":[]})");
  ASSERT_TRUE(scan.valid);
  EXPECT_EQ(scan.model, "qwen");
  EXPECT_FALSE(scan.model_span);
}

TEST(JsonScan, UsageAndChoicesOfAStreamChunk) {
  const auto scan = scan_json(
      R"({"id":"c","object":"chat.completion.chunk","model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}})");
  ASSERT_TRUE(scan.valid);
  EXPECT_EQ(scan.choices_count, 0);
  EXPECT_EQ(scan.usage_type, JsonType::object);
  EXPECT_EQ(scan.prompt_tokens, 9);
  EXPECT_EQ(scan.completion_tokens, 3);
  const auto content = scan_json(R"({"choices":[{"delta":{"content":"x"}}],"usage":null})");
  EXPECT_EQ(content.choices_count, 1);
  EXPECT_EQ(content.usage_type, JsonType::null);
}

TEST(JsonScan, IncludeUsageInsideStreamOptionsOnly) {
  auto scan = scan_json(R"({"stream_options":{"include_usage":true},"x":{"include_usage":false}})");
  EXPECT_EQ(scan.include_usage, true);
  scan = scan_json(R"({"x":{"include_usage":true}})");
  EXPECT_FALSE(scan.include_usage.has_value());
}

TEST(JsonScan, TopLevelErrorKey) {
  EXPECT_TRUE(scan_json(R"({"error":{"message":"boom"}})").has_error);
  EXPECT_FALSE(scan_json(R"({"choices":[{"error":1}]})").has_error);
}

TEST(ValidateRequest, RequiredFieldsPerEndpoint) {
  ApiError error;
  EXPECT_TRUE(validate_openai_request(OpenAiEndpoint::chat_completions,
                                      scan_json(R"({"model":"m","messages":[]})"), error));
  EXPECT_FALSE(validate_openai_request(OpenAiEndpoint::chat_completions, scan_json(R"({"model":"m"})"), error));
  EXPECT_EQ(error.kind, ErrorKind::missing_field);
  EXPECT_EQ(error.param, "messages");
  EXPECT_FALSE(validate_openai_request(OpenAiEndpoint::chat_completions, scan_json(R"({"messages":[]})"), error));
  EXPECT_EQ(error.param, "model");
  EXPECT_FALSE(validate_openai_request(OpenAiEndpoint::chat_completions,
                                       scan_json(R"({"model":7,"messages":[]})"), error));
  EXPECT_EQ(error.param, "model");
  EXPECT_FALSE(validate_openai_request(OpenAiEndpoint::completions, scan_json(R"({"model":"m","prompt":null})"), error));
  EXPECT_EQ(error.param, "prompt");
  EXPECT_TRUE(validate_openai_request(OpenAiEndpoint::embeddings, scan_json(R"({"model":"m","input":["a"]})"), error));
  EXPECT_FALSE(validate_openai_request(OpenAiEndpoint::embeddings, scan_json("[1]"), error));
  EXPECT_EQ(error.kind, ErrorKind::invalid_json);
  EXPECT_FALSE(validate_openai_request(OpenAiEndpoint::embeddings, scan_json("{oops"), error));
  EXPECT_EQ(error.kind, ErrorKind::invalid_json);
}

TEST(RewriteRequest, SwapsOnlyTheModelBytes) {
  const std::string body = R"({ "temperature": 0.25, "model" : "qwen-7b", "messages":[{"role":"user","content":"h\u00e9"}]})";
  std::string out;
  rewrite_request_body(body, scan_json(body), "Qwen/Qwen2.5-7B-Instruct", out);
  EXPECT_EQ(out, R"({ "temperature": 0.25, "model" : "Qwen/Qwen2.5-7B-Instruct", "messages":[{"role":"user","content":"h\u00e9"}]})");
}

TEST(RewriteRequest, StreamingRequestAsksForUsage) {
  const std::string body = R"({"model":"a","stream":true,"messages":[]})";
  std::string out;
  rewrite_request_body(body, scan_json(body), "b", out);
  const auto doc = json::parse(out).as_object();
  EXPECT_EQ(doc.at("model").as_string(), "b");
  EXPECT_EQ(doc.at("stream_options").at("include_usage").as_bool(), true);
  EXPECT_EQ(doc.at("stream").as_bool(), true);
}

TEST(RewriteRequest, ExistingStreamOptionsAreKeptAndUsageForced) {
  for (const char* body : {R"({"model":"a","stream":true,"stream_options":{"include_usage":false,"x":1},"messages":[]})",
                           R"({"model":"a","stream":true,"stream_options":null,"messages":[]})",
                           R"({"model":"\u0061","stream":true,"messages":[]})"}) {
    std::string out;
    rewrite_request_body(body, scan_json(body), "b", out);
    const auto doc = json::parse(out).as_object();
    EXPECT_EQ(doc.at("model").as_string(), "b") << body;
    EXPECT_EQ(doc.at("stream_options").at("include_usage").as_bool(), true) << body;
  }
}

TEST(RewriteRequest, NonStreamingRequestGetsNoStreamOptions) {
  const std::string body = R"({"model":"a","messages":[]})";
  std::string out;
  rewrite_request_body(body, scan_json(body), "b", out);
  EXPECT_EQ(out, R"({"model":"b","messages":[]})");
}

TEST(RewriteModel, EscapesTheNewName) {
  const std::string body = R"({"model":"up","x":1})";
  std::string out;
  rewrite_model_field(body, scan_json(body), "we\"ird\\name", out);
  EXPECT_EQ(json::parse(out).at("model").as_string(), "we\"ird\\name");
}

TEST(RewriteModel, BodyWithoutModelIsUnchanged) {
  const std::string body = R"({"object":"list","data":[]})";
  std::string out;
  rewrite_model_field(body, scan_json(body), "alias", out);
  EXPECT_EQ(out, body);
}

}  // namespace
}  // namespace switchyard

#include "protocol/upstream_json_scan.hpp"
#include "protocol/openai_body.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

// Chunks as OpenAI, vLLM, llama-server and the fake upstream send them, and a few awkward ones.
const std::vector<std::string> kChunks = {
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
    R"({"choices":[{"finish_reason":null,"index":0,"delta":{"content":" world"}}],"created":1,"id":"x","model":"qwen","system_fingerprint":"b1","object":"chat.completion.chunk","timings":{"prompt_n":3,"predicted_ms":1.5}})",
    R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46,"prompt_tokens_details":{"cached_tokens":2}}})",
    R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{},"finish_reason":"length"}],"model":"m","usage":null})",
    R"({"error":{"message":"boom","type":"server_error","code":500}})",
    R"({"model":"we\"ird \\ name","choices":[{"delta":{"content":"} ] { [ \" \\"}}]})",
    "{\n  \"model\": \"pretty\",\n  \"choices\": [ { \"delta\": { \"content\": \"a\" } } ]\n}\n",
    R"({"model":7,"nested":{"model":"inner","choices":[]},"list":[[1,2],[{"a":[]}],"]"],"t":true,"f":false})",
    R"({})",
    R"({"model":"m","choices":[{"delta":{"content":"\u00e9\ud83d\ude00"}}]})",
};

void expect_same_fields(const std::string& text) {
  const auto full = scan_json(text);
  const auto light = scan_upstream_json(text);
  ASSERT_TRUE(full.valid) << text;
  EXPECT_TRUE(light.valid) << text;
  EXPECT_EQ(light.is_object, full.is_object) << text;
  EXPECT_EQ(light.model_type, full.model_type) << text;
  EXPECT_EQ(light.model_span.has_value(), full.model_span.has_value()) << text;
  if (light.model_span && full.model_span) {
    EXPECT_EQ(light.model_span->begin, full.model_span->begin) << text;
    EXPECT_EQ(light.model_span->end, full.model_span->end) << text;
  }
  EXPECT_EQ(light.choices_count, std::min<std::int64_t>(full.choices_count, 1)) << text;
  EXPECT_EQ(light.usage_type, full.usage_type) << text;
  EXPECT_EQ(light.has_error, full.has_error) << text;
  EXPECT_EQ(light.prompt_tokens, full.prompt_tokens) << text;
  EXPECT_EQ(light.completion_tokens, full.completion_tokens) << text;
}

TEST(UpstreamJsonScan, AgreesWithTheFullParserOnRealChunks) {
  for (const auto& chunk : kChunks) expect_same_fields(chunk);
}

// Nested values whose strings are full of brackets, quotes and backslashes, at every alignment
// against the 16-byte blocks the scanner works in.
std::string awkward_value(unsigned seed, int depth) {
  static const char* const kStrings[] = {R"("}")", R"("]]]")", R"("\"{")", R"("\\")", R"("a\\\"[b")",
                                         R"("{{{{{{{{{{{{{{{{{{{{")", R"("\u005b")", R"("")"};
  seed = seed * 1103515245u + 12345u;
  if (depth == 0) return kStrings[(seed >> 8) % 8];
  std::string value = (seed >> 4) % 2 ? "{" : "[";
  const bool object = value == "{";
  const int members = static_cast<int>((seed >> 12) % 4);
  for (int i = 0; i < members; ++i) {
    if (i) value += ',';
    if (object) value += "\"k" + std::to_string(i) + "\":";
    value += awkward_value(seed + static_cast<unsigned>(i) * 7919u, depth - 1);
  }
  return value + (object ? "}" : "]");
}

TEST(UpstreamJsonScan, SkipsNestedValuesWithBracketsInStrings) {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    const std::string padding(seed % 17, ' ');
    const std::string text = "{" + padding + R"("x":)" + awkward_value(seed, 1 + seed % 4) + R"(,"model":"m","usage":)" +
                             awkward_value(seed * 3, 2) + R"(,"choices":[1]})";
    expect_same_fields(text);
  }
}

TEST(UpstreamJsonScan, ReadsUsageTokens) {
  const auto scan = scan_upstream_json(kChunks[2]);
  EXPECT_EQ(scan.prompt_tokens, 12);
  EXPECT_EQ(scan.completion_tokens, 34);
  EXPECT_EQ(scan.choices_count, 0);
  EXPECT_EQ(scan.usage_type, JsonType::object);
}

TEST(UpstreamJsonScan, NonIntegerTokenCountsAreIgnored) {
  const auto scan =
      scan_upstream_json(R"({"model":null,"choices":[{"text":"x"}],"usage":{"prompt_tokens":1.5,"completion_tokens":7}})");
  ASSERT_TRUE(scan.valid);
  EXPECT_EQ(scan.prompt_tokens, -1);
  EXPECT_EQ(scan.completion_tokens, 7);
}

TEST(UpstreamJsonScan, AModelWithEscapesHasNoSpan) {
  const auto scan = scan_upstream_json(kChunks[5]);
  ASSERT_TRUE(scan.valid);
  EXPECT_EQ(scan.model_type, JsonType::string);
  EXPECT_FALSE(scan.model_span.has_value());
}

TEST(UpstreamJsonScan, EveryTruncationIsRejectedWithoutCrashing) {
  for (const auto& chunk : kChunks) {
    const auto end = chunk.find_last_of('}');
    for (std::size_t cut = 0; cut < end; ++cut) {
      EXPECT_FALSE(scan_upstream_json(std::string_view(chunk).substr(0, cut)).valid) << chunk.substr(0, cut);
    }
  }
}

TEST(UpstreamJsonScan, NotAnObjectIsNotValid) {
  for (const char* text : {"", "[DONE]", "[1,2]", "\"s\"", "42", "{\"a\":1} trailing", "{\"a\" 1}", "{a:1}",
                           "{\"a\":1,}", "{\"a\":}"}) {
    EXPECT_FALSE(scan_upstream_json(text).valid) << text;
  }
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

// Found by fuzzing: an upstream body that the light scan can walk but that is not valid JSON, with an
// escaped model (the rare path that parses), passes on unchanged instead of throwing.
TEST(UpstreamJsonScanRegression, EscapedModelInABrokenBodyPassesUnchanged) {
  const std::string body = R"({"model":"a\u0041","x":[1,,]})";
  const auto scan = scan_upstream_json(body);
  ASSERT_EQ(scan.model_type, JsonType::string);
  ASSERT_FALSE(scan.model_span) << "the escaped model takes the parsing path";
  std::string out;
  rewrite_model_field(body, scan, "alias", out);
  EXPECT_EQ(out, body);
}

// Found by fuzzing: a count far outside int64 (a double) is clamped, not cast (undefined behaviour).
TEST(UpstreamJsonScanRegression, HugeNumbersAreClamped) {
  const auto scan = scan_json(R"({"model":"m","messages":[],"max_tokens":1e300})");
  EXPECT_TRUE(scan.valid);
}

}  // namespace
}  // namespace switchyard

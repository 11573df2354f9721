#include "server/anthropic_adapter.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

SseEvent data_event(std::string data) {
  SseEvent event;
  event.data = std::move(data);
  event.has_data = true;
  return event;
}

TEST(AnthropicStreamAdapter, AnUpstreamErrorChunkEndsTheStreamWithoutMessageStop) {
  AnthropicStreamAdapter adapter("alias", "msg_1");
  std::string out;
  adapter.on_event(data_event(R"({"choices":[{"index":0,"delta":{"content":"hi"}}]})"), out);
  adapter.on_event(data_event(R"({"error":{"message":"boom","type":"server_error"}})"), out);
  adapter.on_event(data_event("[DONE]"), out);
  adapter.on_end(out);
  const auto error_at = out.find("event: error\n");
  ASSERT_NE(error_at, std::string::npos) << out;
  EXPECT_NE(out.find(R"("message":"boom")", error_at), std::string::npos);
  EXPECT_EQ(out.find("message_stop"), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.size() - 2), "\n\n");
}

TEST(AnthropicStreamAdapter, AStreamWithoutDoneStillEndsProperly) {
  AnthropicStreamAdapter adapter("alias", "msg_1");
  std::string out;
  adapter.on_event(data_event(R"({"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]})"), out);
  adapter.on_end(out);
  EXPECT_NE(out.find("event: message_delta"), std::string::npos);
  EXPECT_NE(out.find("event: message_stop"), std::string::npos);
}

TEST(AnthropicTranslation, UpstreamErrorsOfAnyShapeBecomeAnthropicErrors) {
  EXPECT_EQ(translate_upstream_error(500, R"({"error":{"message":"bad","type":"server_error"}})"),
            R"({"type":"error","error":{"type":"api_error","message":"bad"}})");
  EXPECT_EQ(translate_upstream_error(429, R"({"error":"slow down"})"),
            R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})");
  EXPECT_EQ(translate_upstream_error(503, "plain text"),
            R"({"type":"error","error":{"type":"overloaded_error","message":"plain text"}})");
  EXPECT_EQ(translate_upstream_error(502, ""), R"({"type":"error","error":{"type":"api_error","message":"Upstream error 502."}})");
}

}  // namespace
}  // namespace switchyard

#include "core/error.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace switchyard {
namespace {

TEST(ErrorMapping, StatusPerKind) {
  EXPECT_EQ(http_status(ErrorKind::invalid_json), 400);
  EXPECT_EQ(http_status(ErrorKind::missing_field), 400);
  EXPECT_EQ(http_status(ErrorKind::model_not_found), 404);
  EXPECT_EQ(http_status(ErrorKind::payload_too_large), 413);
  EXPECT_EQ(http_status(ErrorKind::upstream_unreachable), 502);
  EXPECT_EQ(http_status(ErrorKind::upstream_reset), 502);
  EXPECT_EQ(http_status(ErrorKind::upstream_timeout), 504);
  EXPECT_EQ(http_status(ErrorKind::shutting_down), 503);
  EXPECT_EQ(http_status(ErrorKind::internal), 500);
}

TEST(ErrorMapping, OpenAiBodyHasAllFourFields) {
  const auto body = openai_error_body({ErrorKind::model_not_found, "The model `x` does not exist.", "model"});
  const auto doc = boost::json::parse(body).as_object();
  const auto& error = doc.at("error").as_object();
  EXPECT_EQ(error.at("message").as_string(), "The model `x` does not exist.");
  EXPECT_EQ(error.at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(error.at("param").as_string(), "model");
  EXPECT_EQ(error.at("code").as_string(), "model_not_found");
}

TEST(ErrorMapping, NullParamWhenNoField) {
  const auto body = openai_error_body({ErrorKind::upstream_timeout, "Upstream 'a' timed out.", {}});
  const auto doc = boost::json::parse(body).as_object();
  const auto& error = doc.at("error").as_object();
  EXPECT_TRUE(error.at("param").is_null());
  EXPECT_EQ(error.at("type").as_string(), "upstream_error");
  EXPECT_EQ(error.at("code").as_string(), "upstream_timeout");
}

TEST(ErrorMapping, MessageIsEscaped) {
  const auto body = openai_error_body({ErrorKind::invalid_request, "bad \"quote\"\n and \\ slash", {}});
  const auto doc = boost::json::parse(body).as_object();
  EXPECT_EQ(doc.at("error").at("message").as_string(), "bad \"quote\"\n and \\ slash");
}

}  // namespace
}  // namespace switchyard

#include "protocol/sse_parser.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

std::vector<SseEvent> feed_all(SseParser& parser, const std::vector<std::string>& pieces) {
  std::vector<SseEvent> events;
  for (const auto& piece : pieces) parser.feed(piece, [&](const SseEvent& e) { events.push_back(e); });
  return events;
}

TEST(SseParser, SplitsEventsOnBlankLines) {
  SseParser parser;
  auto events = feed_all(parser, {"data: {\"a\":1}\n\ndata: [DONE]\n\n"});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_EQ(events[1].data, "[DONE]");
  EXPECT_FALSE(parser.mid_event());
}

TEST(SseParser, EventSplitAcrossReadsAtEveryByte) {
  const std::string stream = "event: message_start\ndata: {\"x\":\"y\"}\n\n: ping\n\ndata: 2\n\n";
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    SseParser parser;
    auto events = feed_all(parser, {stream.substr(0, cut), stream.substr(cut)});
    ASSERT_EQ(events.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(events[0].event, "message_start");
    EXPECT_EQ(events[0].data, "{\"x\":\"y\"}");
    EXPECT_FALSE(events[1].has_data);
    ASSERT_EQ(events[1].comments.size(), 1u);
    EXPECT_EQ(events[1].comments[0], " ping");
    EXPECT_EQ(events[2].data, "2");
  }
}

TEST(SseParser, CrLfAndCrLineEndsEvenWhenSplit) {
  const std::string stream = "data: a\r\n\r\ndata: b\r\rdata: c\n\n";
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    SseParser parser;
    auto events = feed_all(parser, {stream.substr(0, cut), stream.substr(cut)});
    ASSERT_EQ(events.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(events[0].data, "a");
    EXPECT_EQ(events[1].data, "b");
    EXPECT_EQ(events[2].data, "c");
  }
}

TEST(SseParser, MultipleDataLinesJoinWithNewline) {
  SseParser parser;
  auto events = feed_all(parser, {"data: one\ndata:two\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "one\ntwo");
}

TEST(SseParser, UnfinishedEventIsHeldNotEmitted) {
  SseParser parser;
  auto events = feed_all(parser, {"data: {\"partial\":"});
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(parser.mid_event());
  events = feed_all(parser, {"true}\n"});
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(parser.mid_event());
  events = feed_all(parser, {"\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "{\"partial\":true}");
}

}  // namespace
}  // namespace switchyard

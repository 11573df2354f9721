#include "protocol/ndjson_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

std::vector<std::string> feed_all(NdjsonParser& parser, const std::vector<std::string>& reads) {
  std::vector<std::string> lines;
  for (const auto& read : reads) parser.feed(read, [&](std::string_view line) { lines.emplace_back(line); });
  return lines;
}

TEST(NdjsonParser, WholeLinesInOneRead) {
  NdjsonParser parser;
  EXPECT_EQ(feed_all(parser, {"{\"a\":1}\n{\"b\":2}\n"}), (std::vector<std::string>{R"({"a":1})", R"({"b":2})"}));
  EXPECT_FALSE(parser.mid_line());
  EXPECT_EQ(parser.rest(), "");
}

TEST(NdjsonParser, LineSplitMidJsonAcrossReads) {
  NdjsonParser parser;
  EXPECT_EQ(feed_all(parser, {"{\"message\":{\"cont", "ent\":\"The\"}", "}\n{\"done\"", ":true}\n"}),
            (std::vector<std::string>{R"({"message":{"content":"The"}})", R"({"done":true})"}));
  EXPECT_FALSE(parser.mid_line());
}

TEST(NdjsonParser, OneByteAtATime) {
  NdjsonParser parser;
  const std::string text = "{\"x\":\"a b\"}\r\n\r\n{\"y\":[1,2]}\n";
  std::vector<std::string> reads;
  for (char c : text) reads.emplace_back(1, c);
  EXPECT_EQ(feed_all(parser, reads), (std::vector<std::string>{R"({"x":"a b"})", R"({"y":[1,2]})"}));
  EXPECT_FALSE(parser.mid_line());
}

TEST(NdjsonParser, CrlfIncludingCrAndLfInDifferentReads) {
  NdjsonParser parser;
  EXPECT_EQ(feed_all(parser, {"{\"a\":1}\r\n{\"b\":2}\r", "\n{\"c\":3}\r\n"}),
            (std::vector<std::string>{R"({"a":1})", R"({"b":2})", R"({"c":3})"}));
}

TEST(NdjsonParser, BlankLinesAreSkipped) {
  NdjsonParser parser;
  EXPECT_EQ(feed_all(parser, {"\n\n{\"a\":1}\n\r\n  \n", "\t\r\n{\"b\":2}\n\n"}),
            (std::vector<std::string>{R"({"a":1})", R"({"b":2})"}));
  EXPECT_FALSE(parser.mid_line());
}

TEST(NdjsonParser, LastLineWithoutNewlineIsTheRest) {
  NdjsonParser parser;
  EXPECT_EQ(feed_all(parser, {"{\"a\":1}\n{\"done\":", "true}"}), (std::vector<std::string>{R"({"a":1})"}));
  EXPECT_TRUE(parser.mid_line());
  EXPECT_EQ(parser.rest(), R"({"done":true})");
  // The newline arrives after all: the line comes out whole and nothing is left.
  EXPECT_EQ(feed_all(parser, {"\n"}), (std::vector<std::string>{R"({"done":true})"}));
  EXPECT_FALSE(parser.mid_line());
}

TEST(NdjsonParser, TrailingCrOrBlanksAreNoRest) {
  NdjsonParser parser;
  EXPECT_TRUE(feed_all(parser, {"{\"a\":1}\r"}).empty());
  EXPECT_EQ(parser.rest(), R"({"a":1})");
  NdjsonParser blanks;
  EXPECT_TRUE(feed_all(blanks, {"{\"a\":1}\n  \r"}).size() == 1);
  EXPECT_FALSE(blanks.mid_line());
  EXPECT_EQ(blanks.rest(), "");
}

TEST(NdjsonParser, LongLineBuiltFromManyReads) {
  NdjsonParser parser;
  std::string big = "{\"response\":\"" + std::string(10000, 'x') + "\"}";
  std::vector<std::string> reads;
  for (std::size_t i = 0; i < big.size(); i += 7) reads.push_back(big.substr(i, 7));
  reads.emplace_back("\n");
  const auto lines = feed_all(parser, reads);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], big);
}

}  // namespace
}  // namespace switchyard

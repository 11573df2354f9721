#include "upstream/body_decoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

struct Decoded {
  std::string body;
  error_code ec;
};

// Feeds `pieces` one after another, as separate socket reads.
Decoded decode_pieces(BodyDecoder& decoder, const std::vector<std::string>& pieces) {
  Decoded result;
  for (auto piece : pieces) {
    const auto n = decoder.decode(piece.data(), piece.size(), result.ec);
    result.body.append(piece.data(), n);
    if (result.ec) break;
  }
  return result;
}

const std::string kChunked = "5\r\nhello\r\n7;name=value\r\n, world\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
const std::string kChunkedBody = "hello, worldabcdefghijklmnopqrstuvwxyz";

TEST(BodyDecoder, ChunkedInOneRead) {
  BodyDecoder decoder(BodyDecoder::Framing::chunked, 0);
  const auto result = decode_pieces(decoder, {kChunked});
  EXPECT_FALSE(result.ec);
  EXPECT_EQ(result.body, kChunkedBody);
  EXPECT_TRUE(decoder.done());
  EXPECT_TRUE(decoder.reusable());
}

TEST(BodyDecoder, ChunkedSplitAtEveryByte) {
  for (std::size_t cut = 1; cut < kChunked.size(); ++cut) {
    BodyDecoder decoder(BodyDecoder::Framing::chunked, 0);
    const auto result = decode_pieces(decoder, {kChunked.substr(0, cut), kChunked.substr(cut)});
    EXPECT_FALSE(result.ec) << "cut at " << cut;
    EXPECT_EQ(result.body, kChunkedBody) << "cut at " << cut;
    EXPECT_TRUE(decoder.done()) << "cut at " << cut;
  }
}

TEST(BodyDecoder, ChunkedOneByteAtATime) {
  BodyDecoder decoder(BodyDecoder::Framing::chunked, 0);
  std::vector<std::string> bytes;
  for (char c : kChunked) bytes.emplace_back(1, c);
  const auto result = decode_pieces(decoder, bytes);
  EXPECT_FALSE(result.ec);
  EXPECT_EQ(result.body, kChunkedBody);
  EXPECT_TRUE(decoder.done());
}

TEST(BodyDecoder, ChunkedWithTrailersAndBareLineFeeds) {
  BodyDecoder decoder(BodyDecoder::Framing::chunked, 0);
  const auto result = decode_pieces(decoder, {"3\nabc\n0\r\nX-Trailer: 1\r\nOther: 2\r\n\r\n"});
  EXPECT_FALSE(result.ec);
  EXPECT_EQ(result.body, "abc");
  EXPECT_TRUE(decoder.done());
}

TEST(BodyDecoder, UnfinishedChunkedBodyIsTruncated) {
  BodyDecoder decoder(BodyDecoder::Framing::chunked, 0);
  const auto result = decode_pieces(decoder, {"5\r\nhel"});
  EXPECT_EQ(result.body, "hel");
  EXPECT_FALSE(decoder.done());
  EXPECT_EQ(decoder.end_of_input(), http::error::partial_message);
}

TEST(BodyDecoder, MalformedChunkSizesAreErrors) {
  for (const std::string bad : {"zz\r\n", "\r\n", "5\r\nhelloXX", "5\rX", "1234567890123456\r\n"}) {
    BodyDecoder decoder(BodyDecoder::Framing::chunked, 0);
    const auto result = decode_pieces(decoder, {bad});
    EXPECT_EQ(result.ec, http::error::bad_chunk) << bad;
  }
}

TEST(BodyDecoder, BytesAfterTheLastChunkMakeTheConnectionUnusable) {
  BodyDecoder decoder(BodyDecoder::Framing::chunked, 0);
  const auto result = decode_pieces(decoder, {"2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"});
  EXPECT_FALSE(result.ec);
  EXPECT_EQ(result.body, "ok");
  EXPECT_TRUE(decoder.done());
  EXPECT_TRUE(decoder.trailing_bytes());
  EXPECT_FALSE(decoder.reusable());
}

TEST(BodyDecoder, ContentLengthStopsAtTheLength) {
  BodyDecoder decoder(BodyDecoder::Framing::length, 10);
  auto result = decode_pieces(decoder, {"01234", "567"});
  EXPECT_EQ(result.body, "01234567");
  EXPECT_FALSE(decoder.done());
  EXPECT_EQ(decoder.end_of_input(), http::error::partial_message);
  result = decode_pieces(decoder, {"89extra"});
  EXPECT_EQ(result.body, "89");
  EXPECT_TRUE(decoder.done());
  EXPECT_TRUE(decoder.trailing_bytes());
}

TEST(BodyDecoder, UntilCloseEndsAtEndOfInputAndIsNotReusable) {
  BodyDecoder decoder(BodyDecoder::Framing::until_close, 0);
  const auto result = decode_pieces(decoder, {"data: 1\n\n", "data: 2\n\n"});
  EXPECT_EQ(result.body, "data: 1\n\ndata: 2\n\n");
  EXPECT_FALSE(decoder.done());
  EXPECT_FALSE(decoder.end_of_input());
  EXPECT_TRUE(decoder.done());
  EXPECT_FALSE(decoder.reusable());
}

TEST(BodyDecoder, EmptyBodyIsDoneAtOnce) {
  BodyDecoder empty(BodyDecoder::Framing::empty, 0);
  EXPECT_TRUE(empty.done());
  EXPECT_TRUE(empty.reusable());
  BodyDecoder zero_length(BodyDecoder::Framing::length, 0);
  EXPECT_TRUE(zero_length.done());
}

}  // namespace
}  // namespace switchyard

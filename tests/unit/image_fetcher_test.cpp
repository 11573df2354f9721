#include "upstream/image_fetcher.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace switchyard {
namespace {

using namespace std::chrono_literals;

// A PNG signature and IHDR start, with the NUL bytes and high bytes a text-only path would mangle.
const std::string kPng("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89", 33);
// OpenSSL's own encoder is what is under test only through the data URL; this is kPng in base64.
const std::string kPngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ";

std::string response_head(std::string_view status, std::string_view content_type, std::string_view extra = {}) {
  std::string head = "HTTP/1.1 " + std::string(status) + "\r\n";
  if (!content_type.empty()) head += "Content-Type: " + std::string(content_type) + "\r\n";
  head += std::string(extra);
  return head;
}

std::string with_length(std::string head, std::string_view body) {
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + std::string(body);
}

std::string chunked(const std::vector<std::string>& chunks) {
  std::string body;
  for (const auto& chunk : chunks) {
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
    body += size + chunk + "\r\n";
  }
  return body + "0\r\n\r\n";
}

// An HTTP/1.1 server on 127.0.0.1, port 0, running in the test's io_context. It answers by path;
// paths it should never answer keep their connection open and silent.
template <typename Stream>
class TestServer {
 public:
  TestServer(asio::io_context& io, ssl::context* tls = nullptr)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), tls_(tls) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(std::string_view path) const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }

  int connections = 0;
  std::vector<std::string> targets;                 // request targets, in order
  std::vector<http::request<http::string_body>> requests;

 private:
  Task<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
      if (ec) co_return;
      ++connections;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  Task<void> serve(tcp::socket socket) {
    auto stream = std::make_shared<Stream>(make_stream(std::move(socket)));
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      auto [ec] = co_await stream->async_handshake(ssl::stream_base::server, use_nothrow);
      if (ec) co_return;
    }
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [read_ec, n] = co_await http::async_read(*stream, buffer, request, use_nothrow);
    if (read_ec) co_return;
    const std::string target(request.target());
    targets.push_back(target);
    requests.push_back(request);
    const std::string path = target.substr(0, target.find('?'));
    std::string answer;
    bool hold = false;  // keep the connection open after the answer
    if (path == "/image.png") {
      answer = with_length(response_head("200 OK", "image/png"), kPng);
    } else if (path == "/photo.jpg") {
      answer = with_length(response_head("200 OK", "Image/JPEG; charset=binary"), "jpeg bytes");
    } else if (path == "/chunked.gif") {
      answer = response_head("200 OK", "image/gif", "Transfer-Encoding: chunked\r\n\r\n") +
               chunked({"GIF89a", std::string(500, 'g')});
    } else if (path == "/close-delimited.webp") {
      answer = response_head("200 OK", "image/webp", "Connection: close\r\n\r\n") + "RIFF webp";
    } else if (path == "/big.png") {
      // Announces 5000 bytes and sends none: reading the body would wait for the timeout.
      answer = response_head("200 OK", "image/png", "Content-Length: 5000\r\n\r\n");
      hold = true;
    } else if (path == "/huge.png") {
      answer = response_head("200 OK", "image/png", "Content-Length: 26214400\r\n\r\n");
      hold = true;
    } else if (path == "/chunked-big.png") {
      answer = response_head("200 OK", "image/png", "Transfer-Encoding: chunked\r\n\r\n") +
               chunked({std::string(600, 'a'), std::string(600, 'b'), std::string(600, 'c')});
    } else if (path == "/page.html") {
      answer = with_length(response_head("200 OK", "text/html; charset=utf-8"), "<html></html>");
    } else if (path == "/icon.svg") {
      answer = with_length(response_head("200 OK", "image/svg+xml"), "<svg/>");
    } else if (path == "/no-type") {
      answer = with_length(response_head("200 OK", ""), "bytes");
    } else if (path == "/empty.png") {
      answer = with_length(response_head("200 OK", "image/png"), "");
    } else if (path == "/redirect") {
      answer = with_length(response_head("302 Found", "text/plain", "Location: /image.png?from=redirect\r\n"), "");
    } else if (path == "/redirect-chain") {
      answer = with_length(response_head("301 Moved Permanently", "", "Location: " + url("/redirect") + "\r\n"), "");
    } else if (path == "/loop") {
      answer = with_length(response_head("307 Temporary Redirect", "", "Location: /loop\r\n"), "");
    } else if (path == "/to-ftp") {
      answer = with_length(response_head("308 Permanent Redirect", "", "Location: ftp://127.0.0.1/x.png\r\n"), "");
    } else if (path == "/no-location") {
      answer = with_length(response_head("302 Found", ""), "");
    } else if (path == "/silent") {
      hold = true;
    } else {
      answer = with_length(response_head("404 Not Found", "text/plain"), "not found");
    }
    if (!answer.empty()) {
      auto [write_ec, written] = co_await asio::async_write(*stream, asio::buffer(answer), use_nothrow);
      if (write_ec) co_return;
    }
    if (hold) {
      held_.push_back(stream);
      co_return;
    }
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      auto [shutdown_ec] = co_await stream->async_shutdown(use_nothrow);
    } else {
      error_code ignored;
      stream->shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Stream make_stream(tcp::socket socket) {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      return socket;
    } else {
      return Stream(std::move(socket), *tls_);
    }
  }

  tcp::acceptor acceptor_;
  ssl::context* tls_;
  std::vector<std::shared_ptr<Stream>> held_;  // connections deliberately left unanswered
};

using PlainServer = TestServer<tcp::socket>;
using TlsServer = TestServer<ssl::stream<tcp::socket>>;

// Runs `task` on `io` (where the test server runs too) until it completes.
template <typename T>
T run(asio::io_context& io, Task<T> task) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr error, T value) {
    if (error) std::rethrow_exception(error);
    result = std::move(value);
  });
  while (!result && io.run_one() != 0) {
  }
  EXPECT_TRUE(result.has_value());
  return result.value_or(T{});
}

struct Fetch {
  bool ok = false;
  FetchedImage image;
  std::string error;
  std::chrono::milliseconds elapsed{};
};

Task<bool> fetch_into(std::string url, ImageFetchLimits limits, ssl::context& tls, Fetch& fetch) {
  co_return co_await fetch_image(url, limits, tls, fetch.image, fetch.error);
}

ImageFetchLimits loopback_limits() {
  ImageFetchLimits limits;
  limits.allow_private_addresses = true;
  limits.timeout = 5000ms;
  return limits;
}

class ImageFetcher : public ::testing::Test {
 protected:
  Fetch fetch(const std::string& url, const ImageFetchLimits& limits) { return fetch_with(url, limits, client_tls_); }

  Fetch fetch_with(const std::string& url, const ImageFetchLimits& limits, ssl::context& tls) {
    Fetch result;
    const auto start = std::chrono::steady_clock::now();
    result.ok = run(io_, fetch_into(url, limits, tls, result));
    result.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return result;
  }

  asio::io_context io_;
  ssl::context client_tls_{ssl::context::tls_client};
  PlainServer server_{io_};
};

TEST_F(ImageFetcher, FetchesAPngFromLoopbackWhenAllowed) {
  const auto result = fetch(server_.url("/image.png"), loopback_limits());
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.image.media_type, "image/png");
  EXPECT_EQ(result.image.bytes, kPng);
  ASSERT_EQ(server_.requests.size(), 1u);
  const auto& request = server_.requests[0];
  EXPECT_EQ(request.method(), http::verb::get);
  EXPECT_EQ(request.target(), "/image.png");
  EXPECT_EQ(request[http::field::user_agent], "switchyard");
  EXPECT_EQ(request[http::field::accept], "image/*");
  EXPECT_EQ(request[http::field::host], "127.0.0.1:" + std::to_string(server_.port()));
}

TEST_F(ImageFetcher, MediaTypeIsNormalizedAndParametersIgnored) {
  const auto result = fetch(server_.url("/photo.jpg"), loopback_limits());
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.image.media_type, "image/jpeg");
  EXPECT_EQ(result.image.bytes, "jpeg bytes");
}

TEST_F(ImageFetcher, ChunkedAndCloseDelimitedBodiesWithinTheLimit) {
  auto result = fetch(server_.url("/chunked.gif"), loopback_limits());
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.image.media_type, "image/gif");
  EXPECT_EQ(result.image.bytes, "GIF89a" + std::string(500, 'g'));

  result = fetch(server_.url("/close-delimited.webp"), loopback_limits());
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.image.media_type, "image/webp");
  EXPECT_EQ(result.image.bytes, "RIFF webp");
}

TEST_F(ImageFetcher, ResolvesHostNamesThroughTheResolver) {
  // localhost comes from /etc/hosts; ::1 may come first and be refused (the server is IPv4 only).
  const auto url = "http://localhost:" + std::to_string(server_.port()) + "/image.png";
  const auto result = fetch(url, loopback_limits());
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.image.bytes, kPng);
  ASSERT_EQ(server_.requests.size(), 1u);
  EXPECT_EQ(server_.requests[0][http::field::host], "localhost:" + std::to_string(server_.port()));
}

TEST_F(ImageFetcher, RefusesLoopbackWhenPrivateAddressesAreNotAllowed) {
  auto limits = loopback_limits();
  limits.allow_private_addresses = false;
  const auto port = std::to_string(server_.port());
  // Literal addresses, and names that only the resolver turns into loopback (never dialled either).
  const std::vector<std::string> urls = {
      "http://127.0.0.1:" + port + "/image.png",
      "http://localhost:" + port + "/image.png",
      "http://2130706433:" + port + "/image.png",  // 127.0.0.1 as one decimal number
      "http://0x7f.1:" + port + "/image.png",
      "http://[::1]:" + port + "/image.png",
      "http://[::ffff:127.0.0.1]:" + port + "/image.png",
  };
  for (const auto& url : urls) {
    const auto result = fetch(url, limits);
    EXPECT_FALSE(result.ok) << url;
    EXPECT_EQ(result.error, "Image URL " + url + ": resolves to a private address (fetching it is disabled)");
  }
  EXPECT_EQ(server_.connections, 0);
}

TEST_F(ImageFetcher, ErrorMessagesLeaveOutQueryFragmentAndUserInfo) {
  const auto url = "http://user:secret@127.0.0.1:" + std::to_string(server_.port()) + "/missing?key=secret#frag";
  const auto result = fetch(url, loopback_limits());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "Image URL http://127.0.0.1:" + std::to_string(server_.port()) + "/missing: HTTP 404");
  ASSERT_EQ(server_.targets.size(), 1u);
  EXPECT_EQ(server_.targets[0], "/missing?key=secret");  // the query still goes to the server
}

TEST_F(ImageFetcher, RefusesContentLengthOverTheLimitBeforeReadingTheBody) {
  auto limits = loopback_limits();
  limits.max_bytes = 1000;
  limits.timeout = 3000ms;
  const auto result = fetch(server_.url("/big.png"), limits);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "Image URL " + server_.url("/big.png") + ": the response is 4.9 KB, over the 1000 bytes limit");
  EXPECT_LT(result.elapsed, 1500ms);  // did not wait for the body that never comes
}

TEST_F(ImageFetcher, LimitMessagesInKilobytesAndMegabytes) {
  auto limits = loopback_limits();
  limits.max_bytes = 2048;
  auto result = fetch(server_.url("/big.png"), limits);
  EXPECT_EQ(result.error, "Image URL " + server_.url("/big.png") + ": the response is 4.9 KB, over the 2 KB limit");

  limits.max_bytes = ImageFetchLimits{}.max_bytes;
  result = fetch(server_.url("/huge.png"), limits);
  EXPECT_EQ(result.error, "Image URL " + server_.url("/huge.png") + ": the response is 25 MB, over the 20 MB limit");
}

TEST_F(ImageFetcher, CutsAChunkedBodyAtTheLimit) {
  auto limits = loopback_limits();
  limits.max_bytes = 1000;
  const auto result = fetch(server_.url("/chunked-big.png"), limits);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "Image URL " + server_.url("/chunked-big.png") + ": the response is over the 1000 bytes limit");

  limits.max_bytes = 1800;  // exactly the body: accepted
  const auto whole = fetch(server_.url("/chunked-big.png"), limits);
  ASSERT_TRUE(whole.ok) << whole.error;
  EXPECT_EQ(whole.image.bytes, std::string(600, 'a') + std::string(600, 'b') + std::string(600, 'c'));
}

TEST_F(ImageFetcher, RefusesContentTypesThatAreNotSupportedImages) {
  const std::map<std::string, std::string> expected = {
      {"/page.html", "Content-Type text/html is not an image"},
      {"/icon.svg", "Content-Type image/svg+xml is not a supported image type (png, jpeg, gif, webp)"},
      {"/no-type", "the response has no Content-Type"},
      {"/empty.png", "the response is empty"},
  };
  for (const auto& [path, reason] : expected) {
    const auto result = fetch(server_.url(path), loopback_limits());
    EXPECT_FALSE(result.ok) << path;
    EXPECT_EQ(result.error, "Image URL " + server_.url(path) + ": " + reason);
  }
}

TEST_F(ImageFetcher, RefusesStatusesOtherThan200) {
  const auto result = fetch(server_.url("/nothing-here.png"), loopback_limits());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "Image URL " + server_.url("/nothing-here.png") + ": HTTP 404");
}

TEST_F(ImageFetcher, FollowsRedirects) {
  const auto result = fetch(server_.url("/redirect-chain"), loopback_limits());
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.image.media_type, "image/png");
  EXPECT_EQ(result.image.bytes, kPng);
  EXPECT_EQ(server_.targets, (std::vector<std::string>{"/redirect-chain", "/redirect", "/image.png?from=redirect"}));
}

TEST_F(ImageFetcher, RedirectsBeyondTheLimitAreRefused) {
  auto limits = loopback_limits();
  limits.max_redirects = 2;
  const auto result = fetch(server_.url("/loop"), limits);
  EXPECT_FALSE(result.ok);
  // A redirect back to the URL itself is not named twice.
  EXPECT_EQ(result.error, "Image URL " + server_.url("/loop") + ": too many redirects (more than 2)");
  EXPECT_EQ(server_.targets.size(), 3u);  // the first request and two redirects

  limits.max_redirects = 1;  // a chain of two is one too many
  const auto chain = fetch(server_.url("/redirect-chain"), limits);
  EXPECT_FALSE(chain.ok);
  EXPECT_EQ(chain.error, "Image URL " + server_.url("/redirect-chain") + " (redirected to " + server_.url("/redirect") +
                             "): too many redirects (more than 1)");
}

TEST_F(ImageFetcher, EachRedirectIsCheckedAgain) {
  auto result = fetch(server_.url("/to-ftp"), loopback_limits());
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "Image URL " + server_.url("/to-ftp") +
                              " (redirected to ftp://127.0.0.1/x.png): only http and https URLs can be fetched");

  result = fetch(server_.url("/no-location"), loopback_limits());
  EXPECT_EQ(result.error, "Image URL " + server_.url("/no-location") + ": HTTP 302 without a Location");
}

TEST_F(ImageFetcher, TimesOutAServerThatNeverAnswers) {
  auto limits = loopback_limits();
  limits.timeout = 200ms;
  const auto result = fetch(server_.url("/silent"), limits);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, "Image URL " + server_.url("/silent") + ": timed out after 200 ms");
  EXPECT_GE(result.elapsed, 190ms);
  EXPECT_LT(result.elapsed, 1000ms);
}

TEST_F(ImageFetcher, TheTimeoutCoversTheBodyToo) {
  auto limits = loopback_limits();
  limits.timeout = 200ms;  // the head arrives at once, the announced body never
  const auto result = fetch(server_.url("/big.png"), limits);
  EXPECT_EQ(result.error, "Image URL " + server_.url("/big.png") + ": timed out after 200 ms");
  EXPECT_LT(result.elapsed, 1000ms);
}

TEST_F(ImageFetcher, RefusesOtherSchemesAndInvalidUrls) {
  EXPECT_EQ(fetch("ftp://example.com/x.png", loopback_limits()).error,
            "Image URL ftp://example.com/x.png: only http and https URLs can be fetched");
  EXPECT_EQ(fetch("http://exa mple.com/x.png?k=v", loopback_limits()).error,
            "Image URL http://exa mple.com/x.png: not a valid URL");
  EXPECT_EQ(server_.connections, 0);
}

TEST(ImageFetcherAddresses, PrivateAddressTable) {
  const std::vector<std::pair<std::string, bool>> table = {
      // IPv4
      {"8.8.8.8", false},
      {"1.1.1.1", false},
      {"93.184.216.34", false},
      {"172.15.255.255", false},
      {"172.32.0.0", false},
      {"100.63.255.255", false},
      {"100.128.0.0", false},
      {"192.0.1.1", false},
      {"198.20.0.1", false},
      {"223.255.255.255", false},
      {"127.0.0.1", true},
      {"127.255.255.254", true},
      {"0.0.0.0", true},
      {"0.1.2.3", true},
      {"10.0.0.1", true},
      {"10.255.255.255", true},
      {"172.16.0.1", true},
      {"172.31.255.255", true},
      {"192.168.1.1", true},
      {"169.254.169.254", true},
      {"100.64.0.1", true},
      {"100.127.255.255", true},
      {"192.0.0.8", true},
      {"198.18.0.1", true},
      {"198.19.255.255", true},
      {"224.0.0.1", true},
      {"239.255.255.250", true},
      {"240.0.0.1", true},
      {"255.255.255.255", true},
      // IPv6
      {"2606:4700::1", false},
      {"2001:4860:4860::8888", false},
      {"::", true},
      {"::1", true},
      {"fc00::1", true},
      {"fd12:3456:789a::1", true},
      {"fe80::1", true},
      {"febf::1", true},
      {"ff02::1", true},
      {"ff0e::1", true},
      // IPv4-mapped and NAT64: judged by the IPv4 address inside
      {"::ffff:127.0.0.1", true},
      {"::ffff:10.1.2.3", true},
      {"::ffff:169.254.169.254", true},
      {"::ffff:8.8.8.8", false},
      {"64:ff9b::7f00:1", true},
      {"64:ff9b::192.168.0.1", true},
      {"64:ff9b::8.8.8.8", false},
      {"2002:7f00:1::1", true},  // 6to4 of 127.0.0.1
      {"2002:808:808::1", false},
  };
  for (const auto& [text, is_private] : table)
    EXPECT_EQ(is_private_address(asio::ip::make_address(text)), is_private) << text;
}

// A self-signed certificate for IP 127.0.0.1, made fresh for the TLS tests.
struct SelfSigned {
  std::string certificate;
  std::string key;
};

SelfSigned make_self_signed() {
  SelfSigned result;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("switchyard test"), -1,
                             -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "IP:127.0.0.1");
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert, key, EVP_sha256());
  auto to_pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return pem;
  };
  result.certificate = to_pem([&](BIO* bio) { PEM_write_bio_X509(bio, cert); });
  result.key = to_pem([&](BIO* bio) { PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(cert);
  EVP_PKEY_free(key);
  return result;
}

class ImageFetcherTls : public ::testing::Test {
 protected:
  ImageFetcherTls() {
    server_tls_.use_certificate_chain(asio::buffer(certificate_.certificate));
    server_tls_.use_private_key(asio::buffer(certificate_.key), ssl::context::pem);
    trusting_.add_certificate_authority(asio::buffer(certificate_.certificate));
  }

  Fetch fetch(const std::string& url, ssl::context& tls) {
    Fetch result;
    result.ok = run(io_, fetch_into(url, loopback_limits(), tls, result));
    return result;
  }

  SelfSigned certificate_ = make_self_signed();
  asio::io_context io_;
  ssl::context server_tls_{ssl::context::tls_server};
  ssl::context trusting_{ssl::context::tls_client};
  ssl::context untrusting_{ssl::context::tls_client};
  TlsServer server_{io_, &server_tls_};
};

TEST_F(ImageFetcherTls, FetchesOverHttpsWithAVerifiedCertificate) {
  const auto result = fetch(server_.url("/image.png"), trusting_);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.image.media_type, "image/png");
  EXPECT_EQ(result.image.bytes, kPng);

  const auto close_delimited = fetch(server_.url("/close-delimited.webp"), trusting_);
  ASSERT_TRUE(close_delimited.ok) << close_delimited.error;
  EXPECT_EQ(close_delimited.image.bytes, "RIFF webp");
}

TEST_F(ImageFetcherTls, RefusesAnUntrustedCertificate) {
  const auto result = fetch(server_.url("/image.png"), untrusting_);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.error.starts_with("Image URL " + server_.url("/image.png") + ": TLS handshake failed ("))
      << result.error;
  EXPECT_NE(result.error.find("certificate verify failed"), std::string::npos) << result.error;
  EXPECT_TRUE(server_.targets.empty());
}

TEST_F(ImageFetcher, HttpsAgainstAPlainServerFailsInTheHandshake) {
  auto url = server_.url("/image.png");
  url.replace(0, 4, "https");
  const auto result = fetch(url, loopback_limits());
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.error.starts_with("Image URL " + url + ": TLS handshake failed (")) << result.error;
}

// inline_remote_images

Task<bool> inline_into(boost::json::object& request, ImageFetchLimits limits, ssl::context& tls, ApiError& error) {
  co_return co_await inline_remote_images(request, limits, tls, error);
}

TEST_F(ImageFetcher, InlinesHttpImageUrlsAndLeavesDataUrlsAlone) {
  auto request = boost::json::parse(R"({
    "model": "llava",
    "messages": [
      {"role": "system", "content": "Describe images."},
      {"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": ")" + server_.url("/image.png") + R"(", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": ")" + server_.url("/image.png") + R"("}}
      ]}
    ]
  })").as_object();
  ApiError error;
  ASSERT_TRUE(run(io_, inline_into(request, loopback_limits(), client_tls_, error))) << error.message;
  const auto expected = boost::json::parse(R"({
    "model": "llava",
    "messages": [
      {"role": "system", "content": "Describe images."},
      {"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,)" + kPngBase64 + R"(", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,)" + kPngBase64 + R"("}}
      ]}
    ]
  })");
  EXPECT_EQ(boost::json::value(request), expected);
  EXPECT_EQ(server_.targets.size(), 1u);  // the same URL twice is fetched once
}

TEST_F(ImageFetcher, InlineFailureNamesTheMessageAndPart) {
  auto request = boost::json::parse(R"({
    "messages": [
      {"role": "user", "content": "hi"},
      {"role": "user", "content": [
        {"type": "text", "text": "and this?"},
        {"type": "image_url", "image_url": {"url": ")" + server_.url("/page.html?sig=abc") + R"("}}
      ]}
    ]
  })").as_object();
  const auto before = request;
  ApiError error;
  EXPECT_FALSE(run(io_, inline_into(request, loopback_limits(), client_tls_, error)));
  EXPECT_EQ(error.kind, ErrorKind::invalid_request);
  EXPECT_EQ(error.message, "Image URL " + server_.url("/page.html") + ": Content-Type text/html is not an image");
  EXPECT_EQ(error.param, "messages[1].content[1].image_url");
  EXPECT_EQ(request, before);
}

TEST_F(ImageFetcher, InlineLeavesRequestsWithoutRemoteImagesUntouched) {
  auto request = boost::json::parse(R"({
    "messages": [
      {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0lG"}}]},
      {"role": "user", "content": [{"type": "image_url", "image_url": 42}, {"type": "image_url"}, 7, "text"]},
      "not a message",
      {"role": "user"}
    ]
  })").as_object();
  const auto before = request;
  ApiError error;
  EXPECT_TRUE(run(io_, inline_into(request, loopback_limits(), client_tls_, error)));
  EXPECT_EQ(request, before);
  EXPECT_EQ(server_.connections, 0);

  boost::json::object no_messages{{"model", "m"}};
  EXPECT_TRUE(run(io_, inline_into(no_messages, loopback_limits(), client_tls_, error)));
}

}  // namespace
}  // namespace switchyard

#include "upstream/image_fetcher.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;

// One deadline for the whole fetch: the resolver, every hop's connection, its TLS handshake, head and
// body. Unlike core/Deadline it closes the socket in use instead of cancelling it: a composed
// operation (TLS handshake, HTTP read) caught between two of its steps would start its next step on a
// cancelled but open socket and could wait forever, while on a closed one every further step fails
// at once. The resolver, which cannot be interrupted (getaddrinfo runs on Asio's resolver thread), is
// raced against the deadline and abandoned when it loses.
class FetchDeadline {
 public:
  FetchDeadline(const asio::any_io_executor& executor, std::chrono::milliseconds timeout)
      : executor_(executor), state_(std::make_shared<State>(executor)) {
    state_->at = Clock::now() + timeout;
    state_->timer.expires_at(state_->at);
    state_->timer.async_wait([state = state_](const error_code& ec) {
      if (ec) return;  // the fetch ended first
      state->expired = true;
      if (state->socket) {
        error_code ignored;
        state->socket->close(ignored);
      }
    });
  }
  ~FetchDeadline() {
    state_->socket = nullptr;
    state_->timer.cancel();
  }
  FetchDeadline(const FetchDeadline&) = delete;
  FetchDeadline& operator=(const FetchDeadline&) = delete;

  // Also true in the moment between the deadline passing and the timer's handler running, so no
  // operation starts after it.
  bool expired() const { return state_->expired || Clock::now() >= state_->at; }

  // The socket the deadline closes on expiry; null when none is in use.
  void guard(tcp::socket* socket) { state_->socket = socket; }

  Task<std::tuple<error_code, tcp::resolver::results_type>> resolve(const std::string& host,
                                                                    const std::string& service) {
    // Shared with the resolver's handler, which may complete after the fetch has given up on it.
    struct Lookup {
      explicit Lookup(const asio::any_io_executor& executor) : resolver(executor), wake(executor) {}
      tcp::resolver resolver;
      asio::steady_timer wake;  // expires at the deadline; the resolver's handler cancels it
      bool done = false;
      error_code ec;
      tcp::resolver::results_type results;
    };
    using Result = std::tuple<error_code, tcp::resolver::results_type>;
    if (expired()) co_return Result{make_error_code(beast::error::timeout), {}};
    auto lookup = std::make_shared<Lookup>(executor_);
    lookup->wake.expires_at(state_->at);
    lookup->resolver.async_resolve(host, service,
                                   [lookup](const error_code& ec, tcp::resolver::results_type results) {
                                     lookup->done = true;
                                     lookup->ec = ec;
                                     lookup->results = std::move(results);
                                     lookup->wake.cancel();
                                   });
    // Woken by the resolver (cancelled) or by the deadline (expired); `done` tells which.
    co_await lookup->wake.async_wait(use_nothrow);
    if (!lookup->done) {
      lookup->resolver.cancel();
      co_return Result{make_error_code(beast::error::timeout), {}};
    }
    co_return Result{lookup->ec, std::move(lookup->results)};
  }

 private:
  struct State {
    explicit State(const asio::any_io_executor& executor) : timer(executor) {}
    asio::steady_timer timer;
    Clock::time_point at;
    tcp::socket* socket = nullptr;
    bool expired = false;
  };
  asio::any_io_executor executor_;
  // Shared with the timer's handler, which may run after this object is gone.
  std::shared_ptr<State> state_;
};

// Points the deadline at one hop's socket for as long as the hop lasts.
class SocketGuard {
 public:
  SocketGuard(FetchDeadline& deadline, tcp::socket& socket) : deadline_(deadline) { deadline_.guard(&socket); }
  ~SocketGuard() { deadline_.guard(nullptr); }
  SocketGuard(const SocketGuard&) = delete;
  SocketGuard& operator=(const SocketGuard&) = delete;

 private:
  FetchDeadline& deadline_;
};

// Where one GET goes, taken from a checked URL.
struct Target {
  bool tls = false;
  std::string host;                         // resolver input, SNI and certificate name; no brackets
  std::optional<asio::ip::address> literal; // the host when it is an IP address
  std::uint16_t port = 0;
  std::string host_header;
  std::string path;  // path and query
};

// What one GET ended with.
struct Hop {
  enum class Outcome { image, redirect, failed };
  Outcome outcome = Outcome::failed;
  std::string text;  // the failure's reason, or the redirect's Location
};

Hop failed(std::string reason) { return Hop{Hop::Outcome::failed, std::move(reason)}; }

Hop timed_out(const ImageFetchLimits& limits) {
  return failed("timed out after " + std::to_string(limits.timeout.count()) + " ms");
}

// The URL as error messages show it: no query or fragment (they may carry tokens), no user info
// (it may carry a password), and not endlessly long.
std::string shown_url(std::string_view raw) {
  constexpr std::size_t kMaxShown = 200;
  std::string shown;
  if (auto parsed = boost::urls::parse_uri(raw)) {
    boost::urls::url url(*parsed);
    url.remove_userinfo();
    url.remove_query();
    url.remove_fragment();
    shown = std::string(url.buffer());
  } else {
    shown = std::string(raw.substr(0, raw.find_first_of("?#")));
    if (const auto at = shown.find('@'); at != std::string::npos) shown.erase(0, at + 1);
  }
  if (shown.size() > kMaxShown) shown = shown.substr(0, kMaxShown) + "...";
  return shown;
}

// "20 MB", "1.5 KB", "900 bytes": limits are configured in binary units, so they print as round numbers.
std::string describe_size(std::uint64_t bytes) {
  const auto scaled = [](std::uint64_t value, double unit, const char* suffix) {
    char text[48];
    std::snprintf(text, sizeof(text), "%.1f", static_cast<double>(value) / unit);
    std::string result(text);
    if (result.ends_with(".0")) result.resize(result.size() - 2);
    return result + suffix;
  };
  if (bytes >= 1024 * 1024) return scaled(bytes, 1024.0 * 1024.0, " MB");
  if (bytes >= 1024) return scaled(bytes, 1024.0, " KB");
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(text[i]) != ascii_lower(prefix[i])) return false;
  return true;
}

// The media type of an accepted image Content-Type, or empty with `reason` set.
std::string image_media_type(std::string_view content_type, std::string& reason) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  std::string media;
  media.reserve(type.size());
  for (char c : type) media.push_back(ascii_lower(c));
  if (media.empty()) {
    reason = "the response has no Content-Type";
    return {};
  }
  if (!media.starts_with("image/")) {
    reason = "Content-Type " + media + " is not an image";
    return {};
  }
  if (media == "image/jpg") media = "image/jpeg";  // seen in the wild
  if (media != "image/png" && media != "image/jpeg" && media != "image/gif" && media != "image/webp") {
    reason = "Content-Type " + media + " is not a supported image type (png, jpeg, gif, webp)";
    return {};
  }
  return media;
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Checks the scheme and host of `url` and fills `target`; the reason it cannot be fetched otherwise.
std::string make_target(const boost::urls::url_view& url, Target& target) {
  const auto scheme = url.scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
    return "only http and https URLs can be fetched";
  target.tls = scheme == boost::urls::scheme::https;
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
      target.literal = asio::ip::address_v4(url.host_ipv4_address().to_bytes());
      break;
    case boost::urls::host_type::ipv6:
      target.literal = asio::ip::address_v6(url.host_ipv6_address().to_bytes());
      break;
    case boost::urls::host_type::name:
      break;
    default:
      return "the URL has no usable host";
  }
  target.host = target.literal ? target.literal->to_string() : std::string(url.host_name());
  if (target.host.empty()) return "the URL has no host";
  target.port = url.has_port() && url.port_number() != 0 ? url.port_number() : (target.tls ? 443 : 80);
  target.host_header = std::string(url.encoded_host_and_port());
  target.path = std::string(url.encoded_target());
  if (target.path.empty() || target.path.front() != '/') target.path.insert(0, "/");
  return {};
}

template <typename Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, ssl::stream<tcp::socket>>;

// Connects to the first endpoint that answers, sends the GET and reads the answer into `image`.
template <typename Stream>
Task<Hop> exchange(Stream& stream, tcp::socket& socket, const std::vector<tcp::endpoint>& endpoints,
                   const Target& target, const ImageFetchLimits& limits, FetchDeadline& deadline,
                   FetchedImage& image) {
  const SocketGuard guard(deadline, socket);

  // One endpoint at a time rather than asio::async_connect, which reopens the socket for each
  // endpoint and so would outlive a deadline that closed it.
  error_code connect_ec = asio::error::host_unreachable;
  for (const auto& endpoint : endpoints) {
    if (deadline.expired()) co_return timed_out(limits);
    error_code ignored;
    socket.close(ignored);
    socket.open(endpoint.protocol(), connect_ec);
    if (connect_ec) continue;
    auto [ec] = co_await socket.async_connect(endpoint, use_nothrow);
    connect_ec = ec;
    if (!connect_ec) break;
  }
  if (deadline.expired()) co_return timed_out(limits);
  if (connect_ec) co_return failed("cannot connect (" + connect_ec.message() + ")");
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);

  if constexpr (kIsTls<Stream>) {
    // SNI (never for an IP address, RFC 6066), and the certificate must name the host we dialled.
    if (!target.literal && !SSL_set_tlsext_host_name(stream.native_handle(), target.host.c_str()))
      co_return failed("TLS setup failed");
    error_code verify_ec;
    stream.set_verify_mode(ssl::verify_peer, verify_ec);
    if (!verify_ec) stream.set_verify_callback(ssl::host_name_verification(target.host), verify_ec);
    if (verify_ec) co_return failed("TLS setup failed (" + verify_ec.message() + ")");
    auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::client, use_nothrow);
    if (deadline.expired()) co_return timed_out(limits);
    if (handshake_ec) co_return failed("TLS handshake failed (" + handshake_ec.message() + ")");
  }

  http::request<http::empty_body> request{http::verb::get, target.path, 11};
  request.set(http::field::host, target.host_header);
  request.set(http::field::user_agent, "switchyard");
  request.set(http::field::accept, "image/*");
  request.keep_alive(false);
  auto [write_ec, written] = co_await http::async_write(stream, request, use_nothrow);
  if (deadline.expired()) co_return timed_out(limits);
  if (write_ec) co_return failed("the connection failed while sending the request (" + write_ec.message() + ")");

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // the length is judged below, with a message saying how large
  auto [head_ec, head_size] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
  if (deadline.expired()) co_return timed_out(limits);
  if (head_ec) co_return failed("no valid HTTP response (" + head_ec.message() + ")");

  const auto& response = parser.get();
  const unsigned status = response.result_int();
  if (is_redirect(status)) {
    const auto location = response[http::field::location];
    if (location.empty()) co_return failed("HTTP " + std::to_string(status) + " without a Location");
    co_return Hop{Hop::Outcome::redirect, std::string(location)};
  }
  if (status != 200) co_return failed("HTTP " + std::to_string(status));

  std::string reason;
  std::string media_type = image_media_type(response[http::field::content_type], reason);
  if (media_type.empty()) co_return failed(std::move(reason));

  const auto announced = parser.content_length();
  if (announced && *announced > limits.max_bytes)
    co_return failed("the response is " + describe_size(*announced) + ", over the " +
                     describe_size(limits.max_bytes) + " limit");

  // Chunked and close-delimited bodies are cut by the parser when they pass the limit.
  parser.body_limit(static_cast<std::uint64_t>(limits.max_bytes));
  auto [body_ec, body_size] = co_await http::async_read(stream, buffer, parser, use_nothrow);
  if (deadline.expired()) co_return timed_out(limits);
  if (body_ec == ssl::error::stream_truncated && !parser.is_done()) {
    // A TLS peer that closes without close_notify ends a close-delimited body, as curl takes it.
    body_ec = {};
    parser.put_eof(body_ec);
  }
  if (body_ec == http::error::body_limit)
    co_return failed("the response is over the " + describe_size(limits.max_bytes) + " limit");
  if (body_ec) co_return failed("the connection failed while reading the response (" + body_ec.message() + ")");
  if (parser.get().body().empty()) co_return failed("the response is empty");

  image.media_type = std::move(media_type);
  image.bytes = std::move(parser.get().body());
  co_return Hop{Hop::Outcome::image, {}};
}

// One GET of `target`: resolve, check every address, dial only those that passed.
Task<Hop> fetch_hop(const Target& target, const ImageFetchLimits& limits, ssl::context& tls,
                    FetchDeadline& deadline, FetchedImage& image) {
  std::vector<tcp::endpoint> resolved;
  if (target.literal) {
    resolved.emplace_back(*target.literal, target.port);
  } else {
    const std::string service = std::to_string(target.port);
    auto [ec, results] = co_await deadline.resolve(target.host, service);
    if (deadline.expired()) co_return timed_out(limits);
    if (ec) co_return failed("cannot resolve " + target.host + " (" + ec.message() + ")");
    for (const auto& entry : results) resolved.push_back(entry.endpoint());
  }
  std::vector<tcp::endpoint> allowed;
  for (const auto& endpoint : resolved)
    if (limits.allow_private_addresses || !is_private_address(endpoint.address())) allowed.push_back(endpoint);
  if (allowed.empty()) {
    if (resolved.empty()) co_return failed("cannot resolve " + target.host + " (no addresses)");
    co_return failed("resolves to a private address (fetching it is disabled)");
  }

  const auto executor = co_await asio::this_coro::executor;
  if (target.tls) {
    ssl::stream<tcp::socket> stream(executor, tls);
    co_return co_await exchange(stream, stream.next_layer(), allowed, target, limits, deadline, image);
  }
  tcp::socket socket(executor);
  co_return co_await exchange(socket, socket, allowed, target, limits, deadline, image);
}

bool is_private_v4(const asio::ip::address_v4& address) {
  struct Range {
    std::uint32_t network;
    int bits;
  };
  static constexpr Range kRanges[] = {
      {0x00000000, 8},   // 0.0.0.0/8, "this network"
      {0x0A000000, 8},   // 10/8
      {0x64400000, 10},  // 100.64/10, carrier-grade NAT
      {0x7F000000, 8},   // 127/8, loopback
      {0xA9FE0000, 16},  // 169.254/16, link-local (cloud metadata services live here)
      {0xAC100000, 12},  // 172.16/12
      {0xC0000000, 24},  // 192.0.0/24, IETF protocol assignments
      {0xC0000200, 24},  // 192.0.2/24, documentation
      {0xC0A80000, 16},  // 192.168/16
      {0xC6120000, 15},  // 198.18/15, benchmarking
      {0xC6336400, 24},  // 198.51.100/24, documentation
      {0xCB007100, 24},  // 203.0.113/24, documentation
      {0xE0000000, 4},   // 224/4, multicast
      {0xF0000000, 4},   // 240/4, reserved, with 255.255.255.255 broadcast
  };
  const std::uint32_t value = address.to_uint();
  for (const auto& range : kRanges) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - range.bits);
    if ((value & mask) == range.network) return true;
  }
  return false;
}

asio::ip::address_v4 embedded_v4(const asio::ip::address_v6::bytes_type& bytes, std::size_t at) {
  return asio::ip::address_v4(asio::ip::address_v4::bytes_type{bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]});
}

bool all_zero(const asio::ip::address_v6::bytes_type& bytes, std::size_t from, std::size_t to) {
  return std::all_of(bytes.begin() + from, bytes.begin() + to, [](unsigned char b) { return b == 0; });
}

bool is_private_v6(const asio::ip::address_v6& address) {
  const auto bytes = address.to_bytes();
  if (address.is_v4_mapped()) return is_private_v4(embedded_v4(bytes, 12));  // ::ffff:a.b.c.d
  // ::/96: unspecified, loopback and the deprecated IPv4-compatible addresses, none routable.
  if (all_zero(bytes, 0, 12)) return true;
  // 64:ff9b::/96, well-known NAT64 prefix: judged by the IPv4 address it reaches.
  if (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b) {
    if (all_zero(bytes, 4, 12)) return is_private_v4(embedded_v4(bytes, 12));
    if (bytes[4] == 0x00 && bytes[5] == 0x01) return true;  // 64:ff9b:1::/48, local-use NAT64
  }
  // 2002::/16, 6to4: judged by the IPv4 address it embeds.
  if (bytes[0] == 0x20 && bytes[1] == 0x02) return is_private_v4(embedded_v4(bytes, 2));
  if (bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8) return true;  // documentation
  if (bytes[0] == 0x01 && bytes[1] == 0x00 && all_zero(bytes, 2, 8)) return true;  // 100::/64, discard-only
  if ((bytes[0] & 0xfe) == 0xfc) return true;                                        // fc00::/7, unique local
  if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80) return true;                    // fe80::/10, link-local
  if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0xc0) return true;                    // fec0::/10, old site-local
  if (bytes[0] == 0xff) return true;                                                 // ff00::/8, multicast
  return false;
}

// Appends the base64 of `bytes` (OpenSSL's encoder, in pieces a multiple of 3 long so they join).
void append_base64(std::string& out, std::string_view bytes) {
  constexpr std::size_t kPiece = 3 * 1024 * 1024;
  const auto start = out.size();
  out.resize(start + 4 * ((bytes.size() + 2) / 3) + 1);  // + the NUL EVP_EncodeBlock writes
  auto* dest = reinterpret_cast<unsigned char*>(out.data() + start);
  std::size_t written = 0;
  for (std::size_t offset = 0; offset < bytes.size(); offset += kPiece) {
    const auto size = std::min(kPiece, bytes.size() - offset);
    written += static_cast<std::size_t>(EVP_EncodeBlock(
        dest + written, reinterpret_cast<const unsigned char*>(bytes.data() + offset), static_cast<int>(size)));
  }
  out.resize(start + written);
}

std::string data_url(const FetchedImage& image) {
  std::string url;
  url.reserve(5 + image.media_type.size() + 8 + 4 * ((image.bytes.size() + 2) / 3) + 1);
  url += "data:";
  url += image.media_type;
  url += ";base64,";
  append_base64(url, image.bytes);
  return url;
}

bool is_remote_url(std::string_view url) {
  return starts_with_ignoring_case(url, "http://") || starts_with_ignoring_case(url, "https://");
}

}  // namespace

Task<bool> fetch_image(std::string_view url, const ImageFetchLimits& limits, ssl::context& tls, FetchedImage& image,
                       std::string& error) {
  const std::string shown = shown_url(url);
  auto fail = [&](std::string_view at, const std::string& reason) {
    error = "Image URL " + shown;
    if (!at.empty() && at != shown) error += " (redirected to " + std::string(at) + ")";
    error += ": " + reason;
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    fail({}, "not a valid URL");
    co_return false;
  }
  boost::urls::url current(*parsed);
  const auto executor = co_await asio::this_coro::executor;
  FetchDeadline deadline(executor, limits.timeout);
  for (unsigned redirects = 0;; ++redirects) {
    const std::string at = redirects == 0 ? std::string() : shown_url(current.buffer());
    Target target;
    if (const auto reason = make_target(current, target); !reason.empty()) {
      fail(at, reason);
      co_return false;
    }
    const Hop hop = co_await fetch_hop(target, limits, tls, deadline, image);
    if (hop.outcome == Hop::Outcome::image) co_return true;
    if (hop.outcome == Hop::Outcome::failed) {
      fail(at, hop.text);
      co_return false;
    }
    if (redirects >= limits.max_redirects) {
      fail(at, "too many redirects (more than " + std::to_string(limits.max_redirects) + ")");
      co_return false;
    }
    const auto location = boost::urls::parse_uri_reference(hop.text);
    if (!location || !current.resolve(*location)) {
      fail(at, "redirected to an invalid URL");
      co_return false;
    }
    current.remove_fragment();
  }
}

Task<bool> inline_remote_images(boost::json::object& openai_request, const ImageFetchLimits& limits,
                                ssl::context& tls, ApiError& error) {
  auto* messages = openai_request.if_contains("messages");
  if (!messages || !messages->is_array()) co_return true;
  // The same URL given twice in one request is fetched once.
  std::unordered_map<std::string, std::string> fetched;
  auto& message_list = messages->get_array();
  for (std::size_t i = 0; i < message_list.size(); ++i) {
    auto* message = message_list[i].if_object();
    if (!message) continue;
    auto* content = message->if_contains("content");
    if (!content || !content->is_array()) continue;
    auto& parts = content->get_array();
    for (std::size_t j = 0; j < parts.size(); ++j) {
      auto* part = parts[j].if_object();
      if (!part) continue;
      const auto* type = part->if_contains("type");
      if (!type || !type->is_string() || type->get_string() != "image_url") continue;
      auto* image_url = part->if_contains("image_url");
      if (!image_url) continue;
      // {"url": ...} as OpenAI documents it; a bare string as some clients send it.
      auto* url_value = image_url->is_object() ? image_url->get_object().if_contains("url") : image_url;
      if (!url_value || !url_value->is_string()) continue;
      const std::string url(url_value->get_string());
      if (!is_remote_url(url)) continue;
      if (auto known = fetched.find(url); known != fetched.end()) {
        *url_value = known->second;
        continue;
      }
      FetchedImage image;
      std::string reason;
      const bool ok = co_await fetch_image(url, limits, tls, image, reason);
      if (!ok) {
        error = ApiError{ErrorKind::invalid_request, std::move(reason),
                         "messages[" + std::to_string(i) + "].content[" + std::to_string(j) + "].image_url"};
        co_return false;
      }
      auto& inlined = fetched.emplace(url, data_url(image)).first->second;
      *url_value = inlined;
    }
  }
  co_return true;
}

bool is_private_address(const asio::ip::address& address) {
  return address.is_v4() ? is_private_v4(address.to_v4()) : is_private_v6(address.to_v6());
}

}  // namespace switchyard

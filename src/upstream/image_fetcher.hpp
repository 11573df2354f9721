// Fetches the images that a request gives by http(s) URL when its upstream needs the bytes (Ollama
// takes base64 only): one GET with a size limit, a timeout and an image content-type check, refused
// for loopback, private, link-local and other non-public addresses (checked on the resolved address
// that is actually dialled, so DNS cannot smuggle them in) unless the configuration allows them.
// Runs on the calling worker's executor; the objects live for one request.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/asio.hpp"
#include "core/error.hpp"

namespace switchyard {

struct ImageFetchLimits {
  std::size_t max_bytes = 20 * 1024 * 1024;
  std::chrono::milliseconds timeout{10'000};  // the whole fetch: resolve, connect, TLS, head and body
  bool allow_private_addresses = false;       // loopback, RFC 1918, link-local, ULA, CGNAT...
  unsigned max_redirects = 3;
};

struct FetchedImage {
  std::string media_type;  // image/png, image/jpeg, image/gif, image/webp
  std::string bytes;
};

// GETs one http(s) URL. False with `error` (a message for the client) on any failure.
Task<bool> fetch_image(std::string_view url, const ImageFetchLimits& limits, ssl::context& tls, FetchedImage& image,
                       std::string& error);

// Replaces every http(s) image_url in an OpenAI chat request's messages with a data: URL of the
// fetched bytes. False with `error` (invalid_request, naming the message and part) on the first
// failure.
Task<bool> inline_remote_images(boost::json::object& openai_request, const ImageFetchLimits& limits,
                                ssl::context& tls, ApiError& error);

// True when `address` may not be fetched without allow_private_addresses.
bool is_private_address(const asio::ip::address& address);

}  // namespace switchyard

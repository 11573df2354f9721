// One client connection: reads requests (size limits, header/body/idle timeouts), routes each to its
// handler and writes responses. Lives on the worker thread that accepted it, for its whole life.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "core/deadline.hpp"
#include "server/client_watch.hpp"
#include "core/error.hpp"

namespace switchyard {

class Worker;

using Request = http::request<http::string_body>;

// What every response carries, whoever produced it.
struct RequestContext {
  std::string request_id;
  std::chrono::steady_clock::time_point received;
  std::string_view routed_node = "switchyard";  // the deployment that answered; the gateway itself by default
  unsigned attempts = 0;                        // deployments tried; sent as X-Switchyard-Attempts when > 0
  ClientProtocol protocol = ClientProtocol::openai;  // the shape of its error bodies
  bool keep_alive = true;
};

void start_http_session(Worker& worker, tcp::socket socket);

class HttpSession {
 public:
  HttpSession(Worker& worker, tcp::socket socket);
  ~HttpSession();
  Task<> run();

  Worker& worker() { return worker_; }

  // A complete response: head and body in one write. False when the client is gone.
  Task<bool> respond(const RequestContext& context, int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_headers = {});
  Task<bool> respond_error(const RequestContext& context, const ApiError& error);

  // Chunked responses (streams). The head is sent together with the first chunk.
  void begin_chunked(const RequestContext& context, int status, std::string_view content_type);
  // With `last`, the end of the body goes out in the same write.
  Task<bool> write_chunk(std::string_view data, bool last = false);
  Task<bool> end_chunked() { return write_chunk({}, true); }

  // Watches for the client hanging up while a request is proxied.
  ClientWatch& client_watch() { return client_watch_; }

 private:
  Task<> dispatch(Request& request, RequestContext& context);
  Task<> lingering_close();
  Task<> respond_method_not_allowed(const RequestContext& context, std::string_view target, std::string_view allowed);
  template <typename Buffers>
  Task<bool> write_with_timeout(const Buffers& buffers);

  Worker& worker_;
  tcp::socket socket_;
  Deadline deadline_;  // the timeout of the read or write in progress on socket_
  beast::flat_buffer buffer_;
  std::string head_;  // reused for every response head
  bool chunked_head_pending_ = false;
  ClientWatch client_watch_{socket_};
};

}  // namespace switchyard

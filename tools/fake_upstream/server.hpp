// The fake upstream's HTTP(S) server: one io_context, thread and SO_REUSEPORT acceptor per worker.
// Constructed and run from main(); connections live on the worker that accepted them.
#pragma once

#include "options.hpp"

#include <memory>
#include <string>

namespace fake_upstream {

class Server {
 public:
  // Binds every worker's acceptor (port 0: the first picks, the others share it). Throws
  // std::exception with a readable message when the address, port or TLS files are unusable.
  explicit Server(Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // "http://HOST:PORT" (or https) with the port actually bound.
  std::string url() const;

  // Serves until SIGINT or SIGTERM, then returns.
  void run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fake_upstream

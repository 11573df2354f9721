// Settings of the fake upstream: start-up options and the per-request behaviour knobs.
// Immutable after start-up; read from every worker thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fake_upstream {

// What a completion request gets. The CLI sets the defaults; x-fake-* headers override per request.
struct Behaviour {
  int tokens = 16;          // completion tokens generated
  int ttft_ms = 0;          // delay before the first byte of the response
  int gap_ms = 0;           // delay between stream chunks
  int status = 200;         // != 200: answer with this status and an error body
  double error_rate = 0.0;  // fraction of requests answered 500
  bool hang = false;        // never answer
  int drop_after = -1;      // >= 0: close abruptly after this many content chunks
  bool close = false;       // close right after reading the request
  int retry_after_s = 0;    // > 0: error answers carry Retry-After with this many seconds
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8001;
  int threads = 1;
  std::vector<std::string> models{"fake-model"};
  bool models_given = false;  // --model was given: /api/show knows only those models
  Behaviour behaviour;
  int loading_ms = 0;
  // --key-status KEY=STATUS: requests carrying this key (Bearer or x-api-key) get this status, as a
  // provider answers a rate-limited (429) or revoked (401) key.
  std::vector<std::pair<std::string, int>> key_status;
  std::string tls_cert;
  std::string tls_key;
};

}  // namespace fake_upstream

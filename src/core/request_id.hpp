// Request ids: taken from the client's X-Request-Id when it is sane, otherwise generated.
// One generator per worker thread (no locks): a random prefix drawn at start plus a counter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard {

class RequestIdGenerator {
 public:
  RequestIdGenerator();
  // 24 hex digits, unique per process run.
  std::string next();

 private:
  std::uint64_t prefix_;
  std::uint64_t counter_ = 0;
};

// A client-supplied id is kept when it is 1..128 visible ASCII characters (no spaces, no quotes);
// anything else could break headers or logs, so it is replaced.
bool acceptable_request_id(std::string_view id);

}  // namespace switchyard

// Builds raw HTTP/1.1 response heads into a reusable string, so a whole response (head and body)
// goes out in one write without Beast's serializer. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

namespace switchyard {

std::string_view reason_phrase(int status);

class ResponseHead {
 public:
  // Starts a new head in `out` (cleared first).
  ResponseHead(std::string& out, int status);
  ResponseHead& header(std::string_view name, std::string_view value);
  ResponseHead& content_length(std::size_t length);
  // Ends the head with the Connection header and the blank line.
  std::string& finish(bool keep_alive);

 private:
  std::string& out_;
};

// "<hex length>\r\n" for a chunked-encoding chunk; returns the text length written to `buffer`.
std::size_t chunk_size_line(char (&buffer)[20], std::size_t length);

}  // namespace switchyard

// Checks base64 text the way the real servers do, to reject image data as they would. Pure functions.
//
// Only a checker, no decoder: OpenSSL decodes (responses.cpp uses it to encode), but it is lax about
// what it accepts and cannot say where the data went wrong, and Ollama's 400 names the offset
// ("illegal base64 data at input byte K", from Go's encoding/base64 via encoding/json).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace fake_upstream {

// The offset Go's base64.StdEncoding.Decode reports for `text` (padding required, '\r' and '\n'
// skipped), or nullopt when it decodes.
std::optional<std::size_t> base64_error_offset(std::string_view text);

}  // namespace fake_upstream

#include "core/request_id.hpp"

#include <random>

namespace switchyard {

RequestIdGenerator::RequestIdGenerator() {
  std::random_device device;
  prefix_ = (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::string RequestIdGenerator::next() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(24, '0');
  const std::uint64_t high = prefix_;
  const std::uint64_t low = ++counter_;
  for (int i = 0; i < 8; ++i) id[7 - i] = kHex[(high >> (i * 4)) & 0xf];
  for (int i = 0; i < 16; ++i) id[23 - i] = kHex[(low >> (i * 4)) & 0xf];
  return id;
}

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (const char c : id)
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return true;
}

}  // namespace switchyard

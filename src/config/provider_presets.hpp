// The cloud providers (and local servers) the gateway knows by name: an upstream written as
// `preset: groq` gets the provider's kind, base URL, key variable and request quirks, so it needs
// nothing but the key in the environment. Constant data; any thread.
#pragma once

#include <span>
#include <string_view>
#include <utility>

#include "config/config.hpp"

namespace switchyard {

struct ProviderPreset {
  std::string_view name;
  UpstreamKind kind;
  std::string_view base_url;  // may hold ${VARIABLES} (Cloudflare's account id)
  std::string_view key_env;   // the environment variable holding the key; empty: no key needed
  std::span<const std::string_view> drop_fields;  // request fields the provider rejects
  std::span<const std::pair<std::string_view, std::string_view>> rename_fields;
  std::string_view health_path;  // empty: the kind's default
};

const ProviderPreset* find_preset(std::string_view name);
std::span<const ProviderPreset> provider_presets();

}  // namespace switchyard

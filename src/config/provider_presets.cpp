#include "config/provider_presets.hpp"

#include <array>

namespace switchyard {
namespace {

using Rename = std::pair<std::string_view, std::string_view>;

// Why each quirk: the provider answers 400/422 to the field, or names it otherwise.
// Groq: logprobs, logit_bias and top_logprobs are not supported (400).
constexpr std::array<std::string_view, 3> kGroqDrop{"logprobs", "top_logprobs", "logit_bias"};
// Cerebras: penalties and logit_bias are rejected.
constexpr std::array<std::string_view, 3> kCerebrasDrop{"frequency_penalty", "presence_penalty", "logit_bias"};
// Mistral: unknown fields are 422 ("extra inputs are not permitted"); the seed is random_seed;
// streams end with usage without being asked.
constexpr std::array<std::string_view, 4> kMistralDrop{"stream_options", "logit_bias", "user", "service_tier"};
constexpr std::array<Rename, 1> kMistralRename{Rename{"seed", "random_seed"}};
// Cloudflare Workers AI: no stream_options and no penalties on most models.
constexpr std::array<std::string_view, 1> kCloudflareDrop{"stream_options"};

constexpr std::array<ProviderPreset, 13> kPresets{{
    {"openai", UpstreamKind::openai, "https://api.openai.com/v1", "OPENAI_API_KEY", {}, {}, {}},
    {"anthropic", UpstreamKind::anthropic, "https://api.anthropic.com", "ANTHROPIC_API_KEY", {}, {}, {}},
    {"mistral", UpstreamKind::openai, "https://api.mistral.ai/v1", "MISTRAL_API_KEY", kMistralDrop, kMistralRename, {}},
    {"openrouter", UpstreamKind::openai, "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", {}, {}, {}},
    {"groq", UpstreamKind::openai, "https://api.groq.com/openai/v1", "GROQ_API_KEY", kGroqDrop, {}, {}},
    {"nvidia_nim", UpstreamKind::openai, "https://integrate.api.nvidia.com/v1", "NVIDIA_API_KEY", {}, {}, {}},
    {"huggingface", UpstreamKind::openai, "https://router.huggingface.co/v1", "HF_TOKEN", {}, {}, {}},
    {"cerebras", UpstreamKind::openai, "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY", kCerebrasDrop, {}, {}},
    {"cloudflare", UpstreamKind::openai, "https://api.cloudflare.com/client/v4/accounts/${CLOUDFLARE_ACCOUNT_ID}/ai/v1",
     "CLOUDFLARE_API_TOKEN", kCloudflareDrop, {}, "/models/search"},
    {"gemini", UpstreamKind::openai, "https://generativelanguage.googleapis.com/v1beta/openai", "GEMINI_API_KEY", {},
     {}, {}},
    {"together", UpstreamKind::openai, "https://api.together.xyz/v1", "TOGETHER_API_KEY", {}, {}, {}},
    {"deepseek", UpstreamKind::openai, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", {}, {}, {}},
    {"ollama", UpstreamKind::ollama, "http://127.0.0.1:11434", "", {}, {}, {}},
}};

}  // namespace

const ProviderPreset* find_preset(std::string_view name) {
  for (const auto& preset : kPresets)
    if (preset.name == name) return &preset;
  return nullptr;
}

std::span<const ProviderPreset> provider_presets() { return kPresets; }

}  // namespace switchyard

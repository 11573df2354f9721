// Reads the metadata header of a GGUF model file (llama.cpp's format) — only what a VRAM estimate
// needs — and estimates the memory llama-server will use for it: weights + KV cache + compute
// buffers. Blocking file I/O: call it from the model manager's thread, never from a worker.
#pragma once

#include <cstdint>
#include <string>

namespace switchyard {

struct GgufInfo {
  std::string architecture;        // general.architecture, e.g. "llama", "qwen2", "gemma3"
  std::uint64_t file_bytes = 0;    // size of the file (the weights, near enough)
  std::uint64_t tensor_bytes = 0;  // sum of the tensors' sizes when computable, else 0
  std::uint32_t block_count = 0;   // {arch}.block_count (layers)
  std::uint32_t context_length = 0;   // {arch}.context_length (trained context)
  std::uint32_t embedding_length = 0; // {arch}.embedding_length
  std::uint32_t head_count = 0;       // {arch}.attention.head_count
  std::uint32_t head_count_kv = 0;    // {arch}.attention.head_count_kv (= head_count when absent)
  std::uint32_t key_length = 0;       // {arch}.attention.key_length (= embedding_length / head_count when absent)
  std::uint32_t value_length = 0;     // {arch}.attention.value_length (same default)
  std::uint32_t sliding_window = 0;   // {arch}.attention.sliding_window, 0 when none
};

// Parses `path`. False with `error` (naming the file and what is wrong) for a missing, unreadable,
// truncated or non-GGUF file, or one whose metadata lacks block_count.
bool read_gguf_info(const std::string& path, GgufInfo& info, std::string& error);

// What llama-server is started with that changes its memory.
struct VramParams {
  std::uint32_t n_ctx = 0;          // 0: the model's trained context_length
  std::uint32_t n_gpu_layers = 999; // layers offloaded (>= block_count: all, plus the output layer)
  std::string type_k = "f16";       // KV cache types: f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1
  std::string type_v = "f16";
  std::uint32_t parallel = 1;       // slots; the KV cache is n_ctx in total, shared by them
  std::uint32_t n_batch = 2048;     // -b: compute buffers grow with it
  std::uint32_t n_ubatch = 512;     // -ub
};

struct VramEstimate {
  std::uint64_t weights_bytes = 0;  // the offloaded share of the weights
  std::uint64_t kv_cache_bytes = 0;
  std::uint64_t overhead_bytes = 0; // compute buffers and CUDA context
  std::uint64_t total_bytes = 0;    // the sum, before any multiplier
};

// Bytes per element of a KV cache type (q8_0 = 34/32, q4_0 = 18/32, ...); 0 for an unknown name.
double kv_type_bytes(const std::string& type);

VramEstimate estimate_vram(const GgufInfo& info, const VramParams& params);

}  // namespace switchyard

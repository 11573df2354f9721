// Reads the metadata header of a GGUF model file (llama.cpp's format) — only what a VRAM estimate
// needs — and estimates the memory llama-server will use for it: weights + KV cache + compute
// buffers. Blocking file I/O: call it from the model manager's thread, never from a worker.
//
// Reading: the file is read in bounded steps through a 64 KiB buffer and nothing read from it is
// trusted: string lengths, array counts, key and tensor counts are checked against the bytes left in
// the file (and keys against 64 KiB) before anything is read or skipped, so a truncated or hostile
// file gives a clean error, never a large allocation. Arrays not needed (tokenizer.ggml.tokens can
// hold 150k strings) are skipped: fixed-size elements in one seek, strings by their lengths only.
// Tensor sizes are summed from the ggml type table (block size, bytes per block); when a tensor's
// type is unknown tensor_bytes stays 0. A file whose tensor data would end past its end is truncated
// (an interrupted download): error.
//
// Estimate (all in bytes; llama-server with its defaults: flash attention auto = on for CUDA,
// --swa-full off, -np slots sharing one n_ctx KV cache):
//   ctx        = params.n_ctx, or context_length when 0 (4096 when that is 0 too), rounded up to 256
//                cells as llama.cpp pads its cache
//   gpu_layers = min(n_gpu_layers, block_count)           (the last layers are the offloaded ones)
//   weights    = (tensor_bytes, else file_bytes) x min(n_gpu_layers, block_count + 1) / (block_count + 1)
//                (the output layer counts as one more; the token embedding, which llama.cpp keeps on
//                the CPU, is counted anyway: a slight overestimate)
//   kv_cache   = Σ over offloaded layers of cells(layer) x head_count_kv x
//                  (row_bytes(type_k, key_length) + row_bytes(type_v, value_length))
//                row_bytes is exact per ggml block (q8_0: 34 bytes per 32 values); cells(layer) = ctx,
//                but a sliding-window layer keeps only min(ctx, round_up_256(parallel x
//                (sliding_window + ubatch))) cells (llama.cpp's SWA cache; the bound covers both the
//                unified and the per-slot layout). Which layers slide: swa_layer_count, read from
//                {arch}.attention.sliding_window_pattern (a per-layer bool array or a period), else
//                llama.cpp's per-architecture pattern (gemma2, gpt-oss: 1 of 2 full; cohere2, exaone4,
//                llama4, olmo2, afmoe, smallthinker: 1 of 4 full; gemma3n: 1 of 5; gemma3,
//                gemma-embedding: 1 of 6), else none (every layer full: safe for mistral/qwen2/phi3,
//                whose sliding_window llama.cpp ignores). Partial offload puts the full-context layers
//                on the GPU first (conservative). A per-layer head_count_kv array counts as its
//                maximum; MLA and recurrent layers are treated as plain attention (overestimates).
//   overhead   = compute buffers + kCudaContextBytes, where with ub = min(n_ubatch, n_batch):
//                compute = ub x vocab x 4                       (f32 logits of a whole ubatch;
//                                                                vocab 262144 when unknown)
//                        + ub x embedding_length x 4 x 16       (hidden states and FFN intermediates)
//                        + ub x ctx x 4                         (attention mask and scores, with FA)
//                        + ctx x head_count_kv x (key_length + value_length) x 2
//                                      only when a KV type is quantised (the f16 copy of one layer's
//                                      K and V that the CUDA flash-attention kernels convert into)
//                The terms are summed although llama.cpp's allocator overlaps some of them: for
//                Llama-3.1-8B at 8K this gives ~395 MiB against ~260 MiB logged.
//                kCudaContextBytes = 512 MiB: the CUDA context, cuBLAS workspace and llama.cpp's
//                memory pool, measured at 300–500 MiB per process depending on GPU and driver; the
//                upper figure is used (overestimating is safer than an OOM at load).
//   total      = weights + kv_cache + overhead (the caller applies any safety multiplier).
// With flash attention off (-fa off) the compute buffer also holds ub x ctx x head_count x 4 bytes of
// attention scores, which this estimate does not include.
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
  // Additions beyond the first contract (appended, so existing initialisers still compile):
  std::uint32_t vocab_size = 0;       // {arch}.vocab_size, else the length of tokenizer.ggml.tokens; 0 unknown
  // Layers using the sliding window: from {arch}.attention.sliding_window_pattern when present;
  // -1 when the file does not say, and estimate_vram then applies llama.cpp's pattern for the
  // architecture (see above).
  std::int32_t swa_layer_count = -1;
  // A split model (<name>-00001-of-00003.gguf): how many parts. file_bytes and tensor_bytes then
  // include the other parts' file sizes, since a part's header lists only its own tensors.
  std::uint32_t split_count = 1;
};

// Parses `path`. False with `error` (naming the file and what is wrong) for a missing, unreadable,
// truncated or non-GGUF file, or one whose metadata lacks block_count. A split model is read from its
// first part, as llama-server loads it; a later part or a missing one is an error too.
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
// Names as llama-server's --cache-type-k/-v take them, case-insensitive. estimate_vram counts an
// unknown type as f32 (llama-server would refuse it anyway).
double kv_type_bytes(const std::string& type);

// The number of layers llama.cpp runs with a sliding window for `architecture` when the file gives
// no pattern (0 for architectures without one). Used by estimate_vram; public for the tests.
std::uint32_t default_swa_layer_count(const std::string& architecture, std::uint32_t block_count);

inline constexpr std::uint64_t kCudaContextBytes = 512ull << 20;

VramEstimate estimate_vram(const GgufInfo& info, const VramParams& params);

}  // namespace switchyard

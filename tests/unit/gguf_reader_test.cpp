#include "local/gguf_reader.hpp"

#include "local/llama_command.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace switchyard {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;

// Writes GGUF files byte by byte, as llama.cpp's gguf writer lays them out.
class GgufBuilder {
 public:
  GgufBuilder& u32(const std::string& key, std::uint32_t v) { return scalar(key, 4, [&] { put32(kv_, v); }); }
  GgufBuilder& u64(const std::string& key, std::uint64_t v) { return scalar(key, 10, [&] { put64(kv_, v); }); }
  GgufBuilder& i32(const std::string& key, std::int32_t v) {
    return scalar(key, 5, [&] { put32(kv_, static_cast<std::uint32_t>(v)); });
  }
  GgufBuilder& u16(const std::string& key, std::uint16_t v) {
    return scalar(key, 2, [&] { kv_.push_back(static_cast<char>(v & 0xff)); kv_.push_back(static_cast<char>(v >> 8)); });
  }
  GgufBuilder& f32(const std::string& key, float v) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &v, 4);
    return scalar(key, 6, [&] { put32(kv_, bits); });
  }
  GgufBuilder& boolean(const std::string& key, bool v) { return scalar(key, 7, [&] { kv_.push_back(v ? 1 : 0); }); }
  GgufBuilder& str(const std::string& key, const std::string& v) { return scalar(key, 8, [&] { putstr(kv_, v); }); }
  GgufBuilder& u32_array(const std::string& key, const std::vector<std::uint32_t>& v) {
    return scalar(key, 9, [&] {
      put32(kv_, 4);
      put64(kv_, v.size());
      for (auto x : v) put32(kv_, x);
    });
  }
  GgufBuilder& bool_array(const std::string& key, const std::vector<bool>& v) {
    return scalar(key, 9, [&] {
      put32(kv_, 7);
      put64(kv_, v.size());
      for (bool x : v) kv_.push_back(x ? 1 : 0);
    });
  }
  GgufBuilder& f32_array(const std::string& key, std::size_t count) {
    return scalar(key, 9, [&] {
      put32(kv_, 6);
      put64(kv_, count);
      kv_.append(count * 4, '\0');
    });
  }
  GgufBuilder& string_array(const std::string& key, const std::vector<std::string>& v) {
    return scalar(key, 9, [&] {
      put32(kv_, 8);
      put64(kv_, v.size());
      for (const auto& s : v) putstr(kv_, s);
    });
  }
  // Raw bytes after a key: for hostile values.
  GgufBuilder& raw(const std::string& key, const std::string& type_and_value) {
    return scalar(key, 0, [&] { kv_.resize(kv_.size() - 4); kv_ += type_and_value; });
  }

  // A tensor of ggml `type` whose data takes `bytes`; the data is laid out after the infos.
  GgufBuilder& tensor(const std::string& name, std::vector<std::uint64_t> dims, std::uint32_t type,
                      std::uint64_t bytes) {
    putstr(tensors_, name);
    put32(tensors_, static_cast<std::uint32_t>(dims.size()));
    for (auto d : dims) put64(tensors_, d);
    put32(tensors_, type);
    put64(tensors_, data_bytes_);
    data_bytes_ += (bytes + 31) / 32 * 32;
    ++tensor_count_;
    return *this;
  }

  std::string build(std::uint32_t version = 3) const {
    std::string out = "GGUF";
    put32(out, version);
    put64(out, tensor_count_);
    put64(out, kv_count_);
    out += kv_;
    out += tensors_;
    out.resize((out.size() + 31) / 32 * 32, '\0');
    out.append(data_bytes_, '\0');
    return out;
  }

  static void put32(std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  static void put64(std::string& s, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  static void putstr(std::string& s, const std::string& v) {
    put64(s, v.size());
    s += v;
  }

 private:
  template <typename Value>
  GgufBuilder& scalar(const std::string& key, std::uint32_t type, Value&& value) {
    putstr(kv_, key);
    put32(kv_, type);
    value();
    ++kv_count_;
    return *this;
  }

  std::string kv_;
  std::string tensors_;
  std::uint64_t kv_count_ = 0;
  std::uint64_t tensor_count_ = 0;
  std::uint64_t data_bytes_ = 0;
};

class GgufReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gguf_reader_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& bytes, const std::string& name = "model.gguf") {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  // Reads a file that must fail; returns the error.
  std::string read_error(const std::string& bytes) {
    const auto path = write(bytes);
    GgufInfo info;
    std::string error;
    EXPECT_FALSE(read_gguf_info(path, info, error));
    EXPECT_EQ(error.rfind(path + ": ", 0), 0u) << error;  // names the file
    return error;
  }

  GgufInfo read_ok(const std::string& bytes) {
    GgufInfo info;
    std::string error;
    EXPECT_TRUE(read_gguf_info(write(bytes), info, error)) << error;
    return info;
  }

  std::filesystem::path dir_;
};

// Llama-3.1-8B's shape: 32 layers, 32 heads, 8 KV heads, 4096 wide.
GgufBuilder llama_8b() {
  GgufBuilder b;
  b.str("general.architecture", "llama")
      .str("general.name", "Tiny Llama-shaped")
      .u32("llama.block_count", 32)
      .u32("llama.context_length", 131072)
      .u32("llama.embedding_length", 4096)
      .u32("llama.attention.head_count", 32)
      .u32("llama.attention.head_count_kv", 8)
      .f32("llama.rope.freq_base", 500000.0f)
      .u32("llama.vocab_size", 128256)
      .u32("general.file_type", 15);
  // A few small tensors (the test only needs their sizes right), the last one ending the file.
  b.tensor("token_embd.weight", {512, 2}, 12 /* q4_K: 144 bytes per 256 */, 512 / 256 * 144 * 2)
      .tensor("output_norm.weight", {64}, 0 /* f32 */, 64 * 4)
      .tensor("blk.0.attn_k.weight", {64, 3}, 8 /* q8_0: 34 per 32 */, 64 / 32 * 34 * 3)
      .tensor("blk.0.attn_v.weight", {32, 2, 2}, 1 /* f16 */, 32 * 2 * 2 * 2);
  return b;
}
constexpr std::uint64_t kLlamaTensorBytes = 512 / 256 * 144 * 2 + 64 * 4 + 64 / 32 * 34 * 3 + 32 * 2 * 2 * 2;
// The data section as the builder lays it out (each tensor's data rounded up to 32 bytes).
constexpr std::uint64_t kLlamaDataBytes = 576 + 256 + 224 + 256;

TEST_F(GgufReaderTest, ReadsLlamaLikeHeader) {
  const std::string bytes = llama_8b().build();
  const GgufInfo info = read_ok(bytes);
  EXPECT_EQ(info.architecture, "llama");
  EXPECT_EQ(info.file_bytes, bytes.size());
  EXPECT_EQ(info.tensor_bytes, kLlamaTensorBytes);
  EXPECT_EQ(info.block_count, 32u);
  EXPECT_EQ(info.context_length, 131072u);
  EXPECT_EQ(info.embedding_length, 4096u);
  EXPECT_EQ(info.head_count, 32u);
  EXPECT_EQ(info.head_count_kv, 8u);
  EXPECT_EQ(info.key_length, 128u);  // absent: 4096 / 32
  EXPECT_EQ(info.value_length, 128u);
  EXPECT_EQ(info.sliding_window, 0u);
  EXPECT_EQ(info.vocab_size, 128256u);
  EXPECT_EQ(info.swa_layer_count, -1);
}

// A split model is read from its first part; the other parts' sizes count as weights.
TEST_F(GgufReaderTest, SplitModelAddsItsOtherParts) {
  const std::string first = llama_8b().build();
  std::string second = llama_8b().build();  // later parts are GGUF files too
  second.resize(3 * kMiB, '\0');
  const std::string third(2 * kMiB, '\0');
  const auto path = write(first, "big-00001-of-00003.gguf");
  write(second, "big-00002-of-00003.gguf");
  GgufInfo info;
  std::string error;
  // The third part is missing: named in the error, as llama-server would fail to load.
  EXPECT_FALSE(read_gguf_info(path, info, error));
  EXPECT_NE(error.find("part 3 of 3 is missing"), std::string::npos) << error;
  EXPECT_NE(error.find("big-00003-of-00003.gguf"), std::string::npos) << error;
  write(third, "big-00003-of-00003.gguf");
  ASSERT_TRUE(read_gguf_info(path, info, error)) << error;
  EXPECT_EQ(info.split_count, 3u);
  EXPECT_EQ(info.file_bytes, first.size() + 5 * kMiB);
  EXPECT_EQ(info.tensor_bytes, kLlamaTensorBytes + 5 * kMiB);
  VramParams params;
  params.n_ctx = 4096;
  const auto whole = estimate_vram(info, params);
  EXPECT_GE(whole.weights_bytes, 5 * kMiB);
  // A later part is refused, pointing at the first.
  EXPECT_FALSE(read_gguf_info((dir_ / "big-00002-of-00003.gguf").string(), info, error));
  EXPECT_NE(error.find("give the first part"), std::string::npos) << error;
  // Names that only look alike are single files.
  const GgufInfo single = read_ok(first);
  EXPECT_EQ(single.split_count, 1u);
  EXPECT_TRUE(read_gguf_info(write(first, "x-00001-of-00001.gguf"), info, error)) << error;
  EXPECT_EQ(info.split_count, 1u);
  EXPECT_TRUE(read_gguf_info(write(first, "x-0001a-of-00002.gguf"), info, error)) << error;
  EXPECT_EQ(info.split_count, 1u);
}

TEST(LlamaCommand, ExtraModelFilesFromExtraArgs) {
  LocalModelConfig model;
  model.params.extra_args = {"--mmproj", "/m/proj.gguf", "-md=/m/draft.gguf", "--jinja", "-mm"};
  EXPECT_EQ(extra_model_files(model), (std::vector<std::string>{"/m/proj.gguf", "/m/draft.gguf"}));
  model.params.extra_args = {"--model-draft", "/d.gguf", "--mmproj=/p.gguf", "--mmproj-offload"};
  EXPECT_EQ(extra_model_files(model), (std::vector<std::string>{"/d.gguf", "/p.gguf"}));
}

TEST_F(GgufReaderTest, VersionTwoIsRead) {
  EXPECT_EQ(read_ok(llama_8b().build(2)).block_count, 32u);
}

TEST_F(GgufReaderTest, KvCacheExactForF16Q8AndQ4) {
  const GgufInfo info = read_ok(llama_8b().build());
  VramParams params;
  params.n_ctx = 8192;
  // 2 (K and V) x 32 layers x 8 heads x 128 x 2 bytes = 128 KiB per token; 8192 tokens = 1 GiB.
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 1073741824ull);
  params.type_k = params.type_v = "q8_0";
  // 128 values = 4 blocks of 34 bytes: 8192 x 32 x 8 x (136 + 136) = 544 MiB.
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 544 * kMiB);
  params.type_k = params.type_v = "q4_0";
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 288 * kMiB);
  params.type_k = "f16";
  params.type_v = "q8_0";
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 8192ull * 32 * 8 * (256 + 136));
}

TEST_F(GgufReaderTest, ContextZeroMeansTrainedContextAndIsPaddedTo256) {
  GgufInfo info = read_ok(llama_8b().build());
  VramParams params;
  params.n_ctx = 0;
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 131072ull * 128 * 1024);  // 16 GiB
  params.n_ctx = 1000;  // llama.cpp rounds the cache up to 1024 cells
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 1024ull * 128 * 1024);
  info.context_length = 0;
  params.n_ctx = 0;  // nothing known: 4096
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 4096ull * 128 * 1024);
}

TEST_F(GgufReaderTest, GqaAgainstFullMultiHead) {
  GgufBuilder gqa;
  gqa.str("general.architecture", "qwen2")
      .u32("qwen2.block_count", 28)
      .u32("qwen2.embedding_length", 3584)
      .u32("qwen2.attention.head_count", 28)
      .u32("qwen2.attention.head_count_kv", 4);
  GgufBuilder mha;
  mha.str("general.architecture", "qwen2")
      .u32("qwen2.block_count", 28)
      .u32("qwen2.embedding_length", 3584)
      .u32("qwen2.attention.head_count", 28);  // head_count_kv absent: = head_count
  const GgufInfo g = read_ok(gqa.build());
  const GgufInfo m = read_ok(mha.build());
  EXPECT_EQ(g.head_count_kv, 4u);
  EXPECT_EQ(m.head_count_kv, 28u);
  EXPECT_EQ(g.key_length, 128u);
  VramParams params;
  params.n_ctx = 4096;
  EXPECT_EQ(estimate_vram(g, params).kv_cache_bytes, 4096ull * 28 * 4 * (128 * 2 + 128 * 2));
  EXPECT_EQ(estimate_vram(m, params).kv_cache_bytes, 7 * estimate_vram(g, params).kv_cache_bytes);
}

TEST_F(GgufReaderTest, ExplicitKeyAndValueLengthsAndPerLayerKvHeads) {
  GgufBuilder b;
  b.str("general.architecture", "deci")
      .u32("deci.block_count", 4)
      .u32("deci.embedding_length", 1024)
      .u32_array("deci.attention.head_count", {16, 16, 16, 16})
      .u32_array("deci.attention.head_count_kv", {2, 0, 8, 4})  // largest counts: never an underestimate
      .u32("deci.attention.key_length", 192)
      .u32("deci.attention.value_length", 96);
  const GgufInfo info = read_ok(b.build());
  EXPECT_EQ(info.head_count, 16u);
  EXPECT_EQ(info.head_count_kv, 8u);
  EXPECT_EQ(info.key_length, 192u);
  EXPECT_EQ(info.value_length, 96u);
  VramParams params;
  params.n_ctx = 512;
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 512ull * 4 * 8 * (192 * 2 + 96 * 2));
}

TEST_F(GgufReaderTest, KeysBeforeTheArchitectureAndOtherIntegerWidths) {
  GgufBuilder b;
  b.u64("phi3.block_count", 3)
      .u16("phi3.attention.head_count", 8)
      .i32("phi3.attention.head_count_kv", 2)
      .u64("phi3.embedding_length", 512)
      .u32("llama.block_count", 99)  // another architecture's key: ignored
      .str("general.architecture", "phi3")
      .u64("phi3.context_length", 4096);
  const GgufInfo info = read_ok(b.build());
  EXPECT_EQ(info.block_count, 3u);
  EXPECT_EQ(info.head_count, 8u);
  EXPECT_EQ(info.head_count_kv, 2u);
  EXPECT_EQ(info.embedding_length, 512u);
  EXPECT_EQ(info.context_length, 4096u);
  EXPECT_EQ(info.key_length, 64u);
  EXPECT_EQ(info.tensor_bytes, 0u);  // no tensors
}

TEST_F(GgufReaderTest, SkipsBigArraysQuicklyAndCountsTheVocabulary) {
  std::vector<std::string> tokens;
  tokens.reserve(150000);
  for (int i = 0; i < 150000; ++i) tokens.push_back("tok" + std::to_string(i));
  GgufBuilder b;
  b.str("general.architecture", "qwen3")
      .string_array("tokenizer.ggml.tokens", tokens)
      .f32_array("tokenizer.ggml.scores", 150000)
      .string_array("tokenizer.ggml.merges", {"a b", "c d"})
      .u32_array("tokenizer.ggml.token_type", std::vector<std::uint32_t>(150000, 1))
      .u32("qwen3.block_count", 36)  // after the arrays: still read
      .u32("qwen3.attention.head_count", 32)
      .u32("qwen3.embedding_length", 4096)
      .u32("qwen3.attention.key_length", 128)
      .u32("qwen3.attention.value_length", 128);
  const std::string bytes = b.build();
  const auto start = std::chrono::steady_clock::now();
  const GgufInfo info = read_ok(bytes);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(info.block_count, 36u);
  EXPECT_EQ(info.vocab_size, 150000u);  // no qwen3.vocab_size: the token list's length
  EXPECT_EQ(info.key_length, 128u);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(GgufReaderTest, MissingFileBadMagicAndVersions) {
  GgufInfo info;
  std::string error;
  EXPECT_FALSE(read_gguf_info((dir_ / "absent.gguf").string(), info, error));
  EXPECT_NE(error.find("absent.gguf: cannot open"), std::string::npos) << error;

  std::string bytes = llama_8b().build();
  bytes[0] = 'G';
  bytes[3] = 'L';
  EXPECT_NE(read_error(bytes).find("not a GGUF file (bad magic)"), std::string::npos);
  EXPECT_NE(read_error("").find("truncated"), std::string::npos);
  EXPECT_NE(read_error(llama_8b().build(1)).find("unsupported GGUF version 1"), std::string::npos);
  EXPECT_NE(read_error(llama_8b().build(0x03000000)).find("big-endian"), std::string::npos);
}

TEST_F(GgufReaderTest, EveryTruncationIsACleanError) {
  const std::string bytes = llama_8b().build();
  // Every length through the header, key/values and tensor infos; then a sample of the data.
  const std::size_t data_start = bytes.size() - kLlamaDataBytes;
  for (std::size_t len = 0; len < bytes.size(); len += len < data_start ? 1 : 97) {
    const auto path = write(bytes.substr(0, len));
    GgufInfo info;
    std::string error;
    ASSERT_FALSE(read_gguf_info(path, info, error)) << "length " << len;
    ASSERT_NE(error.find("truncated"), std::string::npos) << "length " << len << ": " << error;
  }
}

TEST_F(GgufReaderTest, CutOffTensorDataIsTruncated) {
  const std::string bytes = llama_8b().build();
  const std::string error = read_error(bytes.substr(0, bytes.size() - 1));
  EXPECT_NE(error.find("truncated file: tensor data needs " + std::to_string(bytes.size())), std::string::npos)
      << error;
}

TEST_F(GgufReaderTest, MissingBlockCountOrArchitecture) {
  GgufBuilder no_blocks;
  no_blocks.str("general.architecture", "llama").u32("llama.embedding_length", 4096);
  EXPECT_NE(read_error(no_blocks.build()).find("metadata lacks llama.block_count"), std::string::npos);
  GgufBuilder no_arch;
  no_arch.u32("llama.block_count", 32);
  EXPECT_NE(read_error(no_arch.build()).find("metadata lacks general.architecture"), std::string::npos);
  GgufBuilder out_of_range;
  out_of_range.str("general.architecture", "llama").u64("llama.block_count", 1ull << 40);
  EXPECT_NE(read_error(out_of_range.build()).find("llama.block_count is out of range"), std::string::npos);
}

// Lengths and counts from the file are checked before anything is allocated or looped over.
TEST_F(GgufReaderTest, HostileLengthsAndCountsFailFast) {
  const auto start = std::chrono::steady_clock::now();
  {
    std::string bytes = "GGUF";
    GgufBuilder::put32(bytes, 3);
    GgufBuilder::put64(bytes, 0);
    GgufBuilder::put64(bytes, 1);
    GgufBuilder::put64(bytes, 1ull << 62);  // key length
    bytes += "general.architecture";
    EXPECT_NE(read_error(bytes).find("runs past the end of the file"), std::string::npos);
  }
  {
    std::string value;
    GgufBuilder::put32(value, 8);
    GgufBuilder::put64(value, 0xffffffffffffffffull);  // string value length
    GgufBuilder b;
    b.raw("general.architecture", value);
    EXPECT_NE(read_error(b.build()).find("metadata key 'general.architecture' runs past"), std::string::npos);
  }
  {
    std::string value;
    GgufBuilder::put32(value, 9);
    GgufBuilder::put32(value, 8);
    GgufBuilder::put64(value, 1ull << 61);  // strings in an array
    GgufBuilder b;
    b.raw("tokenizer.ggml.tokens", value);
    EXPECT_NE(read_error(b.build()).find("array of 2305843009213693952 strings"), std::string::npos);
  }
  {
    std::string value;
    GgufBuilder::put32(value, 9);
    GgufBuilder::put32(value, 4);
    GgufBuilder::put64(value, 1ull << 62);  // u32 elements: 2^64 bytes would wrap a naive multiply
    GgufBuilder b;
    b.raw("llama.attention.head_count_kv", value);
    EXPECT_NE(read_error(b.build()).find("runs past the end of the file"), std::string::npos);
  }
  {
    std::string bytes = "GGUF";
    GgufBuilder::put32(bytes, 3);
    GgufBuilder::put64(bytes, 1ull << 60);  // tensors
    GgufBuilder::put64(bytes, 0);
    EXPECT_NE(read_error(bytes).find("tensors cannot fit in the file"), std::string::npos);
  }
  {
    std::string bytes = "GGUF";
    GgufBuilder::put32(bytes, 3);
    GgufBuilder::put64(bytes, 0);
    GgufBuilder::put64(bytes, 0xffffffffffffffffull);  // keys
    EXPECT_NE(read_error(bytes).find("metadata keys cannot fit in the file"), std::string::npos);
  }
  {
    GgufBuilder b;  // a long key that is really in the file is refused too
    b.u32(std::string(70000, 'k'), 1);
    EXPECT_NE(read_error(b.build()).find("string of 70000 bytes in a metadata key is too long"), std::string::npos);
  }
  {
    GgufBuilder b = llama_8b();
    b.tensor("bad", {1, 2, 3, 4, 5}, 0, 0);
    EXPECT_NE(read_error(b.build()).find("tensor 'bad' has 5 dimensions"), std::string::npos);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(GgufReaderTest, UnknownTypesAndNestedArraysAreErrors) {
  GgufBuilder unknown;
  unknown.raw("x.y", std::string("\x0d\0\0\0", 4));
  EXPECT_NE(read_error(unknown.build()).find("unknown value type 13 for metadata key 'x.y'"), std::string::npos);
  GgufBuilder nested;
  nested.raw("x.y", std::string("\x09\0\0\0\x09\0\0\0\0\0\0\0\0\0\0\0", 16));
  EXPECT_NE(read_error(nested.build()).find("nested arrays are not supported"), std::string::npos);
}

TEST_F(GgufReaderTest, UnknownTensorTypeFallsBackToFileSize) {
  GgufBuilder b = llama_8b();
  b.tensor("blk.0.future.weight", {256}, 77, 256);
  const std::string bytes = b.build();
  const GgufInfo info = read_ok(bytes);
  EXPECT_EQ(info.tensor_bytes, 0u);
  VramParams params;
  EXPECT_EQ(estimate_vram(info, params).weights_bytes, bytes.size());
}

TEST_F(GgufReaderTest, KvTypeBytesTable) {
  EXPECT_DOUBLE_EQ(kv_type_bytes("f32"), 4.0);
  EXPECT_DOUBLE_EQ(kv_type_bytes("f16"), 2.0);
  EXPECT_DOUBLE_EQ(kv_type_bytes("bf16"), 2.0);
  EXPECT_DOUBLE_EQ(kv_type_bytes("q8_0"), 34.0 / 32);
  EXPECT_DOUBLE_EQ(kv_type_bytes("q5_1"), 0.75);
  EXPECT_DOUBLE_EQ(kv_type_bytes("q5_0"), 0.6875);
  EXPECT_DOUBLE_EQ(kv_type_bytes("q4_1"), 0.625);
  EXPECT_DOUBLE_EQ(kv_type_bytes("q4_0"), 0.5625);
  EXPECT_DOUBLE_EQ(kv_type_bytes("iq4_nl"), 0.5625);
  EXPECT_DOUBLE_EQ(kv_type_bytes("Q8_0"), 34.0 / 32);
  EXPECT_DOUBLE_EQ(kv_type_bytes("q4_k"), 0.0);
  EXPECT_DOUBLE_EQ(kv_type_bytes(""), 0.0);
}

TEST_F(GgufReaderTest, PartialOffload) {
  const GgufInfo info = read_ok(llama_8b().build());
  VramParams params;
  params.n_ctx = 8192;
  params.n_gpu_layers = 999;
  const VramEstimate all = estimate_vram(info, params);
  EXPECT_EQ(all.weights_bytes, kLlamaTensorBytes);
  EXPECT_EQ(all.kv_cache_bytes, 1073741824ull);
  params.n_gpu_layers = 33;  // 32 layers + the output layer: everything
  EXPECT_EQ(estimate_vram(info, params).weights_bytes, kLlamaTensorBytes);
  params.n_gpu_layers = 32;  // the output layer stays on the CPU
  EXPECT_EQ(estimate_vram(info, params).weights_bytes, kLlamaTensorBytes * 32 / 33);
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 1073741824ull);
  params.n_gpu_layers = 8;
  const VramEstimate part = estimate_vram(info, params);
  EXPECT_EQ(part.weights_bytes, kLlamaTensorBytes * 8 / 33);
  EXPECT_EQ(part.kv_cache_bytes, 1073741824ull / 4);
  EXPECT_EQ(part.overhead_bytes, all.overhead_bytes);
  EXPECT_EQ(part.total_bytes, part.weights_bytes + part.kv_cache_bytes + part.overhead_bytes);
  params.n_gpu_layers = 0;
  EXPECT_EQ(estimate_vram(info, params).weights_bytes, 0u);
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 0u);
}

TEST_F(GgufReaderTest, OverheadFormula) {
  GgufInfo info = read_ok(llama_8b().build());
  VramParams params;
  params.n_ctx = 8192;
  // 512 x 128256 x 4 (logits) + 512 x 4096 x 64 (activations) + 512 x 8192 x 4 (mask) + 512 MiB.
  const std::uint64_t compute = 512ull * 128256 * 4 + 512ull * 4096 * 64 + 512ull * 8192 * 4;
  VramEstimate est = estimate_vram(info, params);
  EXPECT_EQ(est.overhead_bytes, compute + kCudaContextBytes);
  EXPECT_EQ(kCudaContextBytes, 512 * kMiB);
  EXPECT_EQ(est.total_bytes, kLlamaTensorBytes + 1073741824ull + compute + kCudaContextBytes);
  // A quantised cache adds the f16 copy of one layer's K and V.
  params.type_v = "q8_0";
  EXPECT_EQ(estimate_vram(info, params).overhead_bytes, compute + 8192ull * 8 * 256 * 2 + kCudaContextBytes);
  params.type_v = "f16";
  // The ubatch is at most the batch.
  params.n_batch = 256;
  EXPECT_EQ(estimate_vram(info, params).overhead_bytes, compute / 2 + kCudaContextBytes);
  // Vocabulary unknown: Gemma's 262144 is assumed.
  params.n_batch = 2048;
  info.vocab_size = 0;
  EXPECT_EQ(estimate_vram(info, params).overhead_bytes,
            compute - 512ull * 128256 * 4 + 512ull * 262144 * 4 + kCudaContextBytes);
}

GgufBuilder gemma3_like(std::uint32_t layers) {
  GgufBuilder b;
  b.str("general.architecture", "gemma3")
      .u32("gemma3.block_count", layers)
      .u32("gemma3.context_length", 131072)
      .u32("gemma3.embedding_length", 2560)
      .u32("gemma3.attention.head_count", 8)
      .u32("gemma3.attention.head_count_kv", 4)
      .u32("gemma3.attention.key_length", 256)
      .u32("gemma3.attention.value_length", 256)
      .u32("gemma3.attention.sliding_window", 1024);
  return b;
}

TEST_F(GgufReaderTest, SlidingWindowLayersKeepOnlyTheWindow) {
  const GgufInfo info = read_ok(gemma3_like(12).build());
  EXPECT_EQ(info.sliding_window, 1024u);
  EXPECT_EQ(info.swa_layer_count, -1);
  EXPECT_EQ(default_swa_layer_count("gemma3", 12), 10u);  // layers 5 and 11 are global
  VramParams params;
  params.n_ctx = 32768;
  const std::uint64_t cell = 4ull * (256 * 2 + 256 * 2);
  // 2 full layers x 32768 cells + 10 sliding layers x round_up_256(1024 + 512) = 1536 cells.
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 2 * 32768 * cell + 10 * 1536 * cell);
  // Four slots: 4 x (1024 + 512) = 6144 cells per sliding layer.
  params.parallel = 4;
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 2 * 32768 * cell + 10 * 6144 * cell);
  // A context shorter than the window: every layer holds the whole context.
  params.parallel = 1;
  params.n_ctx = 1024;
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 12 * 1024 * cell);
  // Partial offload: the full-context layers are assumed to be among the offloaded ones.
  params.n_ctx = 32768;
  params.n_gpu_layers = 3;
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 2 * 32768 * cell + 1 * 1536 * cell);
}

TEST_F(GgufReaderTest, SlidingWindowPatternFromTheFile) {
  GgufBuilder by_flags = gemma3_like(6);
  by_flags.bool_array("gemma3.attention.sliding_window_pattern", {true, false, true, false, true, true});
  EXPECT_EQ(read_ok(by_flags.build()).swa_layer_count, 4);
  GgufBuilder by_period = gemma3_like(8);
  by_period.u32("gemma3.attention.sliding_window_pattern", 4);  // layers 3 and 7 are full
  const GgufInfo info = read_ok(by_period.build());
  EXPECT_EQ(info.swa_layer_count, 6);
  VramParams params;
  params.n_ctx = 16384;
  const std::uint64_t cell = 4ull * 1024;
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 2 * 16384 * cell + 6 * 1536 * cell);
  GgufBuilder none = gemma3_like(8);
  none.u32("gemma3.attention.sliding_window_pattern", 1);  // every layer full
  EXPECT_EQ(read_ok(none.build()).swa_layer_count, 0);
}

TEST_F(GgufReaderTest, DefaultPatternsPerArchitecture) {
  EXPECT_EQ(default_swa_layer_count("gemma2", 42), 21u);
  EXPECT_EQ(default_swa_layer_count("gpt-oss", 24), 12u);
  EXPECT_EQ(default_swa_layer_count("cohere2", 40), 30u);
  EXPECT_EQ(default_swa_layer_count("gemma3", 62), 52u);
  EXPECT_EQ(default_swa_layer_count("smallthinker", 6), 4u);  // layers 0 and 4 are full
  EXPECT_EQ(default_swa_layer_count("mistral", 32), 0u);
  EXPECT_EQ(default_swa_layer_count("llama", 32), 0u);
}

TEST_F(GgufReaderTest, UnknownSlidingArchitectureCountsEveryLayerFull) {
  GgufBuilder b;
  b.str("general.architecture", "qwen2")
      .u32("qwen2.block_count", 4)
      .u32("qwen2.embedding_length", 1024)
      .u32("qwen2.attention.head_count", 8)
      .u32("qwen2.attention.sliding_window", 4096);  // llama.cpp ignores it for qwen2
  const GgufInfo info = read_ok(b.build());
  EXPECT_EQ(info.sliding_window, 4096u);
  VramParams params;
  params.n_ctx = 32768;
  EXPECT_EQ(estimate_vram(info, params).kv_cache_bytes, 32768ull * 4 * 8 * 512);
}

TEST_F(GgufReaderTest, HostileHeaderDoesNotWrapTheEstimate) {
  GgufInfo info;
  info.block_count = 0xffffffffu;
  info.head_count_kv = 0xffffffffu;
  info.key_length = info.value_length = 0xffffffffu;
  info.context_length = 0xffffffffu;
  const VramEstimate est = estimate_vram(info, VramParams{});
  EXPECT_EQ(est.kv_cache_bytes, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(est.total_bytes, std::numeric_limits<std::uint64_t>::max());
}

// Random byte damage must give either a parse or a clean error; never a crash or a hang.
TEST_F(GgufReaderTest, DamagedFilesNeverCrash) {
  GgufBuilder b = llama_8b();
  b.string_array("tokenizer.ggml.tokens", {"a", "b", "c"}).u32_array("llama.attention.head_count_kv", {8, 8});
  const std::string good = b.build();
  std::mt19937 rng(12345);
  for (int i = 0; i < 200; ++i) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    GgufInfo info;
    std::string error;
    if (!read_gguf_info(write(bytes), info, error)) {
      EXPECT_FALSE(error.empty());
    }
  }
}

}  // namespace
}  // namespace switchyard

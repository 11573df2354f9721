#include "local/gguf_reader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>
#include <vector>

namespace switchyard {
namespace {

// GGUF metadata value types.
enum GgufType : std::uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// Byte size of a fixed-size value type; 0 for string, array and unknown types.
std::uint64_t fixed_size(std::uint32_t type) {
  switch (type) {
    case kU8: case kI8: case kBool: return 1;
    case kU16: case kI16: return 2;
    case kU32: case kI32: case kF32: return 4;
    case kU64: case kI64: case kF64: return 8;
    default: return 0;
  }
}

bool is_integer(std::uint32_t type) {
  return type <= kI32 || type == kBool || type == kU64 || type == kI64;
}

// ggml tensor types: elements per block and bytes per block (ggml.h / ggml.c type traits). A zero
// block marks an id that is removed or unknown here.
struct GgmlBlock {
  std::uint32_t elements;
  std::uint32_t bytes;
};
constexpr std::array<GgmlBlock, 43> kGgmlBlocks = {{
    {1, 4},      // 0  f32
    {1, 2},      // 1  f16
    {32, 18},    // 2  q4_0
    {32, 20},    // 3  q4_1
    {0, 0},      // 4  (q4_2, removed)
    {0, 0},      // 5  (q4_3, removed)
    {32, 22},    // 6  q5_0
    {32, 24},    // 7  q5_1
    {32, 34},    // 8  q8_0
    {32, 36},    // 9  q8_1
    {256, 84},   // 10 q2_K
    {256, 110},  // 11 q3_K
    {256, 144},  // 12 q4_K
    {256, 176},  // 13 q5_K
    {256, 210},  // 14 q6_K
    {256, 292},  // 15 q8_K
    {256, 66},   // 16 iq2_xxs
    {256, 74},   // 17 iq2_xs
    {256, 98},   // 18 iq3_xxs
    {256, 50},   // 19 iq1_s
    {32, 18},    // 20 iq4_nl
    {256, 110},  // 21 iq3_s
    {256, 82},   // 22 iq2_s
    {256, 136},  // 23 iq4_xs
    {1, 1},      // 24 i8
    {1, 2},      // 25 i16
    {1, 4},      // 26 i32
    {1, 8},      // 27 i64
    {1, 8},      // 28 f64
    {256, 56},   // 29 iq1_m
    {1, 2},      // 30 bf16
    {0, 0},      // 31 (q4_0_4_4, removed from files)
    {0, 0},      // 32 (q4_0_4_8)
    {0, 0},      // 33 (q4_0_8_8)
    {256, 54},   // 34 tq1_0
    {256, 66},   // 35 tq2_0
    {0, 0},      // 36 (iq4_nl_4_4)
    {0, 0},      // 37 (iq4_nl_4_8)
    {0, 0},      // 38 (iq4_nl_8_8)
    {32, 17},    // 39 mxfp4
    {64, 36},    // 40 nvfp4
    {128, 18},   // 41 q1_0
    {64, 18},    // 42 q2_0
}};

// KV cache types llama-server accepts, as ggml blocks (so a row's bytes come out exact).
struct KvType {
  std::string_view name;
  GgmlBlock block;
};
constexpr std::array<KvType, 9> kKvTypes = {{
    {"f32", {1, 4}},     {"f16", {1, 2}},     {"bf16", {1, 2}},
    {"q8_0", {32, 34}},  {"q4_0", {32, 18}},  {"q4_1", {32, 20}},
    {"iq4_nl", {32, 18}}, {"q5_0", {32, 22}}, {"q5_1", {32, 24}},
}};

const KvType* find_kv_type(const std::string& type) {
  std::string lower(type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& kv : kKvTypes) {
    if (kv.name == lower) return &kv;
  }
  return nullptr;
}

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// Saturating arithmetic: a hostile header (block_count 4e9) must give a huge estimate, not a wrap.
std::uint64_t mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > kMax / a) return kMax;
  return a * b;
}
std::uint64_t add(std::uint64_t a, std::uint64_t b) { return b > kMax - a ? kMax : a + b; }

std::uint64_t round_up(std::uint64_t value, std::uint64_t to) {
  const std::uint64_t rem = value % to;
  return rem == 0 ? value : add(value, to - rem);
}

// Bytes of one cache row of `elements` values of a KV type (whole blocks, as ggml_row_size).
std::uint64_t kv_row_bytes(const std::string& type, std::uint64_t elements) {
  static constexpr GgmlBlock kF32{1, 4};
  const KvType* kv = find_kv_type(type);
  const GgmlBlock block = kv != nullptr ? kv->block : kF32;
  return mul((elements + block.elements - 1) / block.elements, block.bytes);
}

// The file, read through a buffer so that skipping 150k short strings costs no syscall each.
class GgufStream {
 public:
  bool open(const std::string& path) {
    in_.open(path, std::ios::binary);
    if (!in_) return false;
    in_.seekg(0, std::ios::end);
    const auto end = in_.tellg();
    if (end < 0) return false;
    size_ = static_cast<std::uint64_t>(end);
    in_.seekg(0, std::ios::beg);
    buffer_.resize(kBufferBytes);
    return static_cast<bool>(in_);
  }
  std::uint64_t size() const { return size_; }
  std::uint64_t tell() const { return buffer_offset_ + pos_; }
  std::uint64_t remaining() const { return size_ > tell() ? size_ - tell() : 0; }

  bool read(void* out, std::size_t n) {
    auto* dst = static_cast<char*>(out);
    while (n > 0) {
      if (pos_ == len_ && !fill()) return false;
      const std::size_t take = std::min(n, len_ - pos_);
      std::copy_n(buffer_.data() + pos_, take, dst);
      pos_ += take;
      dst += take;
      n -= take;
    }
    return true;
  }

  bool skip(std::uint64_t n) {
    if (n > remaining()) return false;
    if (n <= len_ - pos_) {
      pos_ += static_cast<std::size_t>(n);
      return true;
    }
    const std::uint64_t target = tell() + n;
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(target), std::ios::beg);
    if (!in_) return false;
    buffer_offset_ = target;
    pos_ = len_ = 0;
    return true;
  }

 private:
  static constexpr std::size_t kBufferBytes = 64 * 1024;

  bool fill() {
    buffer_offset_ += len_;
    pos_ = len_ = 0;
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    len_ = static_cast<std::size_t>(in_.gcount());
    return len_ > 0;
  }

  std::ifstream in_;
  std::vector<char> buffer_;
  std::uint64_t size_ = 0;
  std::uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
};

// The architecture-prefixed keys the estimate needs; the prefix is only known once
// general.architecture is read, which need not come first.
enum class Field { kBlockCount, kContextLength, kEmbeddingLength, kVocabSize, kHeadCount, kHeadCountKv,
                   kKeyLength, kValueLength, kSlidingWindow, kSlidingWindowPattern };
struct FieldName {
  std::string_view suffix;
  Field field;
};
constexpr std::array<FieldName, 10> kFieldNames = {{
    {".block_count", Field::kBlockCount},
    {".context_length", Field::kContextLength},
    {".embedding_length", Field::kEmbeddingLength},
    {".vocab_size", Field::kVocabSize},
    {".attention.head_count", Field::kHeadCount},
    {".attention.head_count_kv", Field::kHeadCountKv},
    {".attention.key_length", Field::kKeyLength},
    {".attention.value_length", Field::kValueLength},
    {".attention.sliding_window", Field::kSlidingWindow},
    {".attention.sliding_window_pattern", Field::kSlidingWindowPattern},
}};

// One such key as found: a scalar, or an integer array summarised (per-layer head counts, SWA flags).
struct FoundField {
  std::string prefix;
  Field field;
  bool is_array = false;
  std::uint64_t value = 0;     // the scalar, or the array's first element
  std::uint64_t max = 0;       // the array's largest element
  std::uint64_t nonzero = 0;   // how many elements are non-zero (true)
};

class GgufParser {
 public:
  GgufParser(const std::string& path, GgufInfo& info, std::string& error)
      : path_(path), info_(info), error_(error) {}

  bool parse() {
    if (!stream_.open(path_)) return fail("cannot open the file");
    info_.file_bytes = stream_.size();
    char magic[4];
    if (!stream_.read(magic, 4)) return fail("truncated: shorter than a GGUF header");
    if (std::string_view(magic, 4) != "GGUF") return fail("not a GGUF file (bad magic)");
    std::uint32_t version = 0;
    std::uint64_t tensor_count = 0;
    std::uint64_t kv_count = 0;
    if (!u32(version)) return truncated("the header");
    if (version != 2 && version != 3) {
      return fail("unsupported GGUF version " + std::to_string(version) +
                  (version > 0xffff ? " (a big-endian file?)" : " (2 or 3 expected)"));
    }
    if (!u64(tensor_count) || !u64(kv_count)) return truncated("the header");
    // Each key/value takes at least 13 bytes (key length, type, one byte); each tensor info 24.
    if (kv_count > stream_.remaining() / 13) {
      return fail("corrupt or truncated: " + std::to_string(kv_count) + " metadata keys cannot fit in the file");
    }
    if (tensor_count > stream_.remaining() / 24) {
      return fail("corrupt or truncated: " + std::to_string(tensor_count) + " tensors cannot fit in the file");
    }
    for (std::uint64_t i = 0; i < kv_count; ++i) {
      if (!read_key_value()) return false;
    }
    if (!resolve_fields()) return false;
    return read_tensor_infos(tensor_count);
  }

 private:
  static constexpr std::uint64_t kMaxKeyBytes = 64 * 1024;
  static constexpr std::uint64_t kMaxArchitectureBytes = 256;
  static constexpr std::size_t kMaxFoundFields = 256;
  static constexpr std::uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

  bool fail(const std::string& what) {
    error_ = path_ + ": " + what;
    return false;
  }
  bool truncated(const std::string& where) { return fail("truncated file (in " + where + ")"); }

  bool u32(std::uint32_t& out) {
    unsigned char b[4];
    if (!stream_.read(b, 4)) return false;
    out = static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
          static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
    return true;
  }
  bool u64(std::uint64_t& out) {
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
    if (!u32(lo) || !u32(hi)) return false;
    out = static_cast<std::uint64_t>(hi) << 32 | lo;
    return true;
  }

  // A string's length, checked against `max_len` and against what is left of the file.
  bool string_length(std::uint64_t& len, std::uint64_t max_len, const std::string& where) {
    if (!u64(len)) return truncated(where);
    if (len > stream_.remaining()) {
      return fail("corrupt or truncated: string of " + std::to_string(len) + " bytes in " + where +
                  " runs past the end of the file");
    }
    if (len > max_len) return fail("string of " + std::to_string(len) + " bytes in " + where + " is too long");
    return true;
  }
  bool read_string(std::string& out, std::uint64_t max_len, const std::string& where) {
    std::uint64_t len = 0;
    if (!string_length(len, max_len, where)) return false;
    out.resize(static_cast<std::size_t>(len));
    return stream_.read(out.data(), out.size()) || truncated(where);
  }
  bool skip_string(const std::string& where) {
    std::uint64_t len = 0;
    return string_length(len, kMax, where) && (stream_.skip(len) || truncated(where));
  }

  // An integer value of any width, as unsigned; negative values count as 0 (no valid size is).
  bool read_integer(std::uint32_t type, std::uint64_t& out) {
    unsigned char b[8] = {};
    const std::uint64_t size = fixed_size(type);
    if (!stream_.read(b, static_cast<std::size_t>(size))) return false;
    std::uint64_t raw = 0;
    for (std::uint64_t i = 0; i < size; ++i) raw |= static_cast<std::uint64_t>(b[i]) << (8 * i);
    const bool is_signed = type == kI8 || type == kI16 || type == kI32 || type == kI64;
    const bool negative = is_signed && (b[size - 1] & 0x80) != 0;
    out = negative ? 0 : raw;
    return true;
  }

  const FieldName* field_of(const std::string& key, std::string& prefix) const {
    if (key.rfind("general.", 0) == 0) return nullptr;
    for (const auto& name : kFieldNames) {
      if (key.size() > name.suffix.size() && key.ends_with(name.suffix)) {
        prefix = key.substr(0, key.size() - name.suffix.size());
        // Once the architecture is known, other prefixes are of no use.
        if (!info_.architecture.empty() && prefix != info_.architecture) return nullptr;
        return &name;
      }
    }
    return nullptr;
  }

  bool read_key_value() {
    std::string key;
    if (!read_string(key, kMaxKeyBytes, "a metadata key")) return false;
    const std::string where = "metadata key '" + key + "'";
    std::uint32_t type = 0;
    if (!u32(type)) return truncated(where);

    if (type == kString) {
      if (key == "general.architecture") return read_string(info_.architecture, kMaxArchitectureBytes, where);
      return skip_string(where);
    }
    if (key == "general.alignment" && is_integer(type) && type != kBool) {
      std::uint64_t alignment = 0;
      if (!read_integer(type, alignment)) return truncated(where);
      // A power of two, as llama.cpp requires; anything else leaves the default.
      if (alignment != 0 && alignment <= (1u << 20) && (alignment & (alignment - 1)) == 0) alignment_ = alignment;
      return true;
    }
    std::string prefix;
    const FieldName* name = field_of(key, prefix);
    if (type == kArray) return read_array(key, where, name, prefix);
    const std::uint64_t size = fixed_size(type);
    if (size == 0) return fail("unknown value type " + std::to_string(type) + " for " + where);
    if (name == nullptr || !is_integer(type)) return stream_.skip(size) || truncated(where);
    FoundField found{prefix, name->field};
    if (!read_integer(type, found.value)) return truncated(where);
    found.max = found.value;
    remember(std::move(found));
    return true;
  }

  bool read_array(const std::string& key, const std::string& where, const FieldName* name,
                  const std::string& prefix) {
    std::uint32_t elem_type = 0;
    std::uint64_t count = 0;
    if (!u32(elem_type) || !u64(count)) return truncated(where);
    if (elem_type == kArray) return fail("nested arrays are not supported (" + where + ")");
    if (elem_type == kString) {
      // Every string costs at least its 8-byte length.
      if (count > stream_.remaining() / 8) {
        return fail("corrupt or truncated: array of " + std::to_string(count) + " strings in " + where +
                    " cannot fit in the file");
      }
      if (key == "tokenizer.ggml.tokens") vocab_from_tokens_ = count;
      for (std::uint64_t i = 0; i < count; ++i) {
        if (!skip_string(where)) return false;
      }
      return true;
    }
    const std::uint64_t size = fixed_size(elem_type);
    if (size == 0) return fail("unknown array element type " + std::to_string(elem_type) + " for " + where);
    if (count > stream_.remaining() / size) {
      return fail("corrupt or truncated: array of " + std::to_string(count) + " elements in " + where +
                  " runs past the end of the file");
    }
    if (name == nullptr || !is_integer(elem_type)) return stream_.skip(count * size) || truncated(where);
    // Per-layer values: at most a few hundred elements, each already known to be in the file.
    FoundField found{prefix, name->field, true};
    for (std::uint64_t i = 0; i < count; ++i) {
      std::uint64_t value = 0;
      if (!read_integer(elem_type, value)) return truncated(where);
      if (i == 0) found.value = value;
      found.max = std::max(found.max, value);
      if (value != 0) ++found.nonzero;
    }
    remember(std::move(found));
    return true;
  }

  void remember(FoundField found) {
    // Bounded: a file with a million differently prefixed keys must not grow this without limit.
    if (found_.size() < kMaxFoundFields) found_.push_back(std::move(found));
  }

  bool resolve_fields() {
    if (info_.architecture.empty()) return fail("metadata lacks general.architecture");
    bool have_block_count = false;
    bool have_head_count_kv = false;
    bool have_key_length = false;
    bool have_value_length = false;
    bool range_error = false;
    std::string bad_key;
    auto narrow = [&](const FoundField& f, std::uint64_t v, std::uint32_t& out) {
      if (v > std::numeric_limits<std::uint32_t>::max()) {
        range_error = true;
        for (const auto& name : kFieldNames) {
          if (name.field == f.field) bad_key = f.prefix + std::string(name.suffix);
        }
        return;
      }
      out = static_cast<std::uint32_t>(v);
    };
    for (const auto& f : found_) {
      if (f.prefix != info_.architecture) continue;
      switch (f.field) {
        case Field::kBlockCount: narrow(f, f.value, info_.block_count); have_block_count = true; break;
        case Field::kContextLength: narrow(f, f.value, info_.context_length); break;
        case Field::kEmbeddingLength: narrow(f, f.value, info_.embedding_length); break;
        case Field::kVocabSize: narrow(f, f.value, info_.vocab_size); break;
        // llama.cpp derives the head size from the first layer's head count.
        case Field::kHeadCount: narrow(f, f.value != 0 ? f.value : f.max, info_.head_count); break;
        // The largest per-layer KV head count: an overestimate for mixed layers, never an under one.
        case Field::kHeadCountKv: narrow(f, f.max, info_.head_count_kv); have_head_count_kv = true; break;
        case Field::kKeyLength: narrow(f, f.max, info_.key_length); have_key_length = true; break;
        case Field::kValueLength: narrow(f, f.max, info_.value_length); have_value_length = true; break;
        case Field::kSlidingWindow: narrow(f, f.max, info_.sliding_window); break;
        case Field::kSlidingWindowPattern: pattern_ = f; have_pattern_ = true; break;
      }
    }
    if (range_error) return fail("metadata value of " + bad_key + " is out of range");
    if (!have_block_count) return fail("metadata lacks " + info_.architecture + ".block_count");
    if (info_.vocab_size == 0 && vocab_from_tokens_ <= std::numeric_limits<std::uint32_t>::max()) {
      info_.vocab_size = static_cast<std::uint32_t>(vocab_from_tokens_);
    }
    if (!have_head_count_kv) info_.head_count_kv = info_.head_count;
    const std::uint32_t head_size = info_.head_count != 0 ? info_.embedding_length / info_.head_count : 0;
    if (!have_key_length) info_.key_length = head_size;
    if (!have_value_length) info_.value_length = head_size;
    if (have_pattern_) {
      if (pattern_.is_array) {
        // One flag per layer, true for a sliding-window layer.
        info_.swa_layer_count = static_cast<std::int32_t>(std::min<std::uint64_t>(pattern_.nonzero, info_.block_count));
      } else if (pattern_.value != 0 && pattern_.value <= info_.block_count) {
        // A period p: the last layer of every p is full, as llama.cpp's set_swa_pattern(p).
        const std::uint64_t full = info_.block_count / pattern_.value;
        info_.swa_layer_count = static_cast<std::int32_t>(info_.block_count - full);
      }
      // A period of 0 or beyond the layer count says nothing usable: the architecture's default holds.
    }
    return true;
  }

  bool read_tensor_infos(std::uint64_t tensor_count) {
    std::uint64_t total = 0;
    std::uint64_t data_end = 0;  // the furthest byte of tensor data, relative to the data section
    bool computable = true;
    std::string name;
    for (std::uint64_t i = 0; i < tensor_count; ++i) {
      const std::string where = "tensor info " + std::to_string(i);
      if (!read_string(name, kMaxKeyBytes, where)) return false;
      std::uint32_t n_dims = 0;
      if (!u32(n_dims)) return truncated(where);
      if (n_dims > kMaxDims) {
        return fail("tensor '" + name + "' has " + std::to_string(n_dims) + " dimensions (at most 4)");
      }
      std::uint64_t dims[kMaxDims] = {1, 1, 1, 1};
      for (std::uint32_t d = 0; d < n_dims; ++d) {
        if (!u64(dims[d])) return truncated(where);
      }
      std::uint32_t type = 0;
      std::uint64_t offset = 0;
      if (!u32(type) || !u64(offset)) return truncated(where);
      const GgmlBlock block = type < kGgmlBlocks.size() ? kGgmlBlocks[type] : GgmlBlock{0, 0};
      if (block.elements == 0 || dims[0] % block.elements != 0) {
        computable = false;  // a type this table does not know: fall back to the file size
        continue;
      }
      std::uint64_t bytes = mul(dims[0] / block.elements, block.bytes);
      for (std::uint32_t d = 1; d < n_dims; ++d) bytes = mul(bytes, dims[d]);
      total = add(total, bytes);
      data_end = std::max(data_end, add(offset, bytes));
    }
    if (!computable) return true;
    // The data section starts at the next multiple of general.alignment (32 unless set).
    const std::uint64_t data_start = round_up(stream_.tell(), alignment_);
    if (add(data_start, data_end) > stream_.size()) {
      return fail("truncated file: tensor data needs " + std::to_string(add(data_start, data_end)) +
                  " bytes, the file has " + std::to_string(stream_.size()));
    }
    info_.tensor_bytes = total;
    return true;
  }

  const std::string& path_;
  GgufInfo& info_;
  std::string& error_;
  GgufStream stream_;
  std::vector<FoundField> found_;
  FoundField pattern_{};
  bool have_pattern_ = false;
  std::uint64_t vocab_from_tokens_ = 0;
  std::uint64_t alignment_ = 32;
};

// llama.cpp names the parts of a split model "<prefix>-00001-of-00003.gguf" (llama_split_path) and
// loads them all from the first. Adds the other parts' sizes to `info`.
bool add_split_parts(const std::string& path, GgufInfo& info, std::string& error) {
  constexpr std::string_view kSuffix = ".gguf";
  constexpr std::size_t kNumber = 5;  // "%05d"
  constexpr std::size_t kTail = 1 + kNumber + 4 + kNumber + kSuffix.size();  // "-00001-of-00003.gguf"
  const std::string_view name = path;
  if (name.size() <= kTail || !name.ends_with(kSuffix)) return true;
  const std::string_view tail = name.substr(name.size() - kTail);
  if (tail[0] != '-' || tail.substr(1 + kNumber, 4) != "-of-") return true;
  std::uint32_t part = 0;
  std::uint32_t count = 0;
  const auto number = [](std::string_view digits, std::uint32_t& out) {
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
    return std::from_chars(digits.data(), digits.data() + digits.size(), out).ec == std::errc{};
  };
  if (!number(tail.substr(1, kNumber), part) || !number(tail.substr(1 + kNumber + 4, kNumber), count) || count < 2)
    return true;
  const std::string prefix(name.substr(0, name.size() - kTail));
  const auto part_path = [&](std::uint32_t n) {
    char digits[32];
    std::snprintf(digits, sizeof digits, "-%05u-of-%05u.gguf", n, count);
    return prefix + digits;
  };
  if (part != 1) {
    error = path + ": part " + std::to_string(part) + " of a split model: give the first part, " + part_path(1);
    return false;
  }
  std::uint64_t others = 0;
  for (std::uint32_t n = 2; n <= count; ++n) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(part_path(n), ec);
    if (ec) {
      error = path + ": part " + std::to_string(n) + " of " + std::to_string(count) + " is missing (" + part_path(n) + ")";
      return false;
    }
    others += size;
  }
  info.split_count = count;
  info.file_bytes += others;
  if (info.tensor_bytes != 0) info.tensor_bytes += others;
  return true;
}

}  // namespace

bool read_gguf_info(const std::string& path, GgufInfo& info, std::string& error) {
  GgufInfo parsed;
  GgufParser parser(path, parsed, error);
  if (!parser.parse() || !add_split_parts(path, parsed, error)) return false;
  info = std::move(parsed);
  return true;
}

double kv_type_bytes(const std::string& type) {
  const KvType* kv = find_kv_type(type);
  if (kv == nullptr) return 0.0;
  return static_cast<double>(kv->block.bytes) / static_cast<double>(kv->block.elements);
}

std::uint32_t default_swa_layer_count(const std::string& architecture, std::uint32_t block_count) {
  struct Pattern {
    std::string_view architecture;
    std::uint32_t period;  // one full-attention layer in every `period`
    bool dense_first;      // the full layer opens each period instead of closing it
  };
  // llama.cpp's set_swa_pattern() calls per architecture (src/llama-model.cpp).
  static constexpr std::array<Pattern, 12> kPatterns = {{
      {"gemma2", 2, false},   {"gpt-oss", 2, false},      {"cohere2", 4, false},
      {"exaone4", 4, false},  {"llama4", 4, false},       {"olmo2", 4, false},
      {"afmoe", 4, false},    {"smallthinker", 4, true},  {"gemma3n", 5, false},
      {"gemma3", 6, false},   {"gemma-embedding", 6, false}, {"exaone-moe", 4, false},
  }};
  for (const auto& p : kPatterns) {
    if (p.architecture != architecture) continue;
    // Full layers: il % p == p - 1 (closing) or il % p == 0 (opening).
    const std::uint32_t full = p.dense_first ? (block_count + p.period - 1) / p.period : block_count / p.period;
    return block_count - full;
  }
  return 0;
}

VramEstimate estimate_vram(const GgufInfo& info, const VramParams& params) {
  VramEstimate est;
  const std::uint64_t layers = info.block_count;

  std::uint64_t ctx = params.n_ctx != 0 ? params.n_ctx : info.context_length;
  if (ctx == 0) ctx = 4096;
  ctx = round_up(ctx, 256);

  const std::uint64_t model_bytes = info.tensor_bytes != 0 ? info.tensor_bytes : info.file_bytes;
  const std::uint64_t offloaded = std::min<std::uint64_t>(params.n_gpu_layers, layers + 1);
  est.weights_bytes = static_cast<std::uint64_t>(static_cast<long double>(model_bytes) *
                                                 static_cast<long double>(offloaded) /
                                                 static_cast<long double>(layers + 1));

  const std::uint64_t ubatch = std::max<std::uint64_t>(1, std::min(params.n_ubatch, params.n_batch));
  const std::uint64_t gpu_layers = std::min<std::uint64_t>(params.n_gpu_layers, layers);
  std::uint64_t swa_layers = 0;
  if (info.sliding_window > 0) {
    swa_layers = info.swa_layer_count >= 0 ? static_cast<std::uint64_t>(info.swa_layer_count)
                                           : default_swa_layer_count(info.architecture, info.block_count);
    swa_layers = std::min(swa_layers, layers);
  }
  // Partial offload: assume the full-context layers are the ones on the GPU (the larger estimate).
  const std::uint64_t full_layers = layers - swa_layers;
  const std::uint64_t full_on_gpu = std::min(full_layers, gpu_layers);
  const std::uint64_t swa_on_gpu = gpu_layers - full_on_gpu;
  const std::uint64_t parallel = std::max<std::uint32_t>(1, params.parallel);
  const std::uint64_t swa_cells =
      std::min(ctx, round_up(mul(parallel, add(info.sliding_window, ubatch)), 256));

  const std::uint64_t cell_bytes = mul(info.head_count_kv, add(kv_row_bytes(params.type_k, info.key_length),
                                                               kv_row_bytes(params.type_v, info.value_length)));
  est.kv_cache_bytes = add(mul(mul(full_on_gpu, ctx), cell_bytes), mul(mul(swa_on_gpu, swa_cells), cell_bytes));

  const std::uint64_t vocab = info.vocab_size != 0 ? info.vocab_size : 262144;
  std::uint64_t compute = mul(mul(ubatch, vocab), 4);
  compute = add(compute, mul(mul(ubatch, info.embedding_length), 4 * 16));
  compute = add(compute, mul(mul(ubatch, ctx), 4));
  const auto is_float = [](const std::string& t) {
    const KvType* kv = find_kv_type(t);
    return kv == nullptr || kv->block.elements == 1;
  };
  if (!is_float(params.type_k) || !is_float(params.type_v)) {
    compute = add(compute, mul(mul(ctx, info.head_count_kv),
                               mul(add(info.key_length, info.value_length), 2)));
  }
  est.overhead_bytes = add(compute, kCudaContextBytes);
  est.total_bytes = add(add(est.weights_bytes, est.kv_cache_bytes), est.overhead_bytes);
  return est;
}

}  // namespace switchyard

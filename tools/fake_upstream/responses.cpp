// Response bytes for the fake upstream, written straight into reusable buffers (no JSON DOM).
#include "responses.hpp"

#include <boost/beast/http/status.hpp>
#include <openssl/evp.h>

#include <charconv>
#include <cmath>
#include <vector>

namespace fake_upstream {
namespace {

constexpr std::string_view kFingerprint = R"(,"system_fingerprint":"b1-fake")";

struct TokenCache {
  std::string text;                // "tok0 tok1 tok2 ..."
  std::vector<std::uint32_t> ends; // ends[i]: offset just past token i

  void ensure(int n) {
    while (static_cast<int>(ends.size()) < n) {
      text += "tok";
      append_int(text, static_cast<std::int64_t>(ends.size()));
      text += ' ';
      ends.push_back(static_cast<std::uint32_t>(text.size()));
    }
  }
};

TokenCache& token_cache() {
  thread_local TokenCache cache;
  return cache;
}

void append_usage_and_timings(std::string& out, const Completion& c) {
  const int p = c.prompt_tokens;
  const int n = c.completion_tokens;
  out += R"("usage":{"prompt_tokens":)";
  append_int(out, p);
  out += R"(,"completion_tokens":)";
  append_int(out, n);
  out += R"(,"total_tokens":)";
  append_int(out, static_cast<std::int64_t>(p) + n);
  out += R"(,"prompt_tokens_details":{"cached_tokens":0}},"timings":{"cache_n":0,"prompt_n":)";
  append_int(out, p);
  out += R"(,"prompt_ms":)";
  append_double(out, c.timings.prompt_ms);
  out += R"(,"prompt_per_token_ms":)";
  append_double(out, p > 0 ? c.timings.prompt_ms / p : 0.0);
  out += R"(,"prompt_per_second":)";
  append_double(out, c.timings.prompt_ms > 0 ? 1e3 * p / c.timings.prompt_ms : 0.0);
  out += R"(,"predicted_n":)";
  append_int(out, n);
  out += R"(,"predicted_ms":)";
  append_double(out, c.timings.predicted_ms);
  out += R"(,"predicted_per_token_ms":)";
  append_double(out, n > 0 ? c.timings.predicted_ms / n : 0.0);
  out += R"(,"predicted_per_second":)";
  append_double(out, c.timings.predicted_ms > 0 ? 1e3 * n / c.timings.predicted_ms : 0.0);
  out += '}';
}

std::string_view finish_reason(const Completion& c) {
  if (!c.tool_json.empty()) return R"("tool_calls")";
  return c.length_limited ? R"("length")" : R"("stop")";
}

}  // namespace

// Wraps `event` (one SSE event) into one HTTP chunk.
void append_chunk(std::string& out, std::string_view event) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, event.size(), 16);
  out.append(buf, end);
  out += "\r\n";
  out += event;
  out += "\r\n";
}

namespace {

void start_event(std::string& event, std::string_view prefix) {
  event.clear();
  event += "data: ";
  event += prefix;
}

}  // namespace

std::string_view token_text(int n) {
  if (n <= 0) {
    return {};
  }
  TokenCache& cache = token_cache();
  cache.ensure(n);
  return std::string_view(cache.text).substr(0, cache.ends[n - 1]);
}

std::string_view token(int i) {
  TokenCache& cache = token_cache();
  cache.ensure(i + 1);
  const std::uint32_t begin = i == 0 ? 0 : cache.ends[i - 1];
  return std::string_view(cache.text).substr(begin, cache.ends[i] - begin);
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    v = 0;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_json_escaped(out, s);
  out += '"';
}

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += ch;
    }
  }
}

void embedding_values(int i, float (&values)[kEmbeddingSize]) {
  for (int j = 0; j < kEmbeddingSize; ++j) {
    // Deterministic, varied values in [-0.5, 0.5].
    values[j] = static_cast<float>(((i * kEmbeddingSize + j) * 37) % 101 - 50) / 100.0f;
  }
}

void append_embedding_array(std::string& out, int i) {
  float values[kEmbeddingSize];
  embedding_values(i, values);
  out += '[';
  for (int j = 0; j < kEmbeddingSize; ++j) {
    if (j != 0) {
      out += ',';
    }
    append_double(out, values[j]);
  }
  out += ']';
}

void append_head(std::string& out, int status, std::string_view content_type,
                 std::size_t content_length, bool keep_alive) {
  out += "HTTP/1.1 ";
  append_int(out, status);
  out += ' ';
  // 529 (Anthropic's "overloaded") is not in Beast's table.
  out += status == 529 ? std::string_view("Overloaded")
                       : std::string_view(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status)));
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  append_int(out, static_cast<std::int64_t>(content_length));
  out += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
}

void append_stream_head(std::string& out, bool keep_alive) {
  out += "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
         "Transfer-Encoding: chunked\r\n";
  out += keep_alive ? "\r\n" : "Connection: close\r\n\r\n";
}

std::string_view error_type(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    case 501:
      return "not_supported_error";
    case 503:
      return "unavailable_error";
    default:
      return status >= 400 && status < 500 ? "invalid_request_error" : "server_error";
  }
}

void append_error_body(std::string& out, int status, std::string_view message) {
  out += R"({"error":{"code":)";
  append_int(out, status);
  out += R"(,"message":)";
  append_json_string(out, message);
  out += R"(,"type":")";
  out += error_type(status);
  out += R"("}})";
}

void append_openai_invalid_request_body(std::string& out, std::string_view message,
                                        std::string_view param, std::string_view code) {
  out += R"({"error":{"message":)";
  append_json_string(out, message);
  out += R"(,"type":"invalid_request_error","param":)";
  if (param.empty()) {
    out += "null";
  } else {
    append_json_string(out, param);
  }
  out += R"(,"code":)";
  if (code.empty()) {
    out += "null";
  } else {
    append_json_string(out, code);
  }
  out += "}}";
}

void append_completion_body(std::string& out, const Completion& c) {
  const bool chat = c.endpoint == Endpoint::chat;
  out += chat ? R"({"id":"chatcmpl-)" : R"({"id":"cmpl-)";
  append_int(out, static_cast<std::int64_t>(c.id));
  out += chat ? R"(","object":"chat.completion","created":)"
              : R"(","object":"text_completion","created":)";
  append_int(out, c.created);
  out += R"(,"model":)";
  out += c.model_json;
  out += kFingerprint;
  if (chat && !c.tool_json.empty()) {
    out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_fake_)";
    append_int(out, static_cast<std::int64_t>(c.id));
    out += R"(","type":"function","function":{"name":)";
    out += c.tool_json;
    out += R"(,"arguments":)";
    append_json_string(out, kToolArguments);
    out += R"(}}]},"logprobs":null,"finish_reason":)";
  } else if (chat) {
    out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":")";
    append_json_escaped(out, c.text_prefix);
    out += token_text(c.completion_tokens);
    out += R"("},"logprobs":null,"finish_reason":)";
  } else {
    out += R"(,"choices":[{"text":")";
    out += token_text(c.completion_tokens);
    out += R"(","index":0,"logprobs":null,"finish_reason":)";
  }
  out += finish_reason(c);
  out += "}],";
  append_usage_and_timings(out, c);
  out += '}';
}

void append_embeddings_body(std::string& out, const Completion& c, int inputs, bool base64) {
  out += R"({"object":"list","data":[)";
  for (int i = 0; i < inputs; ++i) {
    out += i == 0 ? R"({"object":"embedding","index":)" : R"(,{"object":"embedding","index":)";
    append_int(out, i);
    if (base64) {
      float values[kEmbeddingSize];
      embedding_values(i, values);
      unsigned char encoded[4 * ((sizeof values + 2) / 3) + 1];
      const int length = EVP_EncodeBlock(encoded, reinterpret_cast<const unsigned char*>(values), sizeof values);
      out += R"(,"embedding":")";
      out.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(length));
      out += "\"}";
      continue;
    }
    out += R"(,"embedding":)";
    append_embedding_array(out, i);
    out += '}';
  }
  out += R"(],"model":)";
  out += c.model_json;
  out += R"(,"usage":{"prompt_tokens":)";
  append_int(out, c.prompt_tokens);
  out += R"(,"total_tokens":)";
  append_int(out, c.prompt_tokens);
  out += "}}";
}

void append_stream_prefix(std::string& prefix, const Completion& c) {
  const bool chat = c.endpoint == Endpoint::chat;
  prefix += chat ? R"({"id":"chatcmpl-)" : R"({"id":"cmpl-)";
  append_int(prefix, static_cast<std::int64_t>(c.id));
  prefix += chat ? R"(","object":"chat.completion.chunk","created":)"
                 : R"(","object":"text_completion","created":)";
  append_int(prefix, c.created);
  prefix += R"(,"model":)";
  prefix += c.model_json;
  prefix += kFingerprint;
  prefix += R"(,"choices":[)";
}

void append_role_chunk(std::string& out, std::string& event, std::string_view prefix) {
  start_event(event, prefix);
  event += R"({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,)"
           R"("finish_reason":null}]})"
           "\n\n";
  append_chunk(out, event);
}

void append_token_chunk(std::string& out, std::string& event, std::string_view prefix,
                        Endpoint endpoint, int i) {
  start_event(event, prefix);
  if (endpoint == Endpoint::chat) {
    event += R"({"index":0,"delta":{"content":")";
    event += token(i);
    event += R"("},"logprobs":null,"finish_reason":null}]})"
             "\n\n";
  } else {
    event += R"({"text":")";
    event += token(i);
    event += R"(","index":0,"logprobs":null,"finish_reason":null}]})"
             "\n\n";
  }
  append_chunk(out, event);
}

void append_text_chunk(std::string& out, std::string& event, std::string_view prefix,
                       std::string_view text) {
  start_event(event, prefix);
  event += R"({"index":0,"delta":{"content":")";
  append_json_escaped(event, text);
  event += R"("},"logprobs":null,"finish_reason":null}]})"
           "\n\n";
  append_chunk(out, event);
}

void append_finish_chunk(std::string& out, std::string& event, std::string_view prefix,
                         const Completion& c) {
  start_event(event, prefix);
  event += c.endpoint == Endpoint::chat ? R"({"index":0,"delta":{},"logprobs":null,"finish_reason":)"
                                        : R"({"text":"","index":0,"logprobs":null,"finish_reason":)";
  event += finish_reason(c);
  event += "}]}\n\n";
  append_chunk(out, event);
}

void append_usage_chunk(std::string& out, std::string& event, std::string_view prefix,
                        const Completion& c) {
  start_event(event, prefix);
  event += "],";
  append_usage_and_timings(event, c);
  event += "}\n\n";
  append_chunk(out, event);
}

void append_tool_call_start_chunk(std::string& out, std::string& event, std::string_view prefix,
                                  const Completion& c) {
  start_event(event, prefix);
  event += R"({"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_fake_)";
  append_int(event, static_cast<std::int64_t>(c.id));
  event += R"(","type":"function","function":{"name":)";
  event += c.tool_json;
  event += R"(,"arguments":""}}]},"logprobs":null,"finish_reason":null}]})"
           "\n\n";
  append_chunk(out, event);
}

void append_tool_arguments_chunk(std::string& out, std::string& event, std::string_view prefix,
                                 std::string_view piece) {
  start_event(event, prefix);
  event += R"({"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":)";
  append_json_string(event, piece);
  event += R"(}}]},"logprobs":null,"finish_reason":null}]})"
           "\n\n";
  append_chunk(out, event);
}

void append_done_and_end(std::string& out) {
  out += "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n";
}

}  // namespace fake_upstream

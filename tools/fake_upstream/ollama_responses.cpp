#include "ollama_responses.hpp"

#include <ctime>

namespace fake_upstream {
namespace {

// Ollama's created_at: RFC 3339 in UTC.
void append_created_at(std::string& out, std::int64_t created) {
  const std::time_t t = static_cast<std::time_t>(created);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  out += '"';
  out.append(buf, n);
  out += '"';
}

void append_start(std::string& out, const Completion& c) {
  out += R"({"model":)";
  out += c.model_json;
  out += R"(,"created_at":)";
  append_created_at(out, c.created);
}

void append_tool_call_message(std::string& out, const Completion& c) {
  out += R"(,"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_)";
  append_int(out, 10000000 + static_cast<std::int64_t>(c.id % 90000000));  // call_ + 8 characters
  out += R"(","function":{"index":0,"name":)";
  out += c.tool_json;
  out += R"(,"arguments":)";
  out += kToolArguments;
  out += "}}]}";
}

// `escaped` goes in as it is (token text needs no escaping); `raw` is escaped first.
void append_text(std::string& out, bool chat, std::string_view raw, std::string_view escaped) {
  out += chat ? R"(,"message":{"role":"assistant","content":")" : R"(,"response":")";
  append_json_escaped(out, raw);
  out += escaped;
  out += chat ? R"("})" : R"(")";
}

// The fields /api/tags, /api/ps and /api/show share.
constexpr std::string_view kDigest = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72";
constexpr std::string_view kDetails =
    R"({"parent_model":"","format":"gguf","family":"llama","families":["llama"],)"
    R"("parameter_size":"3.2B","quantization_level":"Q4_K_M"})";
constexpr std::int64_t kModelSize = 2019393189;

// done_reason, the counts and the durations (nanoseconds) of the final object.
void append_done(std::string& out, const Completion& c) {
  const auto ns = [](double ms) { return static_cast<std::int64_t>(ms * 1e6); };
  out += R"(,"done_reason":")";
  out += c.length_limited ? "length" : "stop";
  out += R"(","done":true,"total_duration":)";
  append_int(out, ns(c.timings.prompt_ms + c.timings.predicted_ms) + 1000000);
  out += R"(,"load_duration":1000000,"prompt_eval_count":)";
  append_int(out, c.prompt_tokens);
  out += R"(,"prompt_eval_duration":)";
  append_int(out, ns(c.timings.prompt_ms));
  out += R"(,"eval_count":)";
  append_int(out, c.completion_tokens);
  out += R"(,"eval_duration":)";
  append_int(out, ns(c.timings.predicted_ms));
  out += '}';
}

}  // namespace

void append_ollama_error_body(std::string& out, std::string_view message) {
  out += R"({"error":)";
  append_json_string(out, message);
  out += '}';
}

void append_ollama_body(std::string& out, const Completion& c, bool chat) {
  append_start(out, c);
  if (chat && !c.tool_json.empty()) {
    append_tool_call_message(out, c);
  } else {
    append_text(out, chat, c.text_prefix, token_text(c.completion_tokens));
  }
  append_done(out, c);
}

void append_ollama_tool_call_line(std::string& out, std::string& line, const Completion& c) {
  line.clear();
  append_start(line, c);
  append_tool_call_message(line, c);
  line += R"(,"done":false})";
  line += '\n';
  append_chunk(out, line);
}

void append_ollama_token_line(std::string& out, std::string& line, const Completion& c, bool chat, int i) {
  line.clear();
  append_start(line, c);
  append_text(line, chat, {}, token(i));
  line += R"(,"done":false})";
  line += '\n';
  append_chunk(out, line);
}

void append_ollama_text_line(std::string& out, std::string& line, const Completion& c, bool chat,
                             std::string_view text) {
  line.clear();
  append_start(line, c);
  append_text(line, chat, text, {});
  line += R"(,"done":false})";
  line += '\n';
  append_chunk(out, line);
}

void append_ollama_done_line(std::string& out, std::string& line, const Completion& c, bool chat) {
  line.clear();
  append_start(line, c);
  append_text(line, chat, {}, {});
  append_done(line, c);
  line += '\n';
  append_chunk(out, line);
  out += "0\r\n\r\n";
}

void append_ndjson_head(std::string& out, bool keep_alive) {
  out += "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n";
  out += keep_alive ? "\r\n" : "Connection: close\r\n\r\n";
}

void append_ollama_version_body(std::string& out) { out += R"({"version":"0.12.6"})"; }

std::string ollama_tagged_name(std::string_view name) {
  std::string tagged(name);
  const auto slash = tagged.rfind('/');
  if (tagged.find(':', slash == std::string::npos ? 0 : slash) == std::string::npos) {
    tagged += ":latest";
  }
  return tagged;
}

void append_ollama_tags_body(std::string& out, const std::vector<std::string>& models) {
  out += R"({"models":[)";
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (i) out += ',';
    const std::string name = ollama_tagged_name(models[i]);
    out += R"({"name":)";
    append_json_string(out, name);
    out += R"(,"model":)";
    append_json_string(out, name);
    out += R"(,"modified_at":"2026-01-01T00:00:00Z","size":)";
    append_int(out, kModelSize);
    out += R"(,"digest":")";
    out += kDigest;
    out += R"(","details":)";
    out += kDetails;
    out += '}';
  }
  out += "]}";
}

void append_ollama_show_body(std::string& out, std::string_view name) {
  const bool embedding = name.find("embed") != std::string_view::npos;
  out += R"({"license":"","modelfile":)";
  std::string modelfile = "# Modelfile generated by \"ollama show\"\nFROM ";
  modelfile += ollama_tagged_name(name);
  modelfile += "\nTEMPLATE {{ .Prompt }}\nPARAMETER num_ctx 4096\n";
  append_json_string(out, modelfile);
  out += R"(,"parameters":"num_ctx                        4096","template":"{{ .Prompt }}","details":)";
  out += kDetails;
  out += R"(,"model_info":{"general.architecture":"llama","general.basename":"Fake","general.file_type":15,)"
         R"("general.parameter_count":3212749888,"general.quantization_version":2,)"
         R"("llama.attention.head_count":24,"llama.attention.head_count_kv":8,"llama.block_count":28,)"
         R"("llama.context_length":131072,"llama.embedding_length":3072,"tokenizer.ggml.model":"gpt2"},)";
  out += embedding ? R"("capabilities":["embedding"],)" : R"("capabilities":["completion","tools","vision"],)";
  out += R"("modified_at":"2026-01-01T00:00:00Z"})";
}

void append_ollama_ps_body(std::string& out, const std::vector<std::string>& models, std::int64_t now) {
  std::string expires;
  append_created_at(expires, now + 300);
  out += R"({"models":[)";
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (i) out += ',';
    const std::string name = ollama_tagged_name(models[i]);
    out += R"({"name":)";
    append_json_string(out, name);
    out += R"(,"model":)";
    append_json_string(out, name);
    out += R"(,"size":)";
    append_int(out, kModelSize);
    out += R"(,"digest":")";
    out += kDigest;
    out += R"(","details":)";
    out += kDetails;
    out += R"(,"expires_at":)";
    out += expires;
    out += R"(,"size_vram":)";
    append_int(out, kModelSize);
    out += R"(,"context_length":4096})";
  }
  out += "]}";
}

void append_ollama_embed_body(std::string& out, const Completion& c, int inputs) {
  out += R"({"model":)";
  out += c.model_json;
  out += R"(,"embeddings":[)";
  for (int i = 0; i < inputs; ++i) {
    if (i) out += ',';
    append_embedding_array(out, i);
  }
  out += ']';
  if (inputs > 0) {
    out += R"(,"total_duration":)";
    append_int(out, static_cast<std::int64_t>(c.timings.prompt_ms * 1e6) + 1000000);
    out += R"(,"load_duration":1000000,"prompt_eval_count":)";
    append_int(out, c.prompt_tokens);
  }
  out += '}';
}

void append_ollama_embedding_body(std::string& out, bool empty_prompt) {
  out += R"({"embedding":)";
  if (empty_prompt) {
    out += "[]";
  } else {
    append_embedding_array(out, 0);
  }
  out += '}';
}

}  // namespace fake_upstream

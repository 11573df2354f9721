// llama-server's command line and the FAKE_LLAMA_* variables, parsed into the fake's Options.
// llama-server rejects flags it does not know; the fake accepts them with a warning instead, so a
// gateway that passes a newer flag can still be tested.
#include "llama_args.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <thread>

namespace fake_upstream {
namespace {

// Flags that take a value. The ones the fake acts on are handled in parse_llama_server_command_line;
// the rest are accepted and ignored, as settings that change nothing a fake can show.
constexpr std::string_view kValueFlags[] = {
    "-m", "--model", "--host", "--port", "-c", "--ctx-size", "-ngl", "--n-gpu-layers", "--gpu-layers",
    "-np", "--parallel", "-ctk", "--cache-type-k", "-ctv", "--cache-type-v", "-b", "--batch-size",
    "-ub", "--ubatch-size", "-t", "--threads", "-tb", "--threads-batch", "--threads-http", "-a",
    "--alias", "--api-key", "--api-key-file", "-to", "--timeout", "--sse-ping-interval", "-cram",
    "--cache-ram", "-dev", "--device", "-sm", "--split-mode", "-ts", "--tensor-split", "-mg",
    "--main-gpu", "-fitt", "-fitc", "--pooling", "--sleep-idle-seconds", "-lm", "--load-mode",
    "--chat-template", "--chat-template-file", "--reasoning-format", "--reasoning-budget", "-n",
    "--n-predict", "-s", "--seed", "--temp", "--top-k", "--top-p", "--min-p", "--mmproj", "--lora",
    "--log-file", "--slot-save-path", "-md", "--model-draft", "-hf", "--hf-repo", "--models-dir",
    "--models-max", "--models-preset", "-ot", "--override-tensor", "--override-kv", "--rope-scaling",
    "--rope-freq-base", "--rope-freq-scale", "-ncmoe", "--n-cpu-moe", "-lv", "--log-verbosity",
    "--keep", "--path", "--api-prefix", "--numa", "-dt", "--defrag-thold", "--draft-max",
    "--draft-min", "-ngld", "--n-gpu-layers-draft", "--log-colors",
};

constexpr std::string_view kBoolFlags[] = {
    "--jinja", "--no-jinja", "--no-webui", "--webui", "--metrics", "--mlock", "--no-mmap", "--mmap",
    "-kvu", "--kv-unified", "-no-kvu", "--no-kv-unified", "--slots", "--no-slots", "--props",
    "--embedding", "--embeddings", "--rerank", "--reranking", "-cb", "--cont-batching", "-nocb",
    "--no-cont-batching", "--context-shift", "--no-context-shift", "-v", "--verbose",
    "--log-disable", "--no-warmup", "--log-timestamps", "--log-prefix", "--no-perf", "--swa-full",
    "-nkvo", "--no-kv-offload", "--check-tensors", "--reuse-port", "--offline", "-cmoe", "--cpu-moe",
    "--no-models-autoload",
};

// Flags whose value may be left out (older builds took -fa alone for "on").
constexpr std::string_view kOptionalValueFlags[] = {"-fa", "--flash-attn", "-fit", "--fit"};

constexpr std::string_view kOptionalValues[] = {"on", "off", "auto", "true", "false", "1", "0",
                                                "enabled", "disabled"};

constexpr std::string_view kCacheTypes[] = {"f32", "f16", "bf16", "q8_0", "q4_0",
                                            "q4_1", "iq4_nl", "q5_0", "q5_1"};

template <std::size_t N>
bool contains(const std::string_view (&list)[N], std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

// "--name=value" splits for long flags; llama-server itself wants "--name value", but the fake
// takes both so that a command line written either way can be tested.
std::string_view flag_name(std::string_view arg) {
  if (arg.starts_with("--")) {
    return arg.substr(0, arg.find('='));
  }
  return arg;
}

bool is_known_flag(std::string_view name) {
  return contains(kValueFlags, name) || contains(kBoolFlags, name) || contains(kOptionalValueFlags, name);
}

bool parse_int(std::string_view s, int& out) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
    return false;
  }
  out = v;
  return true;
}

bool looks_like_negative_number(std::string_view s) {
  int ignored = 0;
  return s.size() > 1 && s[0] == '-' && parse_int(s, ignored);
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    if (!item.empty()) {
      out.emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::string bad_value(std::string_view flag, std::string_view value, std::string_view why = "invalid value") {
  std::string e = "error while handling argument \"";
  e += flag;
  e += "\": ";
  e += why;
  e += " '";
  e += value;
  e += "'";
  return e;
}

// FAKE_LLAMA_* integer variables; empty or unset leaves `out` alone.
bool env_int(const char* name, int min, int& out, std::string& error) {
  const char* raw = std::getenv(name);
  if (raw == nullptr || *raw == '\0') {
    return true;
  }
  int v = 0;
  if (!parse_int(raw, v) || v < min) {
    error = std::string("fake llama-server: ") + name + " must be an integer >= " + std::to_string(min) +
            ", got '" + raw + "'";
    return false;
  }
  out = v;
  return true;
}

bool env_flag(const char* name) {
  const char* raw = std::getenv(name);
  if (raw == nullptr) {
    return false;
  }
  const std::string_view v = raw;
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

std::string model_load_failure(const std::string& path) {
  return "gguf_init_from_file: failed to open GGUF file '" + path + "'\n" +
         "llama_model_load: error loading model: llama_model_loader: failed to load model from " + path + "\n" +
         "llama_model_load_from_file_impl: failed to load model\n" +
         "srv    load_model: failed to load model, '" + path + "'\n" +
         "main: exiting due to model loading error";
}

}  // namespace

bool is_llama_server_command_line(int argc, const char* const* argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--llama-server") {
    return true;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = flag_name(argv[i]);
    if (name != "--model" && name != "--threads" && is_known_flag(name)) {
      return true;
    }
  }
  return false;
}

LlamaCommandLine parse_llama_server_command_line(int argc, const char* const* argv) {
  LlamaCommandLine result;
  Options& options = result.options;
  LlamaServer& llama = options.llama;
  llama.enabled = true;
  options.threads = 1;  // one HTTP thread: the slots are then counted without locks
  options.host = "127.0.0.1";
  options.port = 8080;
  std::string alias;

  int first = 1;
  if (argc > 1 && std::string_view(argv[1]) == "--llama-server") {
    first = 2;
  }
  // The command line as given, API keys masked (it is printed and served at /fake/args).
  for (int i = first; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool key_value = i > first && std::string_view(argv[i - 1]) == "--api-key";
    llama.args.emplace_back(key_value ? "***" : arg.starts_with("--api-key=") ? "--api-key=***" : arg);
  }

  std::string& error = result.error;
  for (int i = first; i < argc && error.empty(); ++i) {
    const std::string_view arg = argv[i];
    const std::string_view name = flag_name(arg);
    const bool inline_value = name.size() < arg.size();
    std::string_view value;
    bool has_value = inline_value;
    if (inline_value) {
      value = arg.substr(name.size() + 1);
    }

    if (name == "-h" || name == "--help") {
      result.help = true;
      return result;
    }
    if (!name.starts_with("-")) {
      error = "error: invalid argument: " + std::string(arg);
      break;
    }

    if (contains(kValueFlags, name)) {
      if (!has_value) {
        if (i + 1 >= argc) {
          error = "error: expected value for argument " + std::string(name);
          break;
        }
        value = argv[++i];
      }
    } else if (contains(kOptionalValueFlags, name)) {
      if (!has_value && i + 1 < argc && contains(kOptionalValues, argv[i + 1])) {
        value = argv[++i];
        has_value = true;
      }
    } else if (contains(kBoolFlags, name)) {
      if (has_value) {
        error = "error: argument " + std::string(name) + " takes no value";
        break;
      }
    } else {
      // Unknown: take the next word as its value unless it is another flag.
      std::string kept(arg);
      if (!has_value && i + 1 < argc &&
          (!std::string_view(argv[i + 1]).starts_with("-") || looks_like_negative_number(argv[i + 1]))) {
        kept += ' ';
        kept += argv[++i];
      }
      result.warnings.push_back("warn: unknown argument '" + kept +
                                "' accepted and ignored (fake llama-server)");
      llama.unknown.push_back(std::move(kept));
      continue;
    }

    int number = 0;
    if (name == "-m" || name == "--model") {
      llama.model_path = value;
    } else if (name == "--host") {
      options.host = value;
    } else if (name == "--port") {
      if (!parse_int(value, number) || number < 0 || number > 65535) {
        error = bad_value(name, value);
      }
      options.port = static_cast<std::uint16_t>(number);
    } else if (name == "-c" || name == "--ctx-size") {
      if (!parse_int(value, number) || number < 0) {
        error = bad_value(name, value);
      }
      llama.ctx_size = number;
    } else if (name == "-ngl" || name == "--n-gpu-layers" || name == "--gpu-layers") {
      if (value != "auto" && value != "all" && (!parse_int(value, number) || number < -1)) {
        error = bad_value(name, value);
      }
      llama.n_gpu_layers = value;
    } else if (name == "-np" || name == "--parallel") {
      if (!parse_int(value, number) || number == 0 || number < -1) {
        error = bad_value(name, value);
      }
      llama.parallel_given = number;
    } else if (name == "-fa" || name == "--flash-attn") {
      if (!has_value || value == "on" || value == "true" || value == "1" || value == "enabled") {
        llama.flash_attn = "on";
      } else if (value == "off" || value == "false" || value == "0" || value == "disabled") {
        llama.flash_attn = "off";
      } else if (value == "auto") {
        llama.flash_attn = "auto";
      } else {
        error = bad_value(name, value, "unknown value for --flash-attn:");
      }
    } else if (name == "-ctk" || name == "--cache-type-k" || name == "-ctv" || name == "--cache-type-v") {
      if (!contains(kCacheTypes, value)) {
        error = bad_value(name, value, "Unsupported cache type:");
      }
      (name == "-ctk" || name == "--cache-type-k" ? llama.cache_type_k : llama.cache_type_v) = value;
    } else if (name == "-b" || name == "--batch-size" || name == "-ub" || name == "--ubatch-size") {
      if (!parse_int(value, number) || number < 1) {
        error = bad_value(name, value);
      }
      (name == "-b" || name == "--batch-size" ? llama.batch_size : llama.ubatch_size) = number;
    } else if (name == "-t" || name == "--threads") {
      if (!parse_int(value, number) || number < -1 || number == 0) {
        error = bad_value(name, value);
      }
      llama.threads = number;
    } else if (name == "-a" || name == "--alias") {
      alias = value;
    } else if (name == "--api-key") {
      for (auto& key : split_commas(value)) {
        llama.api_keys.push_back(std::move(key));
      }
    } else if (name == "--api-key-file") {
      std::ifstream file{std::string(value)};
      if (!file) {
        error = bad_value(name, value, "failed to open file");
      }
      for (std::string line; std::getline(file, line);) {
        if (!line.empty()) {
          llama.api_keys.push_back(line);
        }
      }
    } else if (name == "--jinja") {
      llama.jinja = true;
    } else if (name == "--no-jinja") {
      llama.jinja = false;
    } else if (name == "--no-webui") {
      llama.webui = false;
    } else if (name == "--webui") {
      llama.webui = true;
    } else if (name == "--metrics") {
      llama.metrics = true;
    } else if (name == "--mlock") {
      llama.mlock = true;
    } else if (name == "--no-mmap") {
      llama.mmap = false;
    } else if (name == "--mmap") {
      llama.mmap = true;
    } else if (name == "-kvu" || name == "--kv-unified") {
      llama.kv_unified = true;
    } else if (name == "--slots") {
      llama.slots_endpoint = true;
    } else if (name == "--no-slots") {
      llama.slots_endpoint = false;
    }
  }
  if (!error.empty()) {
    return result;
  }

  // What llama-server derives: auto slots are 4 sharing one unified KV cache; otherwise each slot
  // gets an equal share of the context.
  llama.parallel = llama.parallel_given > 0 ? llama.parallel_given : 4;
  if (llama.parallel_given < 0) {
    llama.kv_unified = true;
  }
  llama.n_ctx = llama.ctx_size > 0 ? llama.ctx_size : kTrainContext;
  llama.slot_ctx = llama.kv_unified ? llama.n_ctx : llama.n_ctx / llama.parallel;
  const auto aliases = split_commas(alias);
  llama.model_id = aliases.empty() ? llama.model_path : aliases.front();
  options.models = {llama.model_id};
  options.models_given = true;

  Behaviour& b = options.behaviour;
  if (!env_int("FAKE_LLAMA_LOAD_MS", 0, options.loading_ms, error) ||
      !env_int("FAKE_LLAMA_CRASH_AFTER", 0, llama.crash_after, error) ||
      !env_int("FAKE_LLAMA_EXIT_AFTER_MS", 0, llama.exit_after_ms, error) ||
      !env_int("FAKE_LLAMA_TOKENS", 0, b.tokens, error) ||
      !env_int("FAKE_LLAMA_GAP_MS", 0, b.gap_ms, error) ||
      !env_int("FAKE_LLAMA_TTFT_MS", 0, b.ttft_ms, error)) {
    return result;
  }
  llama.crash_abort = env_flag("FAKE_LLAMA_CRASH_ABORT");
  // 1 (or any flag value): hangs from the start; N > 1: answers N - 1 times first, so a server can
  // become ready and hang later.
  int hang = env_flag("FAKE_LLAMA_HANG_HEALTH") ? 1 : 0;
  std::string not_a_count;
  if (hang == 0 && !env_int("FAKE_LLAMA_HANG_HEALTH", 1, hang, not_a_count)) hang = 0;
  llama.hang_health = hang >= 1;
  llama.hang_health_after = hang >= 1 ? hang - 1 : 0;
  llama.ignore_sigterm = env_flag("FAKE_LLAMA_IGNORE_SIGTERM");

  if (llama.model_path.empty()) {
    error = "error: no model given: pass -m/--model FILE (fake llama-server)";
    return result;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(llama.model_path, ec)) {
    error = model_load_failure(llama.model_path);
    return result;
  }
  llama.model_size = std::filesystem::file_size(llama.model_path, ec);
  return result;
}

std::string llama_server_usage() {
  return R"(fake-upstream --llama-server: a fake llama-server for testing process managers.
usage: fake-upstream [--llama-server] -m FILE [--host H] [--port N] [-c N] [-ngl N|auto|all]
         [-np N] [-fa [on|off|auto]] [-ctk T] [-ctv T] [-b N] [-ub N] [-t N] [-a ALIAS]
         [--api-key K[,K]] [--jinja] [--no-webui] [--metrics] [--mlock] [--no-mmap] [-kvu] ...
Unknown flags are accepted with a warning. The model file must exist; its contents are not read.
Environment: FAKE_LLAMA_LOAD_MS, FAKE_LLAMA_EXIT_AFTER_MS, FAKE_LLAMA_CRASH_AFTER,
  FAKE_LLAMA_CRASH_ABORT, FAKE_LLAMA_HANG_HEALTH, FAKE_LLAMA_IGNORE_SIGTERM, FAKE_LLAMA_TOKENS,
  FAKE_LLAMA_GAP_MS, FAKE_LLAMA_TTFT_MS. See docs/fake-upstream.md.
)";
}

std::string llama_startup_log(const Options& options) {
  const LlamaServer& l = options.llama;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int threads = l.threads > 0 ? l.threads : static_cast<int>(cores);
  std::string s = "build: 0 (fake) with fake-upstream for a fake llama-server\n";
  s += "system info: n_threads = " + std::to_string(threads) + ", n_threads_batch = " + std::to_string(threads) +
       ", total_threads = " + std::to_string(cores) + "\n";
  s += "main: binding port with default address family\n";
  return s;
}

std::string llama_listening_log(const Options& options, std::uint16_t port) {
  const LlamaServer& l = options.llama;
  std::string s = "main: HTTP server is listening, hostname: " + options.host + ", port: " + std::to_string(port) +
                  ", http threads: 1\n";
  s += "main: loading model\n";
  s += "srv    load_model: loading model '" + l.model_path + "'\n";
  s += "llama_model_loader: loaded meta data from " + l.model_path + " (fake, " + std::to_string(l.model_size) +
       " bytes)\n";
  s += "load_tensors: n_gpu_layers = " + l.n_gpu_layers + "\n";
  s += "llama_context: n_seq_max     = " + std::to_string(l.parallel) + "\n";
  s += "llama_context: n_ctx         = " + std::to_string(l.n_ctx) + "\n";
  s += "llama_context: n_ctx_per_seq = " + std::to_string(l.slot_ctx) + "\n";
  s += "llama_context: n_batch       = " + std::to_string(l.batch_size) + "\n";
  s += "llama_context: n_ubatch      = " + std::to_string(l.ubatch_size) + "\n";
  s += "llama_context: flash_attn    = " + l.flash_attn + "\n";
  s += "llama_context: kv_unified    = " + std::string(l.kv_unified ? "true" : "false") + "\n";
  s += "llama_kv_cache: type_k = '" + l.cache_type_k + "', type_v = '" + l.cache_type_v + "'\n";
  return s;
}

std::string llama_loaded_log(const Options& options, const std::string& url) {
  const LlamaServer& l = options.llama;
  std::string s = "srv          init: initializing slots, n_slots = " + std::to_string(l.parallel) + "\n";
  for (int i = 0; i < l.parallel; ++i) {
    s += "slot         init: id " + std::to_string(i) + " | task -1 | new slot, n_ctx = " +
         std::to_string(l.slot_ctx) + "\n";
  }
  s += "main: model loaded\n";
  s += "main: server is listening on " + url + " - starting the main loop\n";
  s += "srv  update_slots: all slots are idle\n";
  return s;
}

std::string llama_load_failed_log(const Options& options, const std::string& why) {
  const std::string& path = options.llama.model_path;
  return "llama_model_load: error loading model: " + why + "\n" +
         "llama_model_load_from_file_impl: failed to load model\n" +
         "srv    load_model: failed to load model, '" + path + "'\n" +
         "error: failed to load model\n" +
         "main: exiting due to model loading error\n";
}

std::string llama_flags_json(const Options& options) {
  const LlamaServer& l = options.llama;
  boost::json::object o;
  o["model"] = l.model_path;
  o["model_id"] = l.model_id;
  o["host"] = options.host;
  o["port"] = options.port;
  o["ctx_size"] = l.ctx_size;
  o["n_ctx"] = l.n_ctx;
  o["n_ctx_slot"] = l.slot_ctx;
  o["parallel"] = l.parallel;
  o["kv_unified"] = l.kv_unified;
  o["n_gpu_layers"] = l.n_gpu_layers;
  o["flash_attn"] = l.flash_attn;
  o["cache_type_k"] = l.cache_type_k;
  o["cache_type_v"] = l.cache_type_v;
  o["batch_size"] = l.batch_size;
  o["ubatch_size"] = l.ubatch_size;
  o["threads"] = l.threads;
  o["jinja"] = l.jinja;
  o["webui"] = l.webui;
  o["metrics"] = l.metrics;
  o["slots"] = l.slots_endpoint;
  o["mlock"] = l.mlock;
  o["mmap"] = l.mmap;
  o["api_keys"] = l.api_keys.size();  // how many, never the keys themselves
  boost::json::array args;
  for (const auto& a : l.args) {
    args.emplace_back(a);
  }
  o["args"] = std::move(args);
  boost::json::array unknown;
  for (const auto& u : l.unknown) {
    unknown.emplace_back(u);
  }
  o["unknown"] = std::move(unknown);
  return boost::json::serialize(o);
}

}  // namespace fake_upstream

// Settings of the fake upstream: start-up options and the per-request behaviour knobs.
// Immutable after start-up; read from every worker thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fake_upstream {

// What a completion request gets. The CLI sets the defaults; x-fake-* headers override per request.
struct Behaviour {
  int tokens = 16;          // completion tokens generated
  int ttft_ms = 0;          // delay before the first byte of the response
  int gap_ms = 0;           // delay between stream chunks
  int status = 200;         // != 200: answer with this status and an error body
  double error_rate = 0.0;  // fraction of requests answered 500
  bool hang = false;        // never answer
  int drop_after = -1;      // >= 0: close abruptly after this many content chunks
  bool close = false;       // close right after reading the request
  int retry_after_s = 0;    // > 0: error answers carry Retry-After with this many seconds
};

// llama-server mode (llama_args.hpp): the fake is started with llama-server's command line, as the
// gateway's model manager starts a real one, and takes fault knobs from FAKE_LLAMA_* variables.
struct LlamaServer {
  bool enabled = false;
  std::string model_path;        // -m, must name an existing file
  std::string model_id;          // what /v1/models lists: --alias, else the path as given
  std::uintmax_t model_size = 0; // bytes of the model file (/v1/models meta.size)
  int ctx_size = 0;              // -c as given (0: from the model)
  int n_ctx = 0;                 // total context in use (ctx_size, or kTrainContext when 0)
  int slot_ctx = 0;              // context of one slot: n_ctx / parallel, or n_ctx with unified KV
  int parallel_given = -1;       // -np as given (-1: auto)
  int parallel = 4;              // slots in use (auto: 4, as llama-server picks)
  bool kv_unified = false;       // -kvu, or implied by an auto slot count
  std::string n_gpu_layers = "auto";
  std::string flash_attn = "auto";
  std::string cache_type_k = "f16";
  std::string cache_type_v = "f16";
  int batch_size = 2048;
  int ubatch_size = 512;
  int threads = -1;
  bool jinja = true;
  bool webui = true;
  bool metrics = false;
  bool slots_endpoint = true;
  bool mlock = false;
  bool mmap = true;
  std::vector<std::string> api_keys;  // --api-key (comma list) and --api-key-file
  std::vector<std::string> args;      // the command line as given (without argv[0])
  std::vector<std::string> unknown;   // flags (with their values) accepted with a warning

  // From the environment (FAKE_LLAMA_*); the load time is Options::loading_ms.
  int crash_after = -1;     // exit after this many completed inference requests
  bool crash_abort = false; // crash with abort() (SIGABRT) instead of exit status 1
  bool hang_health = false; // /health never answers once loaded...
  int hang_health_after = 0; // ...after answering this many times (FAKE_LLAMA_HANG_HEALTH=N)
  int exit_after_ms = -1;   // exit with status 1 this long after start
  bool ignore_sigterm = false;
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8001;
  int threads = 1;
  std::vector<std::string> models{"fake-model"};
  bool models_given = false;  // --model was given: /api/show knows only those models
  Behaviour behaviour;
  int loading_ms = 0;
  // --key-status KEY=STATUS: requests carrying this key (Bearer or x-api-key) get this status, as a
  // provider answers a rate-limited (429) or revoked (401) key.
  std::vector<std::pair<std::string, int>> key_status;
  std::string tls_cert;
  std::string tls_key;
  LlamaServer llama;
};

}  // namespace fake_upstream

// llama-server mode of the fake upstream: recognising llama-server's command line, parsing it (and the
// FAKE_LLAMA_* fault variables) into Options, and the start-up text a real llama-server would print.
// Used once by main() before the server starts; pure apart from reading the environment and the model
// file's metadata.
#pragma once

#include "options.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fake_upstream {

// The context a "model" was trained with: what -c 0 (or no -c) gives.
inline constexpr int kTrainContext = 4096;

// True when the first argument is --llama-server, or any argument is a flag only llama-server has
// (-m, --host, --port, -c, -ngl, -np, --alias, ...). --model and --threads alone do not count:
// the normal mode has them too.
bool is_llama_server_command_line(int argc, const char* const* argv);

struct LlamaCommandLine {
  Options options;                    // llama.enabled is set; threads is 1
  std::vector<std::string> warnings;  // one line each, for stderr
  std::string error;                  // not empty: print it to stderr and exit 1
  bool help = false;                  // -h/--help: print llama_server_usage() and exit 0
};

// Parses llama-server's flags (unknown `--flag [value]` pairs are kept in llama.unknown with a
// warning) and the FAKE_LLAMA_* variables. Checks that the model file exists; the error then reads
// like llama-server's own.
LlamaCommandLine parse_llama_server_command_line(int argc, const char* const* argv);

std::string llama_server_usage();

// What llama-server prints to stderr while it starts: before binding, once bound (port: the one
// actually bound), when the model has loaded, and when loading fails. Each ends with a newline.
std::string llama_startup_log(const Options& options);
std::string llama_listening_log(const Options& options, std::uint16_t port);
std::string llama_loaded_log(const Options& options, const std::string& url);
std::string llama_load_failed_log(const Options& options, const std::string& why);

// {"model":...,"ctx_size":...,...,"args":[...],"unknown":[...]}: every setting the fake saw, for
// tests that check the command line a gateway built (printed at start and served at /fake/args).
std::string llama_flags_json(const Options& options);

}  // namespace fake_upstream

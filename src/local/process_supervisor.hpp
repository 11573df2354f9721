// Starts and stops the child processes the gateway manages (llama-server): each in its own process
// group, killed with the gateway even when the gateway is SIGKILLed (PR_SET_PDEATHSIG, set in the
// child between fork and exec), its stdout and stderr captured to a log file rotated by size, and
// recorded in a pid file so a later run can clean up what an earlier one left. Objects are used from
// the model manager's thread; each child's log is written by a small thread of its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace switchyard {

struct ProcessSpec {
  std::string name;                 // for logs and the pid file, e.g. the model alias
  std::string program;              // absolute path, or a name looked up in PATH
  std::vector<std::string> args;    // argv[1..]
  std::vector<std::pair<std::string, std::string>> env;  // set on top of the gateway's environment
  std::string log_path;             // stdout+stderr go here; rotated to .1, .2... when over log_max_bytes
  std::size_t log_max_bytes = 10 * 1024 * 1024;
  unsigned log_keep = 3;            // rotated files kept
  std::string pid_dir;              // where <name>.pid is written (created if needed); empty: none
};

class ChildProcess {
 public:
  // Forks and execs. Null with `error` when the program cannot be started (fork failed, exec failed:
  // the exec error is reported, not a silent exit 127).
  static std::unique_ptr<ChildProcess> spawn(const ProcessSpec& spec, std::string& error);
  ~ChildProcess();  // kills the group if still running, and reaps

  pid_t pid() const;
  // Reaps without blocking: false once the process has exited (then exit_description() says how).
  bool running();
  std::string exit_description() const;  // "exited with status 1", "killed by signal 9 (Killed)"
  // SIGTERM to the whole group; SIGKILL once `grace` has passed. Non-blocking: call running()
  // afterwards (or kill_now()).
  void terminate(std::chrono::milliseconds grace);
  // Call periodically after terminate(): sends the SIGKILL when the grace period is over.
  void poll_termination();
  void kill_now();  // SIGKILL to the group and reap (blocks at most briefly)
  // The last `lines` lines of the log (for a failed model's reason).
  std::string log_tail(std::size_t lines) const;

 private:
  struct Impl;
  explicit ChildProcess(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Kills the process groups recorded in `pid_dir` by an earlier run whose process still runs
// `program` (checked through /proc/<pid>/exe or cmdline, so a reused pid is left alone), and removes
// the pid files. Returns how many were killed.
std::size_t reap_leftovers(const std::string& pid_dir, const std::string& program);

// True when nothing listens on 127.0.0.1:`port` (a bind test).
bool port_is_free(std::uint16_t port);
// A free loopback port for a local model server, none of `avoid`, 0 when none is found. Taken below
// the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), in 20000-32767 when that
// starts at 32768 as by default: a port from inside it could become the local end of some outgoing
// connection between being picked and the server binding it. The scan starts at a random point, so
// two gateways on one host rarely pick alike.
std::uint16_t pick_free_port(const std::vector<std::uint16_t>& avoid = {});

}  // namespace switchyard

#include "local/gpu_info.hpp"

// The nvidia-smi reader, detect_gpus and the fake (the NVML reader is in nvml_loader.cpp).
//
// nvidia-smi runs with a bounded output and a deadline: on a wedged driver it can hang, even in an
// uninterruptible sleep where SIGKILL takes effect only later, so a child that does not die at once is
// left to be reaped by a later call instead of blocking the model manager's thread. After a timeout,
// readings are not retried for a while, for the same reason.
//
// When a reading fails after one has worked, the devices are still reported, with no free memory: an
// empty list would read as "CPU mode" and the model manager would start a GPU-sized model on the CPU.

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

extern char** environ;

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr auto kNvidiaSmiTimeout = 5s;          // a healthy nvidia-smi answers in well under a second
constexpr auto kRetryAfterTimeout = 30s;        // a wedged driver makes every call hang
constexpr auto kKillWait = 500ms;               // how long a killed child is waited for before moving on
constexpr std::size_t kMaxOutputBytes = 1 << 20;  // ~5000 GPUs' worth of CSV lines

// ---------- parsing ----------

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto at = s.find(separator);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  s = trim(s);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// nvidia-smi writes "[N/A]", "[Not Supported]", "[GPU is lost]"... where it has no value.
std::string text_field(std::string_view s) {
  s = trim(s);
  if (s.empty() || s == "N/A" || (s.front() == '[' && s.back() == ']')) return {};
  return std::string(s);
}

// A MiB figure in bytes; false when absent ("[N/A]") or absurd.
bool mib_field(std::string_view s, std::uint64_t& bytes) {
  std::uint64_t mib = 0;
  if (!parse_u64(s, mib) || mib > (std::uint64_t{1} << 40)) return false;
  bytes = mib * kMiB;
  return true;
}

struct ComputeApp {
  std::string uuid;
  GpuProcess process;
};

// `--query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits`.
std::vector<ComputeApp> parse_compute_apps(const std::string& csv) {
  std::vector<ComputeApp> out;
  for (const auto line : split(csv, '\n')) {
    const auto fields = split(line, ',');
    if (fields.size() != 3) continue;
    std::uint64_t pid = 0;
    if (!parse_u64(fields[1], pid) || pid == 0 || pid > UINT32_MAX) continue;
    ComputeApp app;
    app.uuid = text_field(fields[0]);
    app.process.pid = static_cast<std::uint32_t>(pid);
    if (!mib_field(fields[2], app.process.used_bytes)) app.process.used_bytes = 0;
    out.push_back(std::move(app));
  }
  return out;
}

std::string describe(const std::vector<GpuDevice>& devices) {
  if (devices.empty()) return "no devices";
  std::string out = std::to_string(devices.size()) + " device(s)";
  for (const auto& d : devices)
    out += "; " + std::to_string(d.index) + ": " + (d.name.empty() ? "unnamed" : d.name) + ", " +
           std::to_string(d.free_bytes / kMiB) + " of " + std::to_string(d.total_bytes / kMiB) + " MiB free";
  return out;
}

// The last reading with no free memory: what a failed reading reports (see the top of the file).
std::vector<GpuDevice> unavailable(std::vector<GpuDevice> devices) {
  for (auto& d : devices) {
    d.free_bytes = 0;
    d.processes.clear();
  }
  return devices;
}

// ---------- running nvidia-smi ----------

// Children killed after a timeout that had not exited yet: reaped by a later call, so that a child
// stuck in the driver does not block the caller (SIGKILL lands once it leaves the kernel).
std::mutex unreaped_mutex;
std::vector<pid_t> unreaped;

void reap_leftovers() {
  std::lock_guard lock(unreaped_mutex);
  std::erase_if(unreaped, [](pid_t pid) {
    const pid_t r = ::waitpid(pid, nullptr, WNOHANG);
    return r == pid || (r < 0 && errno == ECHILD);
  });
}

// Waits for `pid` until `deadline`: true with its exit status, false while it still runs.
// ECHILD (someone ignores SIGCHLD, so the kernel reaped it) counts as a clean exit: the output decides.
bool wait_exit(pid_t pid, Clock::time_point deadline, int& status) {
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      status = 0;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
}

struct CommandResult {
  bool ok = false;     // ran, exited 0, output complete
  std::string output;  // stdout
  std::string error;   // why not ok
  bool timed_out = false;
};

// Moves `fd` to a number >= 3, so that dup2 onto stdout in the child never aliases it (dup2 of a
// descriptor onto itself would keep its CLOEXEC flag). Matters only when stdio is closed.
int above_stdio(int fd) {
  if (fd < 0 || fd >= 3) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

CommandResult run_command(const std::string& program, const std::vector<std::string>& args) {
  reap_leftovers();
  CommandResult result;
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  fds[0] = above_stdio(fds[0]);
  fds[1] = above_stdio(fds[1]);
  if (fds[0] < 0 || fds[1] < 0) {
    if (fds[0] >= 0) ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
    result.error = "pipe: no descriptors";
    return result;
  }

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // the gateway's sockets stay out of it
#endif
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout kills a wrapper script's children too; default signal
  // dispositions and an empty mask, whatever the gateway's thread has.
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int spawn_error = ::posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (spawn_error != 0) {
    ::close(fds[0]);
    result.error = "cannot run " + program + ": " + std::strerror(spawn_error);
    return result;
  }

  const auto deadline = Clock::now() + kNvidiaSmiTimeout;
  bool eof = false;
  bool too_long = false;
  char buffer[4096];
  while (!eof && !too_long) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      eof = true;
      break;
    }
    result.output.append(buffer, static_cast<std::size_t>(n));
    too_long = result.output.size() > kMaxOutputBytes;
  }
  ::close(fds[0]);

  int status = 0;
  if (eof && wait_exit(pid, deadline, status)) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      result.ok = true;
    } else {
      // nvidia-smi explains itself on stdout ("NVIDIA-SMI has failed because...", "No devices were found").
      const auto first_line = trim(std::string_view(result.output).substr(0, result.output.find('\n')));
      result.error = program + (WIFEXITED(status) ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                                  : " was killed by signal " + std::to_string(WTERMSIG(status)));
      if (!first_line.empty()) result.error += ": " + std::string(first_line.substr(0, 200));
    }
    return result;
  }
  result.timed_out = !too_long;
  result.error = program + (too_long ? " wrote more than " + std::to_string(kMaxOutputBytes) + " bytes"
                                     : " did not answer within " + std::to_string(kNvidiaSmiTimeout.count()) + " s");
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  if (!wait_exit(pid, Clock::now() + kKillWait, status)) {
    std::lock_guard lock(unreaped_mutex);
    unreaped.push_back(pid);
  }
  return result;
}

// ---------- the readers ----------

class NvidiaSmiGpuInfo final : public GpuInfo {
 public:
  explicit NvidiaSmiGpuInfo(std::string program) : program_(std::move(program)) {}
  std::string source() const override { return "nvidia-smi"; }

  std::vector<GpuDevice> devices() override {
    if (Clock::now() < retry_after_) return unavailable(last_);
    std::vector<GpuDevice> out;
    std::string error;
    if (!read(out, error)) {
      if (error != last_error_) spdlog::warn("gpu: {}", error);
      last_error_ = error;
      return unavailable(last_);
    }
    last_error_.clear();
    last_ = out;
    return out;
  }

  // The first reading, for detect_gpus: false with `error` unless nvidia-smi runs and lists a device.
  bool probe(std::string& error) {
    std::vector<GpuDevice> out;
    if (!read(out, error)) return false;
    if (out.empty()) {
      error = program_ + " listed no GPU";
      return false;
    }
    last_ = std::move(out);
    return true;
  }

  const std::vector<GpuDevice>& last() const { return last_; }

 private:
  bool read(std::vector<GpuDevice>& out, std::string& error) {
    auto gpus = run_command(program_, {"--query-gpu=index,name,uuid,memory.total,memory.free",
                                       "--format=csv,noheader,nounits"});
    if (gpus.timed_out) retry_after_ = Clock::now() + kRetryAfterTimeout;
    if (!gpus.ok) {
      error = gpus.error;
      return false;
    }
    out = parse_nvidia_smi_gpus(gpus.output);
    // Processes are extra: without them the memory figures still stand.
    auto apps = run_command(program_, {"--query-compute-apps=gpu_uuid,pid,used_memory", "--format=csv,noheader,nounits"});
    if (apps.timed_out) retry_after_ = Clock::now() + kRetryAfterTimeout;
    if (apps.ok) {
      for (auto& app : parse_compute_apps(apps.output))
        for (auto& d : out)
          if (!d.uuid.empty() && d.uuid == app.uuid) d.processes.push_back(app.process);
    }
    return true;
  }

  std::string program_;
  std::vector<GpuDevice> last_;
  std::string last_error_;
  Clock::time_point retry_after_{};
};

class NoGpuInfo final : public GpuInfo {
 public:
  std::vector<GpuDevice> devices() override { return {}; }
  std::string source() const override { return "none"; }
};

}  // namespace

std::vector<GpuDevice> parse_nvidia_smi_gpus(const std::string& csv) {
  std::vector<GpuDevice> out;
  for (const auto line : split(csv, '\n')) {
    const auto fields = split(line, ',');
    if (fields.size() < 5) continue;
    std::uint64_t index = 0;
    if (!parse_u64(fields[0], index) || index > UINT_MAX) continue;
    if (std::any_of(out.begin(), out.end(), [&](const GpuDevice& d) { return d.index == index; })) continue;
    GpuDevice d;
    d.index = static_cast<unsigned>(index);
    // The name sits between the index and the last three fields, so a comma in it does no harm.
    const auto n = fields.size();
    const std::string_view first = fields[1];
    const std::string_view last = fields[n - 4];
    d.name = text_field(std::string_view(first.data(), static_cast<std::size_t>(last.data() + last.size() - first.data())));
    d.uuid = text_field(fields[n - 3]);
    // Memory it cannot report counts as none free: such a device is listed but never chosen.
    if (!mib_field(fields[n - 2], d.total_bytes) || !mib_field(fields[n - 1], d.free_bytes)) d.free_bytes = 0;
    if (d.free_bytes > d.total_bytes) d.free_bytes = d.total_bytes;
    out.push_back(std::move(d));
  }
  return out;
}

std::unique_ptr<GpuInfo> detect_gpus(const std::string& nvidia_smi) {
  std::string nvml_error;
  if (auto nvml = open_nvml(nvml_error)) {
    spdlog::info("gpu: GPU memory from NVML: {}", describe(nvml->devices()));
    return nvml;
  }
  std::string smi_error = "not configured";
  if (!nvidia_smi.empty()) {
    auto smi = std::make_unique<NvidiaSmiGpuInfo>(nvidia_smi);
    if (smi->probe(smi_error)) {
      spdlog::info("gpu: NVML unavailable ({}); GPU memory from {}: {}", nvml_error, nvidia_smi, describe(smi->last()));
      return smi;
    }
  }
  spdlog::info("gpu: no GPU found (NVML: {}; nvidia-smi: {}): local models run on the CPU", nvml_error, smi_error);
  return std::make_unique<NoGpuInfo>();
}

// ---------- the fake ----------

FakeGpuInfo::FakeGpuInfo(std::vector<Device> devices) : devices_(std::move(devices)) {}

std::vector<GpuDevice> FakeGpuInfo::devices() {
  std::vector<GpuDevice> out;
  for (unsigned i = 0; i < devices_.size(); ++i) {
    const auto& fake = devices_[i];
    GpuDevice d;
    d.index = i;
    d.name = fake.name;
    d.total_bytes = fake.total_bytes;
    std::uint64_t used = fake.baseline_used_bytes;
    for (const auto& [index, process] : reserved_) {
      if (index != i) continue;
      used += process.used_bytes;
      d.processes.push_back(process);
    }
    d.free_bytes = used >= fake.total_bytes ? 0 : fake.total_bytes - used;
    out.push_back(std::move(d));
  }
  return out;
}

void FakeGpuInfo::reserve(unsigned index, std::uint32_t pid, std::uint64_t bytes) {
  // One entry per (device, process): a second reservation for the same process there adds to it.
  for (auto& [at, process] : reserved_) {
    if (at == index && process.pid == pid) {
      process.used_bytes += bytes;
      return;
    }
  }
  reserved_.push_back({index, GpuProcess{pid, bytes}});
}

void FakeGpuInfo::release(std::uint32_t pid) {
  std::erase_if(reserved_, [pid](const auto& entry) { return entry.second.pid == pid; });
}

}  // namespace switchyard

#include "local/process_supervisor.hpp"

// Threading: spawn() must be called from a long-lived thread (the model manager's). Linux sends
// PR_SET_PDEATHSIG when the *thread* that forked the child exits, not when the process does, so a
// child spawned from a short-lived worker thread would be SIGKILLed as soon as that thread ends.
//
// Between fork and exec the child runs only async-signal-safe calls (another thread of the gateway
// may hold the malloc lock at the moment of fork): everything it needs (argv, envp, the resolved
// program path, the descriptors) is prepared before fork.

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kTailBytes = 64 * 1024;  // in-memory log tail kept per child
constexpr auto kReapWait = std::chrono::seconds(5);  // kill_now's bound on waiting for the exit

std::string errno_text(int err) { return std::strerror(err); }

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Moves `fd` to a number >= 3 so that dup2 onto 0..2 in the child never aliases it (dup2 of a
// descriptor onto itself would keep its CLOEXEC flag). Matters only when the gateway runs with a
// standard descriptor closed.
int above_stdio(int fd) {
  if (fd < 0 || fd >= 3) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

bool make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  fds[0] = above_stdio(fds[0]);
  fds[1] = above_stdio(fds[1]);
  if (fds[0] < 0 || fds[1] < 0) {
    close_fd(fds[0]);
    close_fd(fds[1]);
    return false;
  }
  return true;
}

// Closes every descriptor from `first` up; close_range (Linux 5.9) or a loop up to the limit read
// before fork. Async-signal-safe.
void close_from(int first, int fd_limit) {
#if defined(SYS_close_range)
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, 0U) == 0) return;
#endif
  for (int fd = first; fd < fd_limit; ++fd) ::close(fd);
}

std::string env_value(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& entry : env) {
    if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 && entry[key.size()] == '=')
      return entry.substr(key.size() + 1);
  }
  return {};
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// `program` as execve needs it: unchanged when it has a slash, else looked up in `path_list` like
// execvp does. Empty with `err` set when a bare name is found nowhere.
std::string resolve_program(const std::string& program, const std::string& path_list, int& err) {
  err = 0;
  if (program.find('/') != std::string::npos) return program;
  if (program.empty()) {
    err = ENOENT;
    return {};
  }
  std::string dirs = path_list.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_list;
  bool saw_denied = false;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    if (is_executable_file(candidate)) return candidate;
    if (::access(candidate.c_str(), F_OK) == 0) saw_denied = true;
    start = end + 1;
  }
  err = saw_denied ? EACCES : ENOENT;
  return {};
}

std::string real_path(const std::string& path) {
  char buffer[PATH_MAX];
  if (::realpath(path.c_str(), buffer) == nullptr) return path;
  return buffer;
}

// A model alias like "org/model" is not a file name.
std::string pid_file_stem(const std::string& name) {
  std::string stem = name.empty() ? std::string("child") : name;
  for (char& c : stem) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) c = '_';
  }
  if (stem.front() == '.') stem.front() = '_';
  return stem;
}

bool write_file_atomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), path.c_str()) == 0) return true;
  ::unlink(tmp.c_str());
  return false;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* text = ::sigdescr_np(sig);
    std::string out = "killed by signal " + std::to_string(sig) + " (" + (text ? text : "unknown signal") + ")";
    if (WCOREDUMP(status)) out += ", core dumped";
    return out;
  }
  return "ended with wait status " + std::to_string(status);
}

// Writes a child's output to its log file, rotating by size at line boundaries where it can.
// Used only by the child's log thread.
class LogFile {
 public:
  LogFile(std::string path, std::size_t max_bytes, unsigned keep)
      : path_(std::move(path)), max_bytes_(max_bytes), keep_(keep) {}
  ~LogFile() { close_fd(fd_); }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Before fork, so that a bad path fails spawn() instead of losing the log silently.
  bool open(std::string& error) {
    if (path_.empty()) return true;
    std::error_code ec;
    fs::path parent = fs::path(path_).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      error = "cannot open log " + path_ + ": " + errno_text(errno);
      return false;
    }
    struct stat st {};
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
    return true;
  }

  void append(std::string_view data) {
    if (fd_ < 0) return;
    while (!data.empty()) {
      if (max_bytes_ == 0) {
        write_all(data);
        return;
      }
      std::size_t room = size_ < max_bytes_ ? max_bytes_ - size_ : 0;
      if (data.size() <= room) {
        write_all(data);
        return;
      }
      std::size_t cut = room;
      std::size_t newline = room == 0 ? std::string_view::npos : data.substr(0, room).rfind('\n');
      if (newline != std::string_view::npos) {
        cut = newline + 1;
      } else if (size_ > 0) {
        // Start the long line in a fresh file instead of splitting it.
        rotate();
        continue;
      }
      write_all(data.substr(0, cut));
      data.remove_prefix(cut);
      rotate();
      if (fd_ < 0) return;
    }
  }

 private:
  void write_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // disk full or similar: the in-memory tail still has it
      data.remove_prefix(static_cast<std::size_t>(n));
      size_ += static_cast<std::size_t>(n);
    }
  }

  // log -> log.1 -> log.2 ... -> log.<keep>; the oldest is overwritten by the rename before it.
  void rotate() {
    close_fd(fd_);
    if (keep_ == 0) {
      ::unlink(path_.c_str());
    } else {
      for (unsigned i = keep_ - 1; i >= 1; --i) {
        std::string from = path_ + "." + std::to_string(i);
        std::string to = path_ + "." + std::to_string(i + 1);
        ::rename(from.c_str(), to.c_str());
      }
      std::string first = path_ + ".1";
      ::rename(path_.c_str(), first.c_str());
    }
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0644);
    size_ = 0;
  }

  std::string path_;
  std::size_t max_bytes_;
  unsigned keep_;
  int fd_ = -1;
  std::size_t size_ = 0;
};

struct ChildArrays {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ChildArrays build_arrays(const ProcessSpec& spec) {
  ChildArrays arrays;
  arrays.argv_storage.push_back(spec.program);
  for (const auto& arg : spec.args) arrays.argv_storage.push_back(arg);
  for (char** e = environ; e && *e; ++e) arrays.env_storage.emplace_back(*e);
  for (const auto& [key, value] : spec.env) {
    std::string entry = key + "=" + value;
    auto same_key = [&](const std::string& existing) {
      return existing.size() > key.size() && existing.compare(0, key.size(), key) == 0 && existing[key.size()] == '=';
    };
    auto it = std::find_if(arrays.env_storage.begin(), arrays.env_storage.end(), same_key);
    if (it != arrays.env_storage.end()) {
      *it = std::move(entry);
    } else {
      arrays.env_storage.push_back(std::move(entry));
    }
  }
  for (auto& s : arrays.argv_storage) arrays.argv.push_back(s.data());
  arrays.argv.push_back(nullptr);
  for (auto& s : arrays.env_storage) arrays.envp.push_back(s.data());
  arrays.envp.push_back(nullptr);
  return arrays;
}

// Reports errno to the parent through the exec-error pipe. Async-signal-safe.
[[noreturn]] void fail(int fd) {
  int err = errno;
  ssize_t ignored = ::write(fd, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

// The child side of fork: only async-signal-safe calls. Never returns.
[[noreturn]] void run_child(pid_t parent, int null_fd, int out_fd, int err_fd, int fd_limit, const char* path,
                            char* const* argv, char* const* envp) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before prctl took effect (the race the prctl man page warns about).
  if (::getppid() != parent) ::_exit(127);

  if (::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) fail(err_fd);
  // The error pipe goes to 3 (still CLOEXEC) and everything above it is closed: the child inherits
  // no socket, log file or pipe of the gateway.
  if (err_fd != 3) {
    if (::dup3(err_fd, 3, O_CLOEXEC) < 0) fail(err_fd);
    err_fd = 3;
  }
  close_from(4, fd_limit);

  // Ignored signals survive exec (a gateway usually ignores SIGPIPE), and the parent blocked all
  // signals around fork: start llama-server with default dispositions and an empty mask.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t empty;
  ::sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);

  ::execve(path, argv, envp);
  fail(err_fd);
}

}  // namespace

struct ChildProcess::Impl {
  explicit Impl(const ProcessSpec& spec) : log(spec.log_path, spec.log_max_bytes, spec.log_keep) {}

  ~Impl() {
    close_fd(out_read);
    close_fd(stop_read);
    close_fd(stop_write);
  }

  pid_t pid = -1;
  std::string program;  // as resolved for execve
  std::string pid_file;

  bool reaped = false;
  bool status_known = false;
  int wait_status = 0;
  std::optional<Clock::time_point> kill_deadline;
  bool kill_sent = false;

  LogFile log;
  int out_read = -1;    // the child's stdout+stderr
  int stop_read = -1;   // written by the destructor when the log thread must stop without EOF
  int stop_write = -1;
  std::thread log_thread;

  mutable std::mutex tail_mutex;
  std::string tail;
  bool tail_trimmed = false;

  void keep_tail(std::string_view data) {
    std::lock_guard lock(tail_mutex);
    tail.append(data);
    if (tail.size() > 2 * kTailBytes) {
      tail.erase(0, tail.size() - kTailBytes);
      tail_trimmed = true;
    }
  }

  void consume(const char* data, std::size_t n) {
    std::string_view chunk(data, n);
    log.append(chunk);
    keep_tail(chunk);
  }

  // Ends at EOF (every holder of the pipe's write end has exited) or, after the destructor asks,
  // once what is already in the pipe is drained (a process that left the group may hold it open).
  void log_loop() {
    char buffer[16 * 1024];
    for (;;) {
      pollfd fds[2] = {{out_read, POLLIN, 0}, {stop_read, POLLIN, 0}};
      int r = ::poll(fds, 2, -1);
      if (r < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::read(out_read, buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return;
        consume(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (fds[1].revents) {
        int flags = ::fcntl(out_read, F_GETFL);
        ::fcntl(out_read, F_SETFL, flags | O_NONBLOCK);
        for (;;) {
          ssize_t n = ::read(out_read, buffer, sizeof buffer);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) return;
          consume(buffer, static_cast<std::size_t>(n));
        }
      }
    }
  }

  void finish(int status, bool known) {
    reaped = true;
    status_known = known;
    wait_status = status;
    if (!pid_file.empty()) ::unlink(pid_file.c_str());
  }

  // The group is signalled only while the leader is unreaped: its zombie pins the pid, so the
  // process group id cannot have been reused by an unrelated process.
  void signal_group(int sig) {
    if (reaped || pid <= 0) return;
    ::kill(-pid, sig);
    ::kill(pid, sig);
  }

  // Non-blocking. When the leader has exited, what it left in its group is killed before the leader
  // is reaped (nothing it started may keep the GPU or the port).
  bool check_exit() {
    if (reaped) return true;
    siginfo_t info{};
    int r;
    do {
      r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      // ECHILD: someone else reaped it (SIGCHLD ignored, or a stray waitpid(-1)).
      finish(0, false);
      return true;
    }
    if (info.si_pid == 0) return false;
    ::kill(-pid, SIGKILL);
    int status = 0;
    pid_t w;
    do {
      w = ::waitpid(pid, &status, 0);
    } while (w < 0 && errno == EINTR);
    finish(status, w == pid);
    return true;
  }
};

ChildProcess::ChildProcess(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<ChildProcess> ChildProcess::spawn(const ProcessSpec& spec, std::string& error) {
  ChildArrays arrays = build_arrays(spec);
  int resolve_err = 0;
  std::string path = resolve_program(spec.program, env_value(arrays.env_storage, "PATH"), resolve_err);
  if (path.empty()) {
    error = "cannot run " + spec.program + ": " + errno_text(resolve_err);
    return nullptr;
  }

  auto impl = std::make_unique<Impl>(spec);
  impl->program = path;
  if (!impl->log.open(error)) return nullptr;

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int stop_pipe[2] = {-1, -1};
  int null_fd = above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto close_all = [&] {
    for (int* fd : {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1], &stop_pipe[0], &stop_pipe[1], &null_fd})
      close_fd(*fd);
  };
  if (null_fd < 0 || !make_pipe(out_pipe) || !make_pipe(err_pipe) || !make_pipe(stop_pipe)) {
    error = "cannot run " + spec.program + ": " + errno_text(errno);
    close_all();
    return nullptr;
  }

  rlimit limit{};
  int fd_limit = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                     ? static_cast<int>(std::min<rlim_t>(limit.rlim_cur, INT_MAX))
                     : 65536;
  const pid_t parent = ::getpid();

  // No signal handler of the gateway may run in the child before it resets them.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::fork();
  if (pid == 0) {
    run_child(parent, null_fd, out_pipe[1], err_pipe[1], fd_limit, path.c_str(), arrays.argv.data(),
              arrays.envp.data());
  }
  int fork_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    error = "cannot run " + spec.program + ": fork: " + errno_text(fork_err);
    close_all();
    return nullptr;
  }
  // Also set here so that the group exists whichever side runs first (EACCES once the child has
  // exec'd is expected and harmless).
  ::setpgid(pid, pid);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  close_fd(null_fd);

  // EOF: exec succeeded (the pipe was CLOEXEC). An int: exec (or the set-up before it) failed.
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(err_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close_fd(err_pipe[0]);
  if (n > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    error = "cannot run " + spec.program + ": " + errno_text(child_errno);
    close_all();
    return nullptr;
  }

  impl->pid = pid;
  impl->out_read = out_pipe[0];
  impl->stop_read = stop_pipe[0];
  impl->stop_write = stop_pipe[1];
  out_pipe[0] = stop_pipe[0] = stop_pipe[1] = -1;

  if (!spec.pid_dir.empty()) {
    std::error_code ec;
    fs::create_directories(spec.pid_dir, ec);
    std::string file = spec.pid_dir + "/" + pid_file_stem(spec.name) + ".pid";
    // Best effort: the pid file only helps a later run clean up after a crash that PDEATHSIG missed.
    if (write_file_atomically(file, std::to_string(pid) + "\n" + path + "\n")) impl->pid_file = file;
  }

  Impl* raw = impl.get();
  try {
    impl->log_thread = std::thread([raw] { raw->log_loop(); });
  } catch (const std::system_error& e) {
    // Nobody would read the pipe and the child would block on a full one: do not keep it.
    raw->signal_group(SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    raw->finish(status, true);
    error = "cannot run " + spec.program + ": no thread for its log: " + e.what();
    return nullptr;
  }
  std::string thread_name = ("log:" + spec.name).substr(0, 15);
  ::pthread_setname_np(impl->log_thread.native_handle(), thread_name.c_str());
  return std::unique_ptr<ChildProcess>(new ChildProcess(std::move(impl)));
}

ChildProcess::~ChildProcess() {
  if (!impl_) return;
  if (running()) kill_now();
  if (impl_->log_thread.joinable()) {
    char byte = 1;
    ssize_t ignored = ::write(impl_->stop_write, &byte, 1);
    (void)ignored;
    impl_->log_thread.join();
  }
}

pid_t ChildProcess::pid() const { return impl_->pid; }

bool ChildProcess::running() { return !impl_->check_exit(); }

std::string ChildProcess::exit_description() const {
  if (!impl_->reaped) return "running";
  if (!impl_->status_known) return "exited (status unknown: reaped elsewhere)";
  return describe_status(impl_->wait_status);
}

void ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (impl_->check_exit()) return;
  auto deadline = Clock::now() + std::max(grace, std::chrono::milliseconds(0));
  if (!impl_->kill_deadline || deadline < *impl_->kill_deadline) impl_->kill_deadline = deadline;
  impl_->signal_group(SIGTERM);
  poll_termination();
}

void ChildProcess::poll_termination() {
  if (!impl_->kill_deadline || impl_->kill_sent) return;
  if (impl_->check_exit()) return;
  if (Clock::now() < *impl_->kill_deadline) return;
  impl_->signal_group(SIGKILL);
  impl_->kill_sent = true;
}

void ChildProcess::kill_now() {
  if (impl_->check_exit()) return;
  impl_->signal_group(SIGKILL);
  impl_->kill_sent = true;
  // A SIGKILLed process normally goes within milliseconds; one stuck in the kernel (a GPU driver
  // call) is left as it is rather than blocking the model manager.
  auto deadline = Clock::now() + kReapWait;
  auto nap = std::chrono::microseconds(200);
  while (!impl_->check_exit() && Clock::now() < deadline) {
    std::this_thread::sleep_for(nap);
    nap = std::min<std::chrono::microseconds>(nap * 2, std::chrono::milliseconds(20));
  }
}

std::string ChildProcess::log_tail(std::size_t lines) const {
  if (lines == 0) return {};
  std::lock_guard lock(impl_->tail_mutex);
  std::string_view text = impl_->tail;
  if (impl_->tail_trimmed) {
    // The first line was cut by trimming: only whole lines.
    std::size_t first = text.find('\n');
    text = first == std::string_view::npos ? std::string_view{} : text.substr(first + 1);
  }
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::size_t start = text.size();
  for (std::size_t found = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++found == lines) break;
  }
  return std::string(text.substr(start));
}

namespace {

std::vector<std::string> proc_cmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    args.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

// Whether `pid` runs `program`: its executable, or its argv[0] (the name it was started as), or for
// a script started through its #! line, the script path the kernel puts in argv[1] or argv[2].
bool process_runs(pid_t pid, const std::string& program) {
  int err = 0;
  const char* path_env = std::getenv("PATH");
  std::string resolved = resolve_program(program, path_env ? path_env : "", err);
  if (resolved.empty()) resolved = program;
  std::string real = real_path(resolved);

  char buffer[PATH_MAX];
  std::string exe_link = "/proc/" + std::to_string(pid) + "/exe";
  ssize_t n = ::readlink(exe_link.c_str(), buffer, sizeof buffer - 1);
  if (n > 0) {
    std::string exe(buffer, static_cast<std::size_t>(n));
    constexpr std::string_view kDeleted = " (deleted)";  // the binary was replaced since it started
    if (exe.size() > kDeleted.size() && exe.ends_with(kDeleted)) exe.resize(exe.size() - kDeleted.size());
    if (exe == real || exe == resolved) return true;
  }
  auto args = proc_cmdline(pid);
  for (std::size_t i = 0; i < args.size() && i < 3; ++i) {
    const auto& arg = args[i];
    if (arg.empty()) continue;
    if (i == 0 && arg == program) return true;
    if (arg == resolved || (arg.find('/') != std::string::npos && real_path(arg) == real)) return true;
  }
  return false;
}

}  // namespace

std::size_t reap_leftovers(const std::string& pid_dir, const std::string& program) {
  std::size_t killed = 0;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(pid_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".pid" && it->is_regular_file(ec)) files.push_back(it->path());
  }
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string pid_line;
    std::getline(in, pid_line);
    in.close();
    char* end = nullptr;
    errno = 0;
    long value = std::strtol(pid_line.c_str(), &end, 10);
    bool valid = errno == 0 && end != pid_line.c_str() && *end == '\0' && value > 1 && value <= INT_MAX;
    pid_t pid = static_cast<pid_t>(value);
    if (valid && pid != ::getpid() && process_runs(pid, program)) {
      bool done = ::kill(-pid, SIGKILL) == 0;
      if (::getpgid(pid) != pid && ::kill(pid, SIGKILL) == 0) done = true;
      if (done) ++killed;
    }
    // A stale file (reused pid, or a process already gone) is of no further use either.
    fs::remove(file, ec);
  }
  return killed;
}

namespace {

// `reuse_address`: a port whose last server left connections in TIME_WAIT (a crashed llama-server)
// counts as free, as it is for the next server, which binds with SO_REUSEADDR; a port that something
// listens on still fails the bind on Linux.
int loopback_socket(std::uint16_t port, bool reuse_address = false) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (reuse_address) {
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool port_is_free(std::uint16_t port) {
  if (port == 0) return false;
  int fd = loopback_socket(port, true);
  if (fd < 0) return false;
  const bool listenable = ::listen(fd, 1) == 0;
  ::close(fd);
  return listenable;
}

std::uint16_t pick_free_port(const std::vector<std::uint16_t>& avoid) {
  unsigned ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  constexpr unsigned kSpan = 12768;  // 20000-32767 under the default range
  const unsigned high = std::clamp(ephemeral_low, 1025u, 65536u);  // exclusive
  const unsigned low = high > kSpan + 1024 ? high - kSpan : 1024;
  std::minstd_rand random(std::random_device{}());
  const unsigned start = random() % (high - low);
  for (unsigned i = 0; i < high - low; ++i) {
    const auto port = static_cast<std::uint16_t>(low + (start + i) % (high - low));
    if (std::find(avoid.begin(), avoid.end(), port) == avoid.end() && port_is_free(port)) return port;
  }
  return 0;
}

}  // namespace switchyard

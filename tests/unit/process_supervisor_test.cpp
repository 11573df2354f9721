#include "local/process_supervisor.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Polls `done` until it holds or `limit` passes: no test waits unbounded.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

char process_state(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return '\0';
  return stat[close + 2];
}

// Gone: no such process, or a zombie nobody here reaps (pid 1 of a container may not), or one of
// ours (the test may be its subreaper) that we reap now.
bool process_gone(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return true;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  return process_state(pid) == 'Z';
}

// A process of the test's own, in its own group, killed with the test if it dies.
pid_t fork_exec(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

class ProcessSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "sy-proc-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  ProcessSpec shell(const std::string& script, const std::string& name = "test") {
    ProcessSpec spec;
    spec.name = name;
    spec.program = "/bin/sh";
    spec.args = {"-c", script};
    spec.log_path = dir_ + "/logs/" + name + ".log";
    spec.pid_dir = dir_ + "/run";
    return spec;
  }

  std::unique_ptr<ChildProcess> start(const ProcessSpec& spec) {
    std::string error;
    auto child = ChildProcess::spawn(spec, error);
    EXPECT_NE(child, nullptr) << error;
    EXPECT_EQ(error, "");
    return child;
  }

  static bool wait_exit(ChildProcess& child, std::chrono::milliseconds limit = 5s) {
    return wait_until([&] { return !child.running(); }, limit);
  }

  std::string dir_;
};

TEST_F(ProcessSupervisorTest, CapturesStdoutAndStderrToLogAndTail) {
  auto child = start(shell("echo hello; echo oops >&2; echo done; sleep 30"));
  ASSERT_NE(child, nullptr);
  auto spec_log = dir_ + "/logs/test.log";
  ASSERT_TRUE(wait_until([&] { return child->log_tail(1) == "done"; }, 5s))
      << child->log_tail(10);
  EXPECT_TRUE(child->running());
  EXPECT_EQ(child->exit_description(), "running");
  EXPECT_EQ(child->log_tail(10), "hello\noops\ndone");
  EXPECT_EQ(child->log_tail(2), "oops\ndone");
  EXPECT_EQ(child->log_tail(0), "");
  EXPECT_EQ(read_file(spec_log), "hello\noops\ndone\n");
  child->kill_now();
  EXPECT_FALSE(child->running());
  EXPECT_EQ(child->exit_description(), "killed by signal 9 (Killed)");
}

TEST_F(ProcessSupervisorTest, EnvironmentIsOverriddenAndExtended) {
  ::setenv("SY_TEST_OVERRIDE", "from-gateway", 1);
  ::setenv("SY_TEST_KEPT", "kept", 1);
  auto spec = shell("echo \"$SY_TEST_OVERRIDE $SY_TEST_KEPT $SY_TEST_NEW\"");
  spec.env = {{"SY_TEST_OVERRIDE", "from-spec"}, {"SY_TEST_NEW", "new"}};
  auto child = start(spec);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_exit(*child));
  ASSERT_TRUE(wait_until([&] { return !child->log_tail(1).empty(); }, 5s));
  EXPECT_EQ(child->log_tail(5), "from-spec kept new");
  EXPECT_EQ(child->exit_description(), "exited with status 0");
  ::unsetenv("SY_TEST_OVERRIDE");
  ::unsetenv("SY_TEST_KEPT");
}

TEST_F(ProcessSupervisorTest, ChildInheritsOnlyStandardDescriptors) {
  // A descriptor of the gateway without CLOEXEC (a leak elsewhere) must still not reach the child.
  int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 0);
  auto child = start(shell("ls /proc/self/fd"));
  ::close(leaked);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_exit(*child));
  ASSERT_TRUE(wait_until([&] { return child->log_tail(10).find('2') != std::string::npos; }, 5s));
  // 0, 1, 2 and the descriptor `ls` opens to read the directory.
  EXPECT_EQ(child->log_tail(10), "0\n1\n2\n3");
}

TEST_F(ProcessSupervisorTest, ExecFailureIsReported) {
  std::string error;
  ProcessSpec spec = shell("");
  spec.program = dir_ + "/no-such-program";
  spec.args = {};
  EXPECT_EQ(ChildProcess::spawn(spec, error), nullptr);
  EXPECT_EQ(error, "cannot run " + spec.program + ": No such file or directory");
  EXPECT_FALSE(fs::exists(dir_ + "/run/test.pid"));

  // Exists but is not executable: the errno comes from execve in the child, through the pipe.
  std::string not_exec = dir_ + "/not-executable";
  std::ofstream(not_exec) << "#!/bin/sh\necho hi\n";
  ::chmod(not_exec.c_str(), 0644);
  spec.program = not_exec;
  error.clear();
  EXPECT_EQ(ChildProcess::spawn(spec, error), nullptr);
  EXPECT_EQ(error, "cannot run " + not_exec + ": Permission denied");

  spec.program = "sy-no-such-program-in-path";
  error.clear();
  EXPECT_EQ(ChildProcess::spawn(spec, error), nullptr);
  EXPECT_EQ(error, "cannot run sy-no-such-program-in-path: No such file or directory");
}

TEST_F(ProcessSupervisorTest, ProgramIsLookedUpInPath) {
  ProcessSpec spec = shell("");
  spec.program = "sh";
  spec.args = {"-c", "echo found; exit 0"};
  auto child = start(spec);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_exit(*child));
  ASSERT_TRUE(wait_until([&] { return child->log_tail(1) == "found"; }, 5s)) << child->log_tail(1);
  EXPECT_EQ(child->exit_description(), "exited with status 0");
}

TEST_F(ProcessSupervisorTest, LogFileThatCannotBeOpenedFailsSpawn) {
  ProcessSpec spec = shell("echo hi");
  std::ofstream(dir_ + "/file") << "x";
  spec.log_path = dir_ + "/file/child.log";  // a file where a directory should be
  std::string error;
  EXPECT_EQ(ChildProcess::spawn(spec, error), nullptr);
  EXPECT_EQ(error, "cannot open log " + spec.log_path + ": Not a directory");
}

TEST_F(ProcessSupervisorTest, ExitStatusDescriptions) {
  auto three = start(shell("exit 3"));
  ASSERT_NE(three, nullptr);
  ASSERT_TRUE(wait_exit(*three));
  EXPECT_EQ(three->exit_description(), "exited with status 3");

  auto killed = start(shell("exec sleep 30"));
  ASSERT_NE(killed, nullptr);
  EXPECT_TRUE(killed->running());
  ASSERT_EQ(::kill(killed->pid(), SIGKILL), 0);
  ASSERT_TRUE(wait_exit(*killed));
  EXPECT_EQ(killed->exit_description(), "killed by signal 9 (Killed)");
}

TEST_F(ProcessSupervisorTest, TerminateStopsACooperativeChild) {
  auto child = start(shell("exec sleep 30"));
  ASSERT_NE(child, nullptr);
  child->terminate(5s);
  ASSERT_TRUE(wait_until(
      [&] {
        child->poll_termination();
        return !child->running();
      },
      3s));
  EXPECT_EQ(child->exit_description(), "killed by signal 15 (Terminated)");
}

TEST_F(ProcessSupervisorTest, TerminateKillsAfterGraceWhenTermIsIgnored) {
  auto child = start(shell("trap '' TERM; echo ready; while :; do sleep 0.05; done"));
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_until([&] { return child->log_tail(1) == "ready"; }, 5s));
  auto started = Clock::now();
  child->terminate(300ms);
  std::this_thread::sleep_for(100ms);
  child->poll_termination();
  EXPECT_TRUE(child->running());  // TERM ignored, grace not over
  ASSERT_TRUE(wait_until(
      [&] {
        child->poll_termination();
        return !child->running();
      },
      5s));
  EXPECT_GE(Clock::now() - started, 300ms);
  EXPECT_EQ(child->exit_description(), "killed by signal 9 (Killed)");
}

// The pid the script prints as "bg=<pid>".
pid_t background_pid(const ChildProcess& child) {
  std::string tail = child.log_tail(5);
  auto at = tail.find("bg=");
  if (at == std::string::npos) return -1;
  return static_cast<pid_t>(std::atoi(tail.c_str() + at + 3));
}

TEST_F(ProcessSupervisorTest, TerminateReachesTheWholeGroup) {
  auto child = start(shell("sleep 60 & echo bg=$!; wait"));
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_until([&] { return background_pid(*child) > 0; }, 5s));
  pid_t grandchild = background_pid(*child);
  EXPECT_EQ(::getpgid(grandchild), child->pid());
  EXPECT_FALSE(process_gone(grandchild));
  child->terminate(2s);
  ASSERT_TRUE(wait_until(
      [&] {
        child->poll_termination();
        return !child->running();
      },
      5s));
  EXPECT_EQ(child->exit_description(), "killed by signal 15 (Terminated)");
  EXPECT_TRUE(wait_until([&] { return process_gone(grandchild); }, 2s));
  if (!process_gone(grandchild)) ::kill(grandchild, SIGKILL);
}

TEST_F(ProcessSupervisorTest, TermGoesToTheGroupNotJustTheLeader) {
  // The background sleep starts before the trap, so only the leader ignores TERM: the grandchild
  // can only die within the grace period if the signal went to the group.
  auto child = start(shell("sleep 60 & echo bg=$!; trap '' TERM; echo ready; while :; do sleep 0.05; done"));
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_until([&] { return child->log_tail(1) == "ready"; }, 5s));
  pid_t grandchild = background_pid(*child);
  ASSERT_GT(grandchild, 0);
  child->terminate(10s);
  EXPECT_TRUE(wait_until([&] { return process_gone(grandchild); }, 2s));
  child->poll_termination();
  EXPECT_TRUE(child->running());  // the leader ignores TERM and the grace is not over
  child->kill_now();
  EXPECT_FALSE(child->running());
  EXPECT_EQ(child->exit_description(), "killed by signal 9 (Killed)");
  if (!process_gone(grandchild)) ::kill(grandchild, SIGKILL);
}

TEST_F(ProcessSupervisorTest, GroupIsKilledWhenTheLeaderExitsOnItsOwn) {
  auto child = start(shell("sleep 60 & echo bg=$!; exit 4"));
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_until([&] { return background_pid(*child) > 0; }, 5s));
  pid_t grandchild = background_pid(*child);
  ASSERT_TRUE(wait_exit(*child));
  EXPECT_EQ(child->exit_description(), "exited with status 4");
  EXPECT_TRUE(wait_until([&] { return process_gone(grandchild); }, 2s));
  if (!process_gone(grandchild)) ::kill(grandchild, SIGKILL);
}

TEST_F(ProcessSupervisorTest, DestructorKillsTheGroup) {
  pid_t leader = -1;
  pid_t grandchild = -1;
  {
    auto child = start(shell("sleep 60 & echo bg=$!; wait"));
    ASSERT_NE(child, nullptr);
    ASSERT_TRUE(wait_until([&] { return background_pid(*child) > 0; }, 5s));
    leader = child->pid();
    grandchild = background_pid(*child);
  }
  EXPECT_TRUE(process_gone(leader));
  EXPECT_TRUE(wait_until([&] { return process_gone(grandchild); }, 2s));
  EXPECT_FALSE(fs::exists(dir_ + "/run/test.pid"));
}

TEST_F(ProcessSupervisorTest, LogIsRotatedBySize) {
  // 100 lines of 20 bytes ("line 000 xxxxxxxxxx\n"): 2000 bytes into files of at most 500.
  auto spec = shell("i=0; while [ $i -lt 100 ]; do printf 'line %03d xxxxxxxxxx\\n' $i; i=$((i+1)); done");
  spec.log_max_bytes = 500;
  spec.log_keep = 2;
  auto child = start(spec);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_exit(*child));
  ASSERT_TRUE(wait_until([&] { return child->log_tail(1) == "line 099 xxxxxxxxxx"; }, 5s)) << child->log_tail(1);
  // The log thread writes the file before the in-memory tail: the files are complete here.

  std::string expected;
  char line[32];
  for (int i = 0; i < 100; ++i) {
    std::snprintf(line, sizeof line, "line %03d xxxxxxxxxx\n", i);
    expected += line;
  }
  std::string log = read_file(spec.log_path);
  std::string log1 = read_file(spec.log_path + ".1");
  std::string log2 = read_file(spec.log_path + ".2");
  EXPECT_FALSE(fs::exists(spec.log_path + ".3"));
  // Whole lines, 25 per file (exactly 500 bytes each), newest last; the oldest were dropped.
  EXPECT_EQ(log, expected.substr(1500));
  EXPECT_EQ(log1, expected.substr(1000, 500));
  EXPECT_EQ(log2, expected.substr(500, 500));
  // The tail in memory outlives rotation.
  EXPECT_EQ(child->log_tail(100) + "\n", expected);
  EXPECT_EQ(child->log_tail(2), "line 098 xxxxxxxxxx\nline 099 xxxxxxxxxx");
}

TEST_F(ProcessSupervisorTest, RotationKeepsWholeLinesWhenChunksStraddleTheLimit) {
  // Lines of 30 bytes into 100-byte files: 3 lines (90 bytes) per file, never a split line.
  auto spec = shell("i=0; while [ $i -lt 12 ]; do printf 'row %02d yyyyyyyyyyyyyyyyyyyyyy\\n' $i; i=$((i+1)); done");
  spec.log_max_bytes = 100;
  spec.log_keep = 5;
  auto child = start(spec);
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(wait_exit(*child));
  ASSERT_TRUE(wait_until([&] { return child->log_tail(1).rfind("row 11", 0) == 0; }, 5s));
  std::string all;
  for (int i = 3; i >= 1; --i) {
    std::string part = read_file(spec.log_path + "." + std::to_string(i));
    EXPECT_EQ(part.size(), 90u) << i;
    EXPECT_EQ(part.back(), '\n');
    all += part;
  }
  all += read_file(spec.log_path);
  EXPECT_FALSE(fs::exists(spec.log_path + ".4"));
  EXPECT_EQ(all, child->log_tail(100) + "\n");
}

TEST_F(ProcessSupervisorTest, PidFileIsWrittenAndRemovedWhenReaped) {
  auto child = start(shell("exec sleep 30", "org/model:q4"));
  ASSERT_NE(child, nullptr);
  std::string pid_file = dir_ + "/run/org_model_q4.pid";
  EXPECT_EQ(read_file(pid_file), std::to_string(child->pid()) + "\n/bin/sh\n");
  child->kill_now();
  EXPECT_FALSE(child->running());
  EXPECT_FALSE(fs::exists(pid_file));
}

TEST_F(ProcessSupervisorTest, ReapLeftoversKillsRecordedProcessesOfTheProgramOnly) {
  std::string run = dir_ + "/run";
  fs::create_directories(run);
  pid_t sleeper = fork_exec({"/bin/sleep", "60"});
  pid_t other = fork_exec({"/bin/sh", "-c", "sleep 60; exit 0"});  // a reused pid: another program
  ASSERT_GT(sleeper, 0);
  ASSERT_GT(other, 0);
  // Wait for both execs so /proc shows the programs, not a copy of the test.
  ASSERT_TRUE(wait_until(
      [&] {
        return read_file("/proc/" + std::to_string(sleeper) + "/cmdline").rfind("/bin/sleep", 0) == 0 &&
               read_file("/proc/" + std::to_string(other) + "/cmdline").rfind("/bin/sh", 0) == 0;
      },
      5s));
  std::ofstream(run + "/a.pid") << sleeper << "\n/bin/sleep\n";
  std::ofstream(run + "/b.pid") << other << "\n/bin/sleep\n";
  std::ofstream(run + "/c.pid") << "999999999\n/bin/sleep\n";  // no such process
  std::ofstream(run + "/d.pid") << "garbage\n";
  std::ofstream(run + "/notes.txt") << sleeper << "\n";

  EXPECT_EQ(reap_leftovers(run, "/bin/sleep"), 1u);

  int status = 0;
  EXPECT_TRUE(wait_until([&] { return ::waitpid(sleeper, &status, WNOHANG) == sleeper; }, 2s));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(::waitpid(other, &status, WNOHANG), 0);  // still running
  EXPECT_EQ(::kill(other, 0), 0);
  EXPECT_FALSE(fs::exists(run + "/a.pid"));
  EXPECT_FALSE(fs::exists(run + "/b.pid"));
  EXPECT_FALSE(fs::exists(run + "/c.pid"));
  EXPECT_FALSE(fs::exists(run + "/d.pid"));
  EXPECT_TRUE(fs::exists(run + "/notes.txt"));

  kill_and_reap(sleeper);
  kill_and_reap(other);
  EXPECT_EQ(reap_leftovers(dir_ + "/missing", "/bin/sleep"), 0u);
}

TEST_F(ProcessSupervisorTest, ReapLeftoversMatchesABareProgramName) {
  std::string run = dir_ + "/run";
  fs::create_directories(run);
  pid_t sleeper = fork_exec({"/bin/sleep", "60"});
  ASSERT_GT(sleeper, 0);
  ASSERT_TRUE(wait_until(
      [&] { return read_file("/proc/" + std::to_string(sleeper) + "/cmdline").rfind("/bin/sleep", 0) == 0; }, 5s));
  std::ofstream(run + "/a.pid") << sleeper << "\nsleep\n";
  EXPECT_EQ(reap_leftovers(run, "sleep"), 1u);
  int status = 0;
  EXPECT_TRUE(wait_until([&] { return ::waitpid(sleeper, &status, WNOHANG) == sleeper; }, 2s));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  kill_and_reap(sleeper);
}

TEST_F(ProcessSupervisorTest, ChildDiesWithTheGatewayEvenWhenSigkilled) {
  // This test process adopts orphans, so the grandchild's end can be observed exactly.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ProcessSpec spec;
  spec.name = "orphan";
  spec.program = "/bin/sleep";
  spec.args = {"60"};
  spec.log_path = dir_ + "/orphan.log";
  pid_t gateway = ::fork();
  ASSERT_GE(gateway, 0);
  if (gateway == 0) {
    // The stand-in gateway: spawns, reports the pid, waits to be killed.
    ::close(fds[0]);
    std::string error;
    auto child = ChildProcess::spawn(spec, error);
    pid_t pid = child ? child->pid() : -1;
    ssize_t ignored = ::write(fds[1], &pid, sizeof pid);
    (void)ignored;
    ::sleep(30);
    ::_exit(0);
  }
  ::close(fds[1]);
  pid_t child = -1;
  pollfd pfd{fds[0], POLLIN, 0};
  bool reported = ::poll(&pfd, 1, 5000) == 1 && ::read(fds[0], &child, sizeof child) == sizeof child;
  ::close(fds[0]);
  ::kill(gateway, SIGKILL);
  int status = 0;
  ::waitpid(gateway, &status, 0);
  EXPECT_TRUE(reported);
  ASSERT_GT(child, 0);

  int child_status = 0;
  bool died = wait_until([&] { return ::waitpid(child, &child_status, WNOHANG) == child; }, 2s);
  if (!died) kill_and_reap(child);
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  EXPECT_TRUE(died);
  EXPECT_TRUE(WIFSIGNALED(child_status) && WTERMSIG(child_status) == SIGKILL);
}

TEST(PortTest, PickedPortIsFreeUntilSomeoneListens) {
  std::uint16_t port = pick_free_port();
  ASSERT_NE(port, 0);
  EXPECT_TRUE(port_is_free(port));

  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  EXPECT_FALSE(port_is_free(port));
  ::close(fd);
  EXPECT_TRUE(port_is_free(port));
  EXPECT_FALSE(port_is_free(0));
}

TEST(PortTest, PickedPortsAreBelowTheEphemeralRangeAndAvoidTheGivenOnes) {
  unsigned ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  std::vector<std::uint16_t> picked;
  for (int i = 0; i < 20; ++i) {
    const auto port = pick_free_port(picked);
    ASSERT_NE(port, 0);
    EXPECT_LT(port, ephemeral_low) << "outgoing connections never take it";
    EXPECT_GE(port, 1024);
    EXPECT_EQ(std::count(picked.begin(), picked.end(), port), 0) << port << " picked twice";
    picked.push_back(port);
  }
}

}  // namespace
}  // namespace switchyard

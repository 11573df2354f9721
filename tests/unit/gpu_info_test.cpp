#include "local/gpu_info.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <signal.h>
#include <sys/stat.h>

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMiB = 1024 * 1024;

bool nvml_opens() {
  std::string error;
  return open_nvml(error) != nullptr;
}

// ---------- parse_nvidia_smi_gpus ----------

TEST(GpuInfoParse, TwoGpus) {
  const std::string csv =
      "0, NVIDIA H100 80GB HBM3, GPU-1a2b3c4d-0000-1111-2222-333344445555, 81559, 80930\n"
      "1, NVIDIA GeForce RTX 4090, GPU-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff, 24564, 1200\n";
  const auto gpus = parse_nvidia_smi_gpus(csv);
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].index, 0u);
  EXPECT_EQ(gpus[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(gpus[0].uuid, "GPU-1a2b3c4d-0000-1111-2222-333344445555");
  EXPECT_EQ(gpus[0].total_bytes, 81559 * kMiB);
  EXPECT_EQ(gpus[0].free_bytes, 80930 * kMiB);
  EXPECT_TRUE(gpus[0].processes.empty());
  EXPECT_EQ(gpus[1].index, 1u);
  EXPECT_EQ(gpus[1].name, "NVIDIA GeForce RTX 4090");
  EXPECT_EQ(gpus[1].uuid, "GPU-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff");
  EXPECT_EQ(gpus[1].total_bytes, 24564 * kMiB);
  EXPECT_EQ(gpus[1].free_bytes, 1200 * kMiB);
}

TEST(GpuInfoParse, NotAvailableFieldsAndCrLf) {
  // Unified-memory parts (GB10, GH200) report no memory figures; such a device is listed, never chosen.
  const std::string csv =
      "0, NVIDIA GB10, GPU-0000aaaa-bbbb-cccc-dddd-eeeeffff0000, [N/A], [N/A]\r\n"
      "1, [N/A], [N/A], 16384, [N/A]\r\n"
      "2,Tesla T4,GPU-t4,15360,15000\r\n";
  const auto gpus = parse_nvidia_smi_gpus(csv);
  ASSERT_EQ(gpus.size(), 3u);
  EXPECT_EQ(gpus[0].name, "NVIDIA GB10");
  EXPECT_EQ(gpus[0].uuid, "GPU-0000aaaa-bbbb-cccc-dddd-eeeeffff0000");
  EXPECT_EQ(gpus[0].total_bytes, 0u);
  EXPECT_EQ(gpus[0].free_bytes, 0u);
  EXPECT_EQ(gpus[1].index, 1u);
  EXPECT_EQ(gpus[1].name, "");
  EXPECT_EQ(gpus[1].uuid, "");
  EXPECT_EQ(gpus[1].total_bytes, 16384 * kMiB);
  EXPECT_EQ(gpus[1].free_bytes, 0u);
  EXPECT_EQ(gpus[2].index, 2u);
  EXPECT_EQ(gpus[2].name, "Tesla T4");
  EXPECT_EQ(gpus[2].uuid, "GPU-t4");
  EXPECT_EQ(gpus[2].total_bytes, 15360 * kMiB);
  EXPECT_EQ(gpus[2].free_bytes, 15000 * kMiB);
}

TEST(GpuInfoParse, GarbageLinesIgnored) {
  const std::string csv =
      "index, name, uuid, memory.total [MiB], memory.free [MiB]\n"
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the "
      "latest NVIDIA driver is installed and running.\n"
      "No devices were found\n"
      "\n"
      "x, NVIDIA A100, GPU-x, 40960, 40000\n"
      "3, too, short\n"
      "-1, NVIDIA A100, GPU-neg, 40960, 40000\n"
      "  4 , NVIDIA A100-SXM4-40GB , GPU-a100 , 40960 , 39000  \n"
      "4, duplicate index, GPU-dup, 1, 1\n"
      "5, Weird, Name, With Commas, GPU-w, 2048, 4096\n";
  const auto gpus = parse_nvidia_smi_gpus(csv);
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].index, 4u);
  EXPECT_EQ(gpus[0].name, "NVIDIA A100-SXM4-40GB");
  EXPECT_EQ(gpus[0].uuid, "GPU-a100");
  EXPECT_EQ(gpus[0].total_bytes, 40960 * kMiB);
  EXPECT_EQ(gpus[0].free_bytes, 39000 * kMiB);
  // The name is whatever lies between the index and the last three fields; free never exceeds total.
  EXPECT_EQ(gpus[1].index, 5u);
  EXPECT_EQ(gpus[1].name, "Weird, Name, With Commas");
  EXPECT_EQ(gpus[1].uuid, "GPU-w");
  EXPECT_EQ(gpus[1].total_bytes, 2048 * kMiB);
  EXPECT_EQ(gpus[1].free_bytes, 2048 * kMiB);
  EXPECT_TRUE(parse_nvidia_smi_gpus("").empty());
  EXPECT_TRUE(parse_nvidia_smi_gpus("No devices were found\n").empty());
}

// ---------- FakeGpuInfo ----------

TEST(GpuInfoFake, ReserveAndRelease) {
  FakeGpuInfo fake({{"fake-a", 24000 * kMiB, 1000 * kMiB}, {"fake-b", 16000 * kMiB, 0}});
  EXPECT_EQ(fake.source(), "fake");
  auto d = fake.devices();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].index, 0u);
  EXPECT_EQ(d[0].name, "fake-a");
  EXPECT_EQ(d[0].total_bytes, 24000 * kMiB);
  EXPECT_EQ(d[0].free_bytes, 23000 * kMiB);
  EXPECT_EQ(d[1].index, 1u);
  EXPECT_EQ(d[1].free_bytes, 16000 * kMiB);

  fake.reserve(0, 100, 5000 * kMiB);
  fake.reserve(1, 200, 6000 * kMiB);
  fake.reserve(0, 300, 2000 * kMiB);
  d = fake.devices();
  EXPECT_EQ(d[0].free_bytes, 16000 * kMiB);
  EXPECT_EQ(d[1].free_bytes, 10000 * kMiB);
  ASSERT_EQ(d[0].processes.size(), 2u);
  EXPECT_EQ(d[0].processes[0].pid, 100u);
  EXPECT_EQ(d[0].processes[0].used_bytes, 5000 * kMiB);
  EXPECT_EQ(d[0].processes[1].pid, 300u);
  EXPECT_EQ(d[0].processes[1].used_bytes, 2000 * kMiB);
  ASSERT_EQ(d[1].processes.size(), 1u);
  EXPECT_EQ(d[1].processes[0].pid, 200u);

  // A second reservation by the same process on the same device adds to its entry.
  fake.reserve(0, 100, 1000 * kMiB);
  d = fake.devices();
  EXPECT_EQ(d[0].free_bytes, 15000 * kMiB);
  ASSERT_EQ(d[0].processes.size(), 2u);
  EXPECT_EQ(d[0].processes[0].used_bytes, 6000 * kMiB);

  fake.release(100);
  d = fake.devices();
  EXPECT_EQ(d[0].free_bytes, 21000 * kMiB);
  ASSERT_EQ(d[0].processes.size(), 1u);
  EXPECT_EQ(d[0].processes[0].pid, 300u);
  EXPECT_EQ(d[1].free_bytes, 10000 * kMiB);

  fake.release(999);  // unknown: nothing changes
  EXPECT_EQ(fake.devices()[1].free_bytes, 10000 * kMiB);

  // More than fits reads as none free, not as a wrapped-around huge number.
  fake.reserve(1, 400, 20000 * kMiB);
  EXPECT_EQ(fake.devices()[1].free_bytes, 0u);
  fake.release(400);
  fake.release(200);
  fake.release(300);
  d = fake.devices();
  EXPECT_EQ(d[0].free_bytes, 23000 * kMiB);
  EXPECT_EQ(d[1].free_bytes, 16000 * kMiB);
  EXPECT_TRUE(d[0].processes.empty());
  EXPECT_TRUE(d[1].processes.empty());
}

TEST(GpuInfoFake, BaselineAboveTotal) {
  FakeGpuInfo fake({{"full", 1000, 2000}});
  EXPECT_EQ(fake.devices()[0].free_bytes, 0u);
  EXPECT_TRUE(FakeGpuInfo({}).devices().empty());
}

// ---------- NVML and detection on this machine ----------

TEST(GpuInfoNvml, OpenReportsWhyOrReads) {
  void* library = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  std::string error;
  auto nvml = open_nvml(error);
  if (!library) {
    ASSERT_EQ(nvml, nullptr);
    EXPECT_NE(error.find("libnvidia-ml.so.1"), std::string::npos) << error;
    return;
  }
  if (!nvml) {  // the library without a working driver
    EXPECT_NE(error.find("nvmlInit"), std::string::npos) << error;
    return;
  }
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_EQ(nvml->source(), "nvml");
  const auto devices = nvml->devices();
  for (unsigned i = 0; i < devices.size(); ++i) {
    EXPECT_EQ(devices[i].index, i);
    EXPECT_FALSE(devices[i].name.empty());
    EXPECT_EQ(devices[i].uuid.rfind("GPU-", 0), 0u) << devices[i].uuid;
    EXPECT_GT(devices[i].total_bytes, 0u);
    EXPECT_LE(devices[i].free_bytes, devices[i].total_bytes);
  }
}

TEST(GpuInfoDetect, NothingWorksMeansNone) {
  if (nvml_opens()) GTEST_SKIP() << "NVML works here";
  const auto start = Clock::now();
  auto gpus = detect_gpus("/nonexistent/nvidia-smi");
  ASSERT_NE(gpus, nullptr);
  EXPECT_EQ(gpus->source(), "none");
  EXPECT_TRUE(gpus->devices().empty());
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_EQ(detect_gpus("")->source(), "none");  // nvidia-smi disabled
}

TEST(GpuInfoDetect, DefaultCommandDoesNotHang) {
  const auto start = Clock::now();
  auto gpus = detect_gpus();
  ASSERT_NE(gpus, nullptr);
  const auto source = gpus->source();
  EXPECT_TRUE(source == "nvml" || source == "nvidia-smi" || source == "none") << source;
  EXPECT_EQ(gpus->devices().empty(), source == "none");
  EXPECT_LT(Clock::now() - start, 15s);
}

// ---------- nvidia-smi, with a script standing in for it ----------

class GpuInfoSmi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (nvml_opens()) GTEST_SKIP() << "NVML works here, so detect_gpus never tries nvidia-smi";
    char pattern[] = "/tmp/gpu_info_test_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (dir_.empty()) return;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string script(const std::string& name, const std::string& body) {
    const auto path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
    return path;
  }
  std::string dir_;
};

// Answers both queries like nvidia-smi does, or fails like it does when `fail` exists.
constexpr const char* kFakeSmi = R"(dir=$(dirname "$0")
if [ -f "$dir/fail" ]; then
  echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
  exit 9
fi
case "$1" in
  --query-gpu=*)
    echo "0, NVIDIA H100 80GB HBM3, GPU-aaaa, 81559, 60000"
    echo "1, NVIDIA H100 80GB HBM3, GPU-bbbb, 81559, 81000" ;;
  --query-compute-apps=*)
    echo "GPU-aaaa, 4242, 20000"
    echo "GPU-aaaa, 4343, [N/A]"
    echo "GPU-cccc, 77, 5" ;;
  *) exit 2 ;;
esac
)";

TEST_F(GpuInfoSmi, ReadsGpusAndProcesses) {
  auto gpus = detect_gpus(script("nvidia-smi", kFakeSmi));
  ASSERT_EQ(gpus->source(), "nvidia-smi");
  const auto d = gpus->devices();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].uuid, "GPU-aaaa");
  EXPECT_EQ(d[0].free_bytes, 60000 * kMiB);
  ASSERT_EQ(d[0].processes.size(), 2u);
  EXPECT_EQ(d[0].processes[0].pid, 4242u);
  EXPECT_EQ(d[0].processes[0].used_bytes, 20000 * kMiB);
  EXPECT_EQ(d[0].processes[1].pid, 4343u);
  EXPECT_EQ(d[0].processes[1].used_bytes, 0u);
  EXPECT_EQ(d[1].uuid, "GPU-bbbb");
  EXPECT_EQ(d[1].free_bytes, 81000 * kMiB);
  EXPECT_TRUE(d[1].processes.empty());
}

TEST_F(GpuInfoSmi, FailureAfterSuccessKeepsDevicesWithNothingFree) {
  auto gpus = detect_gpus(script("nvidia-smi", kFakeSmi));
  ASSERT_EQ(gpus->source(), "nvidia-smi");
  std::ofstream(dir_ + "/fail") << "";
  auto d = gpus->devices();
  ASSERT_EQ(d.size(), 2u);  // not an empty list, which would mean "run on the CPU"
  EXPECT_EQ(d[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(d[0].total_bytes, 81559 * kMiB);
  EXPECT_EQ(d[0].free_bytes, 0u);
  EXPECT_TRUE(d[0].processes.empty());
  EXPECT_EQ(d[1].free_bytes, 0u);
  fs::remove(dir_ + "/fail");
  d = gpus->devices();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].free_bytes, 60000 * kMiB);
}

TEST_F(GpuInfoSmi, DriverFailureOrNoDevicesMeansNone) {
  std::ofstream(dir_ + "/fail") << "";
  EXPECT_EQ(detect_gpus(script("nvidia-smi", kFakeSmi))->source(), "none");
  EXPECT_EQ(detect_gpus(script("nodev", "echo 'No devices were found'\nexit 6\n"))->source(), "none");
  EXPECT_EQ(detect_gpus(script("empty", "exit 0\n"))->source(), "none");
}

TEST_F(GpuInfoSmi, EndlessOutputIsCutOff) {
  const auto start = Clock::now();
  EXPECT_EQ(detect_gpus(script("chatty", "exec yes '0, x, GPU-x, 1, 1'\n"))->source(), "none");
  EXPECT_LT(Clock::now() - start, 4s);
}

TEST_F(GpuInfoSmi, HangIsKilledAfterTimeout) {
  // The script's child is what hangs: the whole process group has to go.
  const auto pid_file = dir_ + "/sleep.pid";
  const auto hang = script("hang", "sleep 60 &\necho $! > " + pid_file + "\nwait\n");
  const auto start = Clock::now();
  auto gpus = detect_gpus(hang);
  const auto took = Clock::now() - start;
  EXPECT_EQ(gpus->source(), "none");
  EXPECT_GE(took, 4s);
  EXPECT_LT(took, 8s);
  pid_t sleeper = 0;
  std::ifstream(pid_file) >> sleeper;
  ASSERT_GT(sleeper, 0);
  // Killed (then reaped by whoever adopted it): gone, or a zombie, within a moment.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(sleeper) + "/stat");
    std::string pid_field, comm, state;
    gone = !(stat >> pid_field >> comm >> state) || state == "Z";
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone);
  if (!gone) ::kill(sleeper, SIGKILL);
}

}  // namespace
}  // namespace switchyard

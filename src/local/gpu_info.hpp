// What the gateway knows of the machine's GPUs: total and free memory per device and the processes
// using each, behind a small interface so the model manager can be tested without a GPU. The real one
// loads NVML at run time (dlopen "libnvidia-ml.so.1", so the binary never links against it), falls
// back to parsing `nvidia-smi`, and reports no devices (CPU mode) when neither works. A fake follows
// what the model manager places on it. Objects are used from the model manager's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace switchyard {

struct GpuProcess {
  std::uint32_t pid = 0;
  std::uint64_t used_bytes = 0;
};

struct GpuDevice {
  unsigned index = 0;  // as CUDA_VISIBLE_DEVICES numbers it
  std::string name;    // "NVIDIA H100 80GB HBM3"
  std::string uuid;    // "GPU-..." when known
  std::uint64_t total_bytes = 0;
  std::uint64_t free_bytes = 0;
  std::vector<GpuProcess> processes;
};

class GpuInfo {
 public:
  virtual ~GpuInfo() = default;
  // A fresh reading of every device (empty in CPU mode).
  virtual std::vector<GpuDevice> devices() = 0;
  // "nvml", "nvidia-smi", "none" or "fake": where the figures come from, for /vram and the logs.
  virtual std::string source() const = 0;
};

// NVML if it loads, else nvidia-smi if it runs, else none. `nvidia_smi` is the command to try.
std::unique_ptr<GpuInfo> detect_gpus(const std::string& nvidia_smi = "nvidia-smi");

// The NVML reader alone (null when the library is absent or nvmlInit fails, with `error` saying why).
std::unique_ptr<GpuInfo> open_nvml(std::string& error);

// Parses `nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.free --format=csv,noheader,nounits`
// output (MiB figures). Exposed for tests.
std::vector<GpuDevice> parse_nvidia_smi_gpus(const std::string& csv);

// A fake: devices with fixed total memory whose free memory is total minus what was reserved on them
// (the model manager reserves a model's estimate when it starts it and releases it when it stops),
// minus `baseline_used_bytes` (other tenants).
class FakeGpuInfo final : public GpuInfo {
 public:
  struct Device {
    std::string name;
    std::uint64_t total_bytes = 0;
    std::uint64_t baseline_used_bytes = 0;
  };
  explicit FakeGpuInfo(std::vector<Device> devices);
  std::vector<GpuDevice> devices() override;
  std::string source() const override { return "fake"; }
  void reserve(unsigned index, std::uint32_t pid, std::uint64_t bytes);
  void release(std::uint32_t pid);

 private:
  std::vector<Device> devices_;
  std::vector<std::pair<unsigned, GpuProcess>> reserved_;
};

}  // namespace switchyard

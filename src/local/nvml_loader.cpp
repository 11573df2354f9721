#include "local/gpu_info.hpp"

// The NVML reader (open_nvml). NVML is loaded with dlopen, as Ollama does, so the gateway builds and
// runs on machines without the NVIDIA driver and never links against it; the few types it needs are
// declared here (nvml.h is not needed to build).
//
// When a reading fails after one has worked (a GPU fell off the bus, the driver was reloaded), the
// device is still reported, with its last known name and total and *no* free memory: an empty list
// would read as "CPU mode" and the model manager would start a GPU-sized model on the CPU.

#include <cstdio>
#include <set>
#include <utility>

#include <dlfcn.h>

#include <spdlog/spdlog.h>

namespace switchyard {
namespace {

// --- the subset of nvml.h used here (ABI as in nvml.h from CUDA 11 and 12) ---
using nvmlReturn_t = int;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;

constexpr nvmlReturn_t kNvmlSuccess = 0;
constexpr nvmlReturn_t kNvmlErrorInsufficientSize = 7;
constexpr unsigned long long kNvmlValueNotAvailable = ~0ULL;  // usedGpuMemory under WDDM, or unknown
constexpr unsigned kNvmlStringBuffer = 256;  // > NVML_DEVICE_NAME_V2_BUFFER_SIZE and UUID_V2 (96)

struct NvmlMemory {  // nvmlMemory_t (v1): used = total - free, reserved memory counted as used
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
struct NvmlProcessV1 {  // nvmlProcessInfo_v1_t: nvmlDeviceGetComputeRunningProcesses (unversioned)
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
struct NvmlProcessV2 {  // nvmlProcessInfo_v2_t = nvmlProcessInfo_t: the _v2 and _v3 functions
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};
static_assert(sizeof(NvmlProcessV1) == 16 && sizeof(NvmlProcessV2) == 24, "NVML process info layout");

using InitFn = nvmlReturn_t (*)();
using ShutdownFn = nvmlReturn_t (*)();
using ErrorStringFn = const char* (*)(nvmlReturn_t);
using GetCountFn = nvmlReturn_t (*)(unsigned int*);
using GetHandleFn = nvmlReturn_t (*)(unsigned int, nvmlDevice_t*);
using GetStringFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int);
using GetMemoryFn = nvmlReturn_t (*)(nvmlDevice_t, NvmlMemory*);
using GetProcessesFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, void*);

constexpr const char* kLibrary = "libnvidia-ml.so.1";

struct NvmlApi {
  InitFn init = nullptr;
  ShutdownFn shutdown = nullptr;
  ErrorStringFn error_string = nullptr;
  GetCountFn get_count = nullptr;
  GetHandleFn get_handle = nullptr;
  GetStringFn get_name = nullptr;
  GetStringFn get_uuid = nullptr;
  GetMemoryFn get_memory = nullptr;
  GetProcessesFn get_processes = nullptr;  // null: process lists are not read
  bool processes_v1 = false;               // the v1 layout (old drivers without _v2/_v3)
  std::string processes_symbol;            // for the log

  std::string error_text(nvmlReturn_t code) const {
    const char* text = error_string ? error_string(code) : nullptr;
    return (text && *text ? std::string(text) : "NVML error") + " (" + std::to_string(code) + ")";
  }
};

// The first of `names` the library exports, or null.
template <typename Fn>
Fn symbol(void* library, std::initializer_list<const char*> names, std::string* found = nullptr) {
  for (const char* name : names) {
    if (void* address = ::dlsym(library, name)) {
      if (found) *found = name;
      return reinterpret_cast<Fn>(address);
    }
  }
  return nullptr;
}

template <typename Info>
nvmlReturn_t read_processes(const NvmlApi& api, nvmlDevice_t device, std::vector<GpuProcess>& out) {
  // Ask for the count first (0 entries: NVML answers INSUFFICIENT_SIZE with the count, or SUCCESS when
  // there are none); processes can start between the calls, so leave room and retry a few times.
  unsigned int count = 0;
  nvmlReturn_t code = api.get_processes(device, &count, nullptr);
  if (code == kNvmlSuccess) return code;
  std::vector<Info> infos;
  for (int attempt = 0; attempt < 3 && code == kNvmlErrorInsufficientSize; ++attempt) {
    infos.resize(static_cast<std::size_t>(count) + 8);
    count = static_cast<unsigned int>(infos.size());
    code = api.get_processes(device, &count, infos.data());
  }
  if (code != kNvmlSuccess) return code;
  for (unsigned int i = 0; i < count && i < infos.size(); ++i) {
    const auto used = infos[i].usedGpuMemory;
    out.push_back({infos[i].pid, used == kNvmlValueNotAvailable ? 0 : static_cast<std::uint64_t>(used)});
  }
  return code;
}

class NvmlGpuInfo final : public GpuInfo {
 public:
  explicit NvmlGpuInfo(NvmlApi api) : api_(std::move(api)) {}
  // The library stays mapped: unloading a driver library that may have started threads is not worth
  // the risk, and dlopen is reference-counted, so opening it again maps nothing new.
  ~NvmlGpuInfo() override { api_.shutdown(); }
  NvmlGpuInfo(const NvmlGpuInfo&) = delete;
  NvmlGpuInfo& operator=(const NvmlGpuInfo&) = delete;

  std::string source() const override { return "nvml"; }

  std::vector<GpuDevice> devices() override {
    unsigned int count = 0;
    const nvmlReturn_t code = api_.get_count(&count);
    if (code != kNvmlSuccess) {
      warn("nvmlDeviceGetCount failed: " + api_.error_text(code));
      auto stale = last_;
      for (auto& d : stale) {
        d.free_bytes = 0;
        d.processes.clear();
      }
      return stale;
    }
    std::vector<GpuDevice> out;
    bool all_read = true;
    for (unsigned int i = 0; i < count; ++i) {
      GpuDevice d;
      d.index = i;
      const GpuDevice* last = i < last_.size() ? &last_[i] : nullptr;
      if (!read_device(i, d)) {
        all_read = false;
        if (last) {
          d.name = last->name;
          d.uuid = last->uuid;
          d.total_bytes = last->total_bytes;
        }
        d.free_bytes = 0;
      }
      out.push_back(std::move(d));
    }
    if (all_read) warned_.clear();  // a recurring failure is logged again after a good reading
    last_ = out;
    return out;
  }

 private:
  // Reads one device; false when its memory could not be read (the rest is best effort).
  bool read_device(unsigned int index, GpuDevice& d) {
    const std::string where = "GPU " + std::to_string(index) + ": ";
    nvmlDevice_t handle = nullptr;
    nvmlReturn_t code = api_.get_handle(index, &handle);
    if (code != kNvmlSuccess) {
      warn(where + "nvmlDeviceGetHandleByIndex failed: " + api_.error_text(code));
      return false;
    }
    char text[kNvmlStringBuffer] = {};
    if (api_.get_name(handle, text, sizeof text) == kNvmlSuccess) d.name = text;
    text[0] = '\0';
    if (api_.get_uuid(handle, text, sizeof text) == kNvmlSuccess) d.uuid = text;
    NvmlMemory memory{};
    code = api_.get_memory(handle, &memory);
    if (code != kNvmlSuccess) {
      warn(where + "nvmlDeviceGetMemoryInfo failed: " + api_.error_text(code));
      return false;
    }
    d.total_bytes = memory.total;
    d.free_bytes = memory.free;
    if (api_.get_processes) {
      code = api_.processes_v1 ? read_processes<NvmlProcessV1>(api_, handle, d.processes)
                               : read_processes<NvmlProcessV2>(api_, handle, d.processes);
      if (code != kNvmlSuccess) {
        d.processes.clear();
        warn(where + api_.processes_symbol + " failed: " + api_.error_text(code));
      }
    }
    return true;
  }

  // Once per distinct message until a reading works again: devices() is called often.
  void warn(const std::string& message) {
    if (warned_.insert(message).second) spdlog::warn("gpu: {}", message);
  }

  NvmlApi api_;
  std::vector<GpuDevice> last_;
  std::set<std::string> warned_;
};

}  // namespace

std::unique_ptr<GpuInfo> open_nvml(std::string& error) {
  error.clear();
  ::dlerror();
  void* library = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* text = ::dlerror();
    const std::string why = text ? text : "dlopen failed";
    // dlerror usually names the library already ("libnvidia-ml.so.1: cannot open shared object file").
    error = why.find(kLibrary) != std::string::npos ? why : std::string("cannot load ") + kLibrary + ": " + why;
    return nullptr;
  }
  NvmlApi api;
  api.init = symbol<InitFn>(library, {"nvmlInit_v2", "nvmlInit"});
  api.shutdown = symbol<ShutdownFn>(library, {"nvmlShutdown"});
  api.error_string = symbol<ErrorStringFn>(library, {"nvmlErrorString"});
  api.get_count = symbol<GetCountFn>(library, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
  api.get_handle = symbol<GetHandleFn>(library, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
  api.get_name = symbol<GetStringFn>(library, {"nvmlDeviceGetName"});
  api.get_uuid = symbol<GetStringFn>(library, {"nvmlDeviceGetUUID"});
  api.get_memory = symbol<GetMemoryFn>(library, {"nvmlDeviceGetMemoryInfo"});
  api.get_processes = symbol<GetProcessesFn>(
      library, {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"},
      &api.processes_symbol);
  if (!api.get_processes) {
    api.get_processes = symbol<GetProcessesFn>(library, {"nvmlDeviceGetComputeRunningProcesses"}, &api.processes_symbol);
    api.processes_v1 = api.get_processes != nullptr;
  }
  const std::pair<const void*, const char*> required[] = {
      {reinterpret_cast<const void*>(api.init), "nvmlInit_v2"},
      {reinterpret_cast<const void*>(api.shutdown), "nvmlShutdown"},
      {reinterpret_cast<const void*>(api.get_count), "nvmlDeviceGetCount_v2"},
      {reinterpret_cast<const void*>(api.get_handle), "nvmlDeviceGetHandleByIndex_v2"},
      {reinterpret_cast<const void*>(api.get_name), "nvmlDeviceGetName"},
      {reinterpret_cast<const void*>(api.get_uuid), "nvmlDeviceGetUUID"},
      {reinterpret_cast<const void*>(api.get_memory), "nvmlDeviceGetMemoryInfo"}};
  for (const auto& [address, name] : required) {
    if (!address) {
      error = std::string(kLibrary) + " has no " + name;
      return nullptr;
    }
  }
  const nvmlReturn_t code = api.init();
  if (code != kNvmlSuccess) {
    error = "nvmlInit failed: " + api.error_text(code);
    return nullptr;
  }
  return std::make_unique<NvmlGpuInfo>(std::move(api));
}

}  // namespace switchyard

// Starts, places, evicts and heals the llama-server processes of the local models. One thread of its
// own runs an io_context on which every decision is taken, one at a time (llama-swap's single-writer
// scheduler): loads asked for by waiting requests (several asks start one process), placement on the
// listed GPU with the most free memory, LRU eviction of idle unpinned models when memory or
// max_concurrent_models runs out (never a busy or pinned one), readiness (refused = starting, 503 =
// loading, 200 = ready, within load_timeout), health checks, crash restarts with doubling back-off,
// idle unload, eject and reset. Workers see the outcome through each LocalModel's atomics and the
// upstream's `healthy` flag (true only while ready), and read status snapshots kept behind a mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "core/asio.hpp"
#include "local/gpu_info.hpp"
#include "local/local_model.hpp"
#include "local/process_supervisor.hpp"

namespace switchyard {

class RouteTable;
struct UpstreamRuntime;

// Gives each local model a free loopback port (its llama-server's, for the life of the gateway),
// before the config is frozen and shared.
void assign_local_ports(Config& config);

class ModelManager {
 public:
  using Clock = std::chrono::steady_clock;

  // Links every model with `local` to its route's deployment and its upstream. Starts nothing.
  ModelManager(const Config& config, const RouteTable& routes,
               const std::map<std::string, std::unique_ptr<UpstreamRuntime>, std::less<>>& upstreams);
  ~ModelManager();

  // Cleans up what an earlier run left, starts the thread and the preloads.
  void start();
  // Stops every process (SIGTERM, then SIGKILL after a grace period) and the thread.
  void stop();

  bool empty() const { return models_.empty(); }
  const LocalModel* find(std::string_view alias) const;

  // From any thread. False when the alias is not a local model.
  bool load(std::string_view alias);
  bool eject(std::string_view alias);
  bool reset(std::string_view alias);

  // Snapshots (JSON text) for the status routes, kept up to date by the manager thread.
  std::string status_json() const;                    // every model, GPUs, summary
  std::string model_status_json(std::string_view alias) const;  // empty when unknown
  std::string failed_json() const;
  std::string vram_json() const;
  std::string metrics_text() const;                   // Prometheus lines
  // model_update events after `seq` (each an SSE data payload), and the newest seq.
  std::uint64_t updates_since(std::uint64_t seq, std::vector<std::string>& out) const;

 private:
  struct Managed;

  void request_load(LocalModel& model);
  Task<> run_load(Managed& m);
  Task<bool> make_room(Managed& m, std::uint64_t need, int& gpu, std::string& refusal);
  Task<> stop_process(Managed& m, std::string reason);
  Task<> supervise();
  Task<int> probe(const Managed& m, std::chrono::milliseconds timeout);
  Task<> health_check(Managed& m);
  void on_crash(Managed& m);
  void refuse(Managed& m, const std::string& reason);
  void fail(Managed& m, const std::string& reason);
  void set_state(Managed& m, LocalState state);
  void publish(Managed* changed);
  std::uint64_t estimate_bytes(Managed& m, std::string& note);
  std::int64_t in_flight(const Managed& m) const;
  std::string log_path(const Managed& m) const;

  const Config& config_;
  std::string state_dir_;
  std::vector<std::unique_ptr<Managed>> models_;
  std::unique_ptr<GpuInfo> gpus_;
  asio::io_context io_{1};
  std::thread thread_;
  bool started_ = false;

  mutable std::mutex snapshot_mutex_;  // guards the snapshots below
  std::string status_json_;
  std::map<std::string, std::string, std::less<>> model_json_;
  std::string vram_json_;
  std::string metrics_text_;
  std::deque<std::pair<std::uint64_t, std::string>> updates_;
  std::uint64_t update_seq_ = 0;
};

}  // namespace switchyard

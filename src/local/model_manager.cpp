#include "local/model_manager.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <future>

#include "local/gguf_reader.hpp"
#include "local/llama_command.hpp"
#include "routing/route_table.hpp"
#include "routing/upstream_runtime.hpp"
#include "upstream/upstream_connection.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kSupervisePeriod = std::chrono::milliseconds(200);
constexpr std::size_t kKeptUpdates = 512;
constexpr unsigned kHealthFailuresBeforeKill = 3;
// After a refused load, requests stop waiting for the model this long (they go to other
// deployments, or get the reason) instead of asking for the same refusal again and again.
constexpr auto kRefusalRest = std::chrono::seconds(2);

std::uint64_t mib(std::uint64_t bytes) { return (bytes + kMiB - 1) / kMiB; }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

void assign_local_ports(Config& config) {
  std::vector<std::uint16_t> assigned;  // free until their servers start, so not picked twice
  for (auto& [alias, model] : config.models) {
    if (!model.local) continue;
    const auto port = pick_free_port(assigned);
    assigned.push_back(port);
    model.local->port = port;
    auto& upstream = config.upstreams.at("local:" + alias);
    upstream.port = port;
    upstream.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  }
}

const char* local_state_name(LocalState state) {
  switch (state) {
    case LocalState::off: return "off";
    case LocalState::starting: return "starting";
    case LocalState::loading: return "loading";
    case LocalState::ready: return "ready";
    case LocalState::stopping: return "stopping";
    case LocalState::failed: return "failed";
  }
  return "off";
}

// Everything the manager keeps about one model; touched on the manager thread only.
struct ModelManager::Managed {
  std::unique_ptr<LocalModel> model;
  const Deployment* deployment = nullptr;
  std::unique_ptr<ChildProcess> process;
  bool load_running = false;     // run_load is under way
  bool wanted = false;           // a load was asked for while stopping: start again after
  int gpu = -1;                  // -1: CPU, or not placed
  std::string gpu_name;
  std::uint64_t vram_bytes = 0;  // what it was placed with (estimate x multiplier)
  std::string estimate_note;
  Clock::time_point load_started{};
  double load_seconds = 0;
  std::int64_t ready_since_unix_ms = 0;
  unsigned loads = 0;
  unsigned restarts = 0;
  std::deque<Clock::time_point> crashes;  // within restart_window
  std::chrono::milliseconds backoff{0};
  Clock::time_point restart_at{};         // a crash restart is due then (when set)
  bool restart_due = false;
  unsigned health_failures = 0;
  Clock::time_point next_health{};
  bool health_check_running = false;
  std::int64_t updated_unix_ms = 0;
  // The state the status snapshots show: set before the routers can see a new state, so a client
  // that was served by a model that just became ready never reads an older state from /status.
  LocalState shown = LocalState::off;
};

ModelManager::ModelManager(const Config& config, const RouteTable& routes,
                           const std::map<std::string, std::unique_ptr<UpstreamRuntime>, std::less<>>& upstreams)
    : config_(config) {
  state_dir_ = config.local.state_dir.empty() ? "/tmp/switchyard-" + std::to_string(::getuid()) : config.local.state_dir;
  for (const auto& [alias, model] : config.models) {
    if (!model.local) continue;
    const auto upstream = upstreams.find("local:" + alias);
    const Route* route = routes.find(alias);
    if (upstream == upstreams.end() || !route) continue;
    auto m = std::make_unique<Managed>();
    m->model = std::make_unique<LocalModel>(alias, *model.local, *upstream->second);
    m->model->route_ = route;
    for (const auto& d : route->deployments)
      if (d.upstream == upstream->second.get()) m->deployment = &d;
    m->model->request_load_ = [this](LocalModel& wanted) { request_load(wanted); };
    m->backoff = config.local.restart_backoff;
    upstream->second->healthy.store(false, std::memory_order_relaxed);  // no traffic until ready
    models_.push_back(std::move(m));
  }
  if (!config.local.fake_gpus.empty()) {
    std::vector<FakeGpuInfo::Device> devices;
    for (const auto& gpu : config.local.fake_gpus) devices.push_back({gpu.name, gpu.total_mib * kMiB, gpu.used_mib * kMiB});
    gpus_ = std::make_unique<FakeGpuInfo>(std::move(devices));
  }
  publish(nullptr);
}

ModelManager::~ModelManager() { stop(); }

const LocalModel* ModelManager::find(std::string_view alias) const {
  for (const auto& m : models_)
    if (m->model->alias() == alias) return m->model.get();
  return nullptr;
}

void ModelManager::start() {
  if (models_.empty() || started_) return;
  started_ = true;
  std::error_code ec;
  std::filesystem::create_directories(state_dir_ + "/logs", ec);
  std::filesystem::create_directories(state_dir_ + "/pids", ec);
  const auto reaped = reap_leftovers(state_dir_ + "/pids", config_.local.llama_server_path);
  if (reaped > 0) spdlog::warn("local: stopped {} llama-server process(es) left by an earlier run", reaped);
  if (!gpus_) gpus_ = detect_gpus(config_.local.nvidia_smi);
  spdlog::info("local: {} model(s), GPU memory from {}, state in {}", models_.size(), gpus_->source(), state_dir_);
  asio::co_spawn(io_, supervise(), asio::detached);
  const auto& preload = config_.local.preload_models;
  for (auto& m : models_) {
    const bool all = std::find(preload.begin(), preload.end(), "*") != preload.end();
    if (all || std::find(preload.begin(), preload.end(), m->model->alias()) != preload.end()) request_load(*m->model);
  }
  thread_ = std::thread([this] { io_.run(); });
}

void ModelManager::stop() {
  if (!started_) return;
  started_ = false;
  // Stopped on the manager's thread, which forked them (their parent-death signal is tied to it).
  std::promise<void> done;
  asio::post(io_, [this, &done] {
    for (auto& m : models_) {
      if (m->process) m->process->terminate(kStopGrace);
      m->model->upstream().healthy.store(false, std::memory_order_relaxed);
    }
    const auto deadline = Clock::now() + kStopGrace + std::chrono::seconds(1);
    for (auto& m : models_) {
      while (m->process && m->process->running() && Clock::now() < deadline) {
        m->process->poll_termination();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (m->process) m->process->kill_now();
      m->process.reset();
    }
    done.set_value();
  });
  done.get_future().wait();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void ModelManager::request_load(LocalModel& model) {
  asio::post(io_, [this, &model] {
    for (auto& m : models_) {
      if (m->model.get() != &model) continue;
      const auto state = model.state();
      if (state == LocalState::stopping) m->wanted = true;
      if (state != LocalState::off || m->load_running || m->restart_due) return;
      asio::co_spawn(io_, run_load(*m), asio::detached);
    }
  });
}

bool ModelManager::load(std::string_view alias) {
  const auto* model = find(alias);
  if (!model) return false;
  request_load(const_cast<LocalModel&>(*model));
  return true;
}

bool ModelManager::eject(std::string_view alias) {
  const auto* model = find(alias);
  if (!model) return false;
  asio::post(io_, [this, model] {
    for (auto& m : models_)
      if (m->model.get() == model && m->process) asio::co_spawn(io_, stop_process(*m, "ejected"), asio::detached);
  });
  return true;
}

bool ModelManager::reset(std::string_view alias) {
  const auto* model = find(alias);
  if (!model) return false;
  asio::post(io_, [this, model] {
    for (auto& m : models_) {
      if (m->model.get() != model) continue;
      m->crashes.clear();
      m->restart_due = false;
      m->backoff = config_.local.restart_backoff;
      {
        std::lock_guard lock(m->model->mutex_);
        m->model->last_error_.clear();
      }
      if (m->model->state() == LocalState::failed) set_state(*m, LocalState::off);
      publish(m.get());
    }
  });
  return true;
}

std::int64_t ModelManager::in_flight(const Managed& m) const {
  return m.deployment ? m.deployment->state->in_flight.load(std::memory_order_relaxed) : 0;
}

std::string ModelManager::log_path(const Managed& m) const { return state_dir_ + "/logs/" + m.model->alias() + ".log"; }

void ModelManager::set_state(Managed& m, LocalState state) {
  m.shown = state;
  m.updated_unix_ms = unix_ms();
  publish(&m);
  m.model->state_.store(state, std::memory_order_release);
  m.model->upstream().healthy.store(state == LocalState::ready, std::memory_order_relaxed);
  if (m.model->route_) m.model->route_->queue->notify();  // waiting requests look again
}

// A load that could not start (no room, every slot busy): the model stays off and the requests
// waiting for it get 503 with the reason.
void ModelManager::refuse(Managed& m, const std::string& reason) {
  spdlog::warn("local: cannot load {}: {}", m.model->alias(), reason);
  {
    std::lock_guard lock(m.model->mutex_);
    m.model->last_error_ = reason;
  }
  m.model->refusals_.fetch_add(1, std::memory_order_acq_rel);
  m.model->refused_until_ns_.store((Clock::now() + kRefusalRest).time_since_epoch().count(), std::memory_order_relaxed);
  set_state(m, LocalState::off);
}

void ModelManager::fail(Managed& m, const std::string& reason) {
  spdlog::error("local: {} failed: {}", m.model->alias(), reason);
  {
    std::lock_guard lock(m.model->mutex_);
    m.model->last_error_ = reason;
  }
  m.model->refusals_.fetch_add(1, std::memory_order_acq_rel);
  set_state(m, LocalState::failed);
}

std::uint64_t ModelManager::estimate_bytes(Managed& m, std::string& note) {
  const auto& local = m.model->config();
  const double multiplier = config_.local.vram_multiplier;
  if (local.vram_mib > 0) {
    note = "vram_mib from the config";
    return local.vram_mib * kMiB;
  }
  GgufInfo info;
  std::string error;
  if (!read_gguf_info(local.model_path, info, error)) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(local.model_path, ec);
    note = "file size (GGUF header unreadable: " + error + ")";
    return ec ? 0 : static_cast<std::uint64_t>(static_cast<double>(size) * multiplier);
  }
  VramParams params;
  params.n_ctx = local.params.n_ctx;
  params.n_gpu_layers = local.params.n_gpu_layers < 0 ? 0 : static_cast<std::uint32_t>(local.params.n_gpu_layers);
  params.type_k = local.params.type_k;
  params.type_v = local.params.type_v;
  params.parallel = local.params.parallel;
  if (local.params.batch_size) params.n_batch = local.params.batch_size;
  if (local.params.ubatch_size) params.n_ubatch = local.params.ubatch_size;
  const auto estimate = estimate_vram(info, params);
  std::uint64_t extra = 0;  // a projector or draft model, loaded whole beside the main one
  for (const auto& file : extra_model_files(local)) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (!ec) extra += size;
  }
  note = "GGUF" + (info.split_count > 1 ? " (" + std::to_string(info.split_count) + " parts)" : std::string()) +
         ": weights " + std::to_string(mib(estimate.weights_bytes)) + " MiB + KV cache " +
         std::to_string(mib(estimate.kv_cache_bytes)) + " MiB + overhead " + std::to_string(mib(estimate.overhead_bytes)) +
         " MiB" + (extra ? " + mmproj/draft " + std::to_string(mib(extra)) + " MiB" : std::string()) + ", x" +
         std::to_string(multiplier).substr(0, 4);
  return static_cast<std::uint64_t>(static_cast<double>(estimate.total_bytes + extra) * multiplier);
}

// Finds a GPU for `need` bytes, unloading least recently used idle, unpinned models when that makes
// it fit; also keeps max_concurrent_models. False with `refusal` when it cannot be done.
Task<bool> ModelManager::make_room(Managed& m, std::uint64_t need, int& gpu, std::string& refusal) {
  const auto running = [&] {
    std::size_t n = 0;
    for (const auto& other : models_)
      if (other.get() != &m && other->process) ++n;
    return n;
  };
  // Idle, unpinned, ready models on `device` (any device for -2), least recently used first.
  const auto victims = [&](int device) {
    std::vector<Managed*> list;
    for (auto& other : models_) {
      if (other.get() == &m || !other->process || other->model->state() != LocalState::ready) continue;
      if (other->model->config().pinned || in_flight(*other) > 0) continue;
      if (device != -2 && other->gpu != device) continue;
      list.push_back(other.get());
    }
    std::sort(list.begin(), list.end(), [](const Managed* a, const Managed* b) { return a->model->last_used() < b->model->last_used(); });
    return list;
  };
  while (running() >= config_.local.max_concurrent_models) {
    auto list = victims(-2);
    if (list.empty()) {
      refusal = std::to_string(running()) + " local models are loaded (local.max_concurrent_models), and every one is busy or pinned";
      co_return false;
    }
    co_await stop_process(*list.front(), "evicted (max_concurrent_models) to load " + m.model->alias());
  }
  auto devices = gpus_->devices();
  const auto& allowed = config_.local.gpu_devices;
  std::erase_if(devices, [&](const GpuDevice& d) { return !allowed.empty() && std::find(allowed.begin(), allowed.end(), d.index) == allowed.end(); });
  if (devices.empty()) {
    gpu = -1;  // CPU mode: llama-server runs on the CPU, memory is not budgeted here
    co_return true;
  }
  // The device with the most free memory, when the model fits in it as it is; else the one where
  // free memory plus what its idle models hold is largest (some of them will be unloaded).
  const GpuDevice* best = nullptr;
  std::uint64_t best_room = 0;
  for (const auto& d : devices) {
    if (d.free_bytes >= need && (!best || d.free_bytes > best->free_bytes)) best = &d;
  }
  if (best) best_room = best->free_bytes;
  for (const auto& d : devices) {
    if (best && best->free_bytes >= need) break;
    std::uint64_t room = d.free_bytes;
    for (const auto* v : victims(static_cast<int>(d.index))) room += v->vram_bytes;
    if (!best || room > best_room || (room == best_room && d.free_bytes > best->free_bytes)) {
      best = &d;
      best_room = room;
    }
  }
  if (best_room < need) {
    std::uint64_t most_free = 0;
    for (const auto& d : devices) most_free = std::max(most_free, d.free_bytes);
    refusal = "model needs " + std::to_string(mib(need)) + " MiB of GPU memory; the most free on a GPU is " +
              std::to_string(mib(most_free)) + " MiB, and unloading idle models would free at most " +
              std::to_string(mib(best_room)) + " MiB";
    co_return false;
  }
  const unsigned index = best->index;
  std::uint64_t free = best->free_bytes;
  for (auto* victim : victims(static_cast<int>(index))) {
    if (free >= need) break;
    co_await stop_process(*victim, "evicted (GPU memory) to load " + m.model->alias());
    // Real GPUs give the memory back a moment after the process exits: read again, briefly.
    for (int i = 0; i < 20; ++i) {
      for (const auto& d : gpus_->devices())
        if (d.index == index) free = d.free_bytes;
      if (free >= need) break;
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_nothrow);
    }
  }
  if (free < need) {
    refusal = "model needs " + std::to_string(mib(need)) + " MiB on GPU " + std::to_string(index) + ", only " +
              std::to_string(mib(free)) + " MiB is free after unloading idle models";
    co_return false;
  }
  gpu = static_cast<int>(index);
  co_return true;
}

// GET /health on the model's port: the status, -1 when nothing listens (refused), -2 on a timeout
// or broken answer.
Task<int> ModelManager::probe(const Managed& m, std::chrono::milliseconds timeout) {
  UpstreamConfig dial = m.model->upstream().config;
  dial.timeouts.connect = timeout;
  UpstreamConnection connection(io_.get_executor(), nullptr);
  const auto ec = co_await connection.connect(dial);
  if (ec) co_return ec == asio::error::connection_refused ? -1 : -2;
  const std::string request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(dial.port) +
                              "\r\nUser-Agent: switchyard-local\r\nConnection: close\r\n\r\n";
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(request), asio::const_buffer()};
  auto [write_ec, written] = co_await connection.write(buffers, timeout);
  if (write_ec) co_return -2;
  http::response_parser<http::empty_body> parser;
  parser.body_limit(boost::none);
  const auto read_ec = co_await connection.read_header(parser, timeout);
  connection.close();
  if (read_ec) co_return -2;
  co_return static_cast<int>(parser.get().result_int());
}

// One /health of a ready server, beside the supervision loop (a slow answer must not hold up the
// other models); three failures in a row kill and restart it.
Task<> ModelManager::health_check(Managed& m) {
  const auto load = m.loads;
  const int status = co_await probe(m, config_.local.health_timeout);
  m.health_check_running = false;
  m.next_health = Clock::now() + config_.local.health_interval;
  if (m.loads != load || m.model->state() != LocalState::ready) co_return;  // stopped or restarted meanwhile
  if (status == 200) {
    m.health_failures = 0;
    m.backoff = config_.local.restart_backoff;  // healthy for a while: crashes start over
  } else if (++m.health_failures >= kHealthFailuresBeforeKill && m.process) {
    spdlog::warn("local: {} failed {} health checks; killing it", m.model->alias(), m.health_failures);
    m.process->kill_now();
    on_crash(m);
  }
}

Task<> ModelManager::run_load(Managed& m) {
  m.load_running = true;
  m.restart_due = false;
  const auto& local = m.model->config();
  const auto& alias = m.model->alias();
  std::error_code exists_ec;
  if (!std::filesystem::exists(local.model_path, exists_ec)) {
    fail(m, "model file not found: " + local.model_path);
    m.load_running = false;
    co_return;
  }
  std::string note;
  const auto need = estimate_bytes(m, note);
  int gpu = -1;
  std::string refusal;
  const bool placed = co_await make_room(m, need, gpu, refusal);
  if (!placed) {
    refuse(m, refusal);
    m.load_running = false;
    co_return;
  }
  const auto port = m.model->upstream().config.port;
  if (!port_is_free(port)) {
    fail(m, "port " + std::to_string(port) + " on 127.0.0.1 is taken by another process");
    m.load_running = false;
    co_return;
  }
  ProcessSpec spec;
  spec.name = alias;
  spec.program = config_.local.llama_server_path;
  spec.args = llama_server_args(alias, local, port);
  spec.env.assign(local.env.begin(), local.env.end());
  if (gpu >= 0) {
    // NVML numbers GPUs in PCI bus order; CUDA does too only when told (by default fastest first).
    spec.env.emplace_back("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
    spec.env.emplace_back("CUDA_VISIBLE_DEVICES", std::to_string(gpu));
  }
  spec.log_path = log_path(m);
  spec.log_max_bytes = config_.local.log_max_bytes;
  spec.pid_dir = state_dir_ + "/pids";
  std::string error;
  m.load_started = Clock::now();
  m.model->load_deadline_ns_.store((m.load_started + local.load_timeout).time_since_epoch().count(), std::memory_order_relaxed);
  m.process = ChildProcess::spawn(spec, error);
  if (!m.process) {
    fail(m, error);
    m.load_running = false;
    co_return;
  }
  m.gpu = gpu;
  m.vram_bytes = gpu >= 0 ? need : 0;
  m.estimate_note = note;
  m.gpu_name.clear();
  for (const auto& d : gpus_->devices())
    if (static_cast<int>(d.index) == gpu) m.gpu_name = d.name;
  if (auto* fake = dynamic_cast<FakeGpuInfo*>(gpus_.get()); fake && gpu >= 0)
    fake->reserve(static_cast<unsigned>(gpu), static_cast<std::uint32_t>(m.process->pid()), need);
  ++m.loads;
  spdlog::info("local: starting {} (pid {}, port {}, {}, {} MiB: {})", alias, m.process->pid(), port,
               gpu >= 0 ? "GPU " + std::to_string(gpu) : std::string("CPU"), mib(need), note);
  set_state(m, LocalState::starting);
  // Readiness: refused = starting, 503 = loading, 200 = ready; an exit or the deadline fails it.
  const auto deadline = m.load_started + local.load_timeout;
  for (;;) {
    if (!m.process->running()) {
      const auto why = m.process->exit_description() + " while loading; last log lines:\n" + m.process->log_tail(8);
      if (auto* fake = dynamic_cast<FakeGpuInfo*>(gpus_.get())) fake->release(static_cast<std::uint32_t>(m.process->pid()));
      m.process.reset();
      fail(m, why);
      break;
    }
    if (m.model->state() == LocalState::stopping) break;  // ejected while loading
    const int status = co_await probe(m, std::chrono::milliseconds(1000));
    if (status == 200) {
      m.load_seconds = seconds_since(m.load_started);
      m.ready_since_unix_ms = unix_ms();
      m.health_failures = 0;
      m.next_health = Clock::now() + config_.local.health_interval;
      m.model->touch();
      spdlog::info("local: {} ready in {:.2f} s", alias, m.load_seconds);
      set_state(m, LocalState::ready);
      break;
    }
    if (status == 503 && m.model->state() == LocalState::starting) set_state(m, LocalState::loading);
    if (Clock::now() >= deadline) {
      const auto why = "not ready within " + std::to_string(local.load_timeout.count() / 1000) +
                       " s (load_timeout_sec); last log lines:\n" + m.process->log_tail(8);
      m.process->kill_now();
      if (auto* fake = dynamic_cast<FakeGpuInfo*>(gpus_.get())) fake->release(static_cast<std::uint32_t>(m.process->pid()));
      m.process.reset();
      fail(m, why);
      break;
    }
    // Polled often at first, so a quick load is seen within milliseconds (the cold-start overhead
    // the benchmark measures), then at a twentieth of the time spent, so a long load is not probed
    // thousands of times: a model ready after 60 s is seen at most 200 ms late.
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - m.load_started);
    const auto pause = elapsed < std::chrono::seconds(2)
                           ? std::chrono::milliseconds(5)
                           : std::min(elapsed / 20, std::chrono::milliseconds(200));
    asio::steady_timer timer(io_, pause);
    co_await timer.async_wait(use_nothrow);
  }
  m.load_running = false;
}

Task<> ModelManager::stop_process(Managed& m, std::string reason) {
  if (!m.process || m.model->state() == LocalState::stopping) co_return;
  spdlog::info("local: stopping {} ({})", m.model->alias(), reason);
  set_state(m, LocalState::stopping);
  // Requests already running get a moment to finish (eject of a busy model); new ones wait.
  const auto drain_until = Clock::now() + std::chrono::seconds(30);
  while (in_flight(m) > 0 && Clock::now() < drain_until) {
    asio::steady_timer timer(io_, std::chrono::milliseconds(50));
    co_await timer.async_wait(use_nothrow);
  }
  m.process->terminate(kStopGrace);
  while (m.process->running()) {
    m.process->poll_termination();
    asio::steady_timer timer(io_, std::chrono::milliseconds(20));
    co_await timer.async_wait(use_nothrow);
  }
  if (auto* fake = dynamic_cast<FakeGpuInfo*>(gpus_.get())) fake->release(static_cast<std::uint32_t>(m.process->pid()));
  m.process.reset();
  m.gpu = -1;
  m.vram_bytes = 0;
  set_state(m, LocalState::off);
  if (m.wanted) {
    m.wanted = false;
    request_load(*m.model);
  }
}

void ModelManager::on_crash(Managed& m) {
  const auto how = m.process->exit_description();
  const auto tail = m.process->log_tail(8);
  if (auto* fake = dynamic_cast<FakeGpuInfo*>(gpus_.get())) fake->release(static_cast<std::uint32_t>(m.process->pid()));
  m.process.reset();
  m.gpu = -1;
  m.vram_bytes = 0;
  const auto now = Clock::now();
  m.crashes.push_back(now);
  while (!m.crashes.empty() && now - m.crashes.front() > config_.local.restart_window) m.crashes.pop_front();
  if (m.crashes.size() > config_.local.max_restarts) {
    fail(m, "crashed " + std::to_string(m.crashes.size()) + " times within " +
                std::to_string(config_.local.restart_window.count() / 1000) + " s; last: " + how + "; last log lines:\n" + tail);
    return;
  }
  spdlog::warn("local: {} {}; restarting in {} ms", m.model->alias(), how, m.backoff.count());
  ++m.restarts;
  m.restart_due = true;
  m.restart_at = now + m.backoff;
  m.backoff = std::min(m.backoff * 2, std::chrono::milliseconds(60'000));
  {
    std::lock_guard lock(m.model->mutex_);
    m.model->last_error_ = how;
  }
  set_state(m, LocalState::off);
}

// Every tick: crashed processes, health checks of ready ones, due restarts, idle unloads, and the
// fake GPUs' view for /vram.
Task<> ModelManager::supervise() {
  asio::steady_timer timer(io_);
  for (;;) {
    timer.expires_after(kSupervisePeriod);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
    const auto now = Clock::now();
    for (auto& owned : models_) {
      auto& m = *owned;
      const auto state = m.model->state();
      if (m.process && !m.load_running && state == LocalState::ready && !m.process->running()) {
        on_crash(m);
        continue;
      }
      if (m.restart_due && now >= m.restart_at && !m.load_running && state == LocalState::off) {
        asio::co_spawn(io_, run_load(m), asio::detached);
        continue;
      }
      if (state == LocalState::ready && now >= m.next_health && !m.health_check_running) {
        m.health_check_running = true;
        asio::co_spawn(io_, health_check(m), asio::detached);
      }
      const auto idle = config_.local.idle_timeout;
      if (state == LocalState::ready && idle.count() > 0 && !m.model->config().pinned && in_flight(m) == 0 &&
          now - m.model->last_used() >= idle)
        asio::co_spawn(io_, stop_process(m, "idle for " + std::to_string(idle.count()) + " s"), asio::detached);
    }
    publish(nullptr);
  }
}

// Rebuilds the snapshots the status routes serve; `changed` adds a model_update event.
void ModelManager::publish(Managed* changed) {
  json::object models;
  json::object counts;
  std::string metrics;
  metrics += "# HELP switchyard_local_model_state 1 for the state each local model is in.\n# TYPE switchyard_local_model_state gauge\n";
  std::string loads = "# HELP switchyard_local_model_load_seconds How long the last load of each local model took.\n# TYPE switchyard_local_model_load_seconds gauge\n";
  std::string vram = "# HELP switchyard_local_model_vram_bytes GPU memory reserved for each local model (its estimate).\n# TYPE switchyard_local_model_vram_bytes gauge\n";
  std::string restarts = "# HELP switchyard_local_model_restarts_total Crash restarts of each local model.\n# TYPE switchyard_local_model_restarts_total counter\n";
  std::map<std::string, json::object> per_model;
  for (const auto& owned : models_) {
    const auto& m = *owned;
    const auto state = m.shown;
    const auto& alias = m.model->alias();
    json::object o{{"alias", alias},
                   {"status", local_state_name(state)},
                   {"port", m.model->upstream().config.port},
                   {"pid", m.process ? m.process->pid() : 0},
                   {"gpu", m.gpu >= 0 ? json::value(m.gpu) : json::value(nullptr)},
                   {"gpu_name", m.gpu_name},
                   {"vram_mb", mib(m.vram_bytes)},
                   {"vram_estimate", m.estimate_note},
                   {"load_seconds", m.load_seconds},
                   {"loads", m.loads},
                   {"restarts", m.restarts},
                   {"in_flight", in_flight(m)},
                   {"parallel", m.model->config().params.parallel},
                   {"pinned", m.model->config().pinned},
                   {"ready_since_unix_ms", m.ready_since_unix_ms},
                   {"error_message", m.model->last_error()},
                   {"updated_unix_ms", m.updated_unix_ms}};
    counts[local_state_name(state)] = (counts.contains(local_state_name(state)) ? counts.at(local_state_name(state)).as_int64() : 0) + 1;
    for (const auto candidate : {LocalState::off, LocalState::starting, LocalState::loading, LocalState::ready,
                                 LocalState::stopping, LocalState::failed})
      metrics += "switchyard_local_model_state{model=\"" + alias + "\",state=\"" + local_state_name(candidate) + "\"} " +
                 (candidate == state ? "1" : "0") + "\n";
    loads += "switchyard_local_model_load_seconds{model=\"" + alias + "\"} " + std::to_string(m.load_seconds) + "\n";
    vram += "switchyard_local_model_vram_bytes{model=\"" + alias + "\"} " + std::to_string(m.vram_bytes) + "\n";
    restarts += "switchyard_local_model_restarts_total{model=\"" + alias + "\"} " + std::to_string(m.restarts) + "\n";
    per_model[alias] = o;
    models[alias] = std::move(o);
  }
  json::array gpus;
  std::string gpu_metrics = "# HELP switchyard_gpu_memory_bytes GPU memory by device and kind (total, free).\n# TYPE switchyard_gpu_memory_bytes gauge\n";
  if (gpus_) {
    for (const auto& d : gpus_->devices()) {
      json::array placed;
      for (const auto& owned : models_)
        if (owned->gpu == static_cast<int>(d.index)) placed.push_back(json::value(owned->model->alias()));
      gpus.push_back(json::object{{"index", d.index},
                                  {"name", d.name},
                                  {"total_mb", d.total_bytes / kMiB},
                                  {"free_mb", d.free_bytes / kMiB},
                                  {"used_mb", (d.total_bytes - std::min(d.free_bytes, d.total_bytes)) / kMiB},
                                  {"models", std::move(placed)}});
      const auto index = std::to_string(d.index);
      gpu_metrics += "switchyard_gpu_memory_bytes{gpu=\"" + index + "\",kind=\"total\"} " + std::to_string(d.total_bytes) + "\n";
      gpu_metrics += "switchyard_gpu_memory_bytes{gpu=\"" + index + "\",kind=\"free\"} " + std::to_string(d.free_bytes) + "\n";
    }
  }
  const json::object status{{"server", json::object{{"status", "ok"}, {"gpu_source", gpus_ ? gpus_->source() : "none"}}},
                            {"models", models},
                            {"gpus", gpus},
                            {"summary", counts}};
  json::object vram_report{{"source", gpus_ ? gpus_->source() : "none"}, {"gpus", gpus}};
  json::object reserved;
  for (const auto& [alias, o] : per_model) reserved[alias] = json::object{{"gpu", o.at("gpu")}, {"vram_mb", o.at("vram_mb")}, {"status", o.at("status")}};
  vram_report["models"] = std::move(reserved);

  std::lock_guard lock(snapshot_mutex_);
  status_json_ = json::serialize(status);
  vram_json_ = json::serialize(vram_report);
  metrics_text_ = metrics + loads + vram + restarts + gpu_metrics;
  for (auto& [alias, o] : per_model) model_json_[alias] = json::serialize(o);
  if (changed) {
    updates_.emplace_back(++update_seq_, model_json_[changed->model->alias()]);
    while (updates_.size() > kKeptUpdates) updates_.pop_front();
  }
}

std::string ModelManager::status_json() const {
  std::lock_guard lock(snapshot_mutex_);
  return status_json_;
}

std::string ModelManager::model_status_json(std::string_view alias) const {
  std::lock_guard lock(snapshot_mutex_);
  const auto it = model_json_.find(alias);
  return it == model_json_.end() ? std::string() : it->second;
}

std::string ModelManager::failed_json() const {
  json::array failed;
  std::lock_guard lock(snapshot_mutex_);
  for (const auto& [alias, text] : model_json_) {
    auto parsed = json::parse(text);
    if (parsed.as_object().at("status") == "failed") failed.push_back(std::move(parsed));
  }
  return json::serialize(json::object{{"failed", std::move(failed)}});
}

std::string ModelManager::vram_json() const {
  std::lock_guard lock(snapshot_mutex_);
  return vram_json_;
}

std::string ModelManager::metrics_text() const {
  std::lock_guard lock(snapshot_mutex_);
  return metrics_text_;
}

std::uint64_t ModelManager::updates_since(std::uint64_t seq, std::vector<std::string>& out) const {
  std::lock_guard lock(snapshot_mutex_);
  for (const auto& [n, text] : updates_)
    if (n > seq) out.push_back(text);
  return update_seq_;
}

}  // namespace switchyard

// Chooses the deployment for each attempt of a request. Tier by tier, lowest first, it keeps the
// deployments that can take a request now — not tried yet for this request, upstream passing its
// health checks, circuit closed (or due for its half-open probe), not cooling down after a 429 or 503
// with Retry-After — and applies the alias's strategy to those of the first tier that has one below
// capacity (for a retry, those of them with the fewest consecutive failures). A tier whose
// deployments could serve but are all full stops the search (the request waits in the alias's
// queue) unless overflow is allowed, which lets it go on to the next tier.
// Before the strategy picks, the candidates are narrowed by what their upstreams report about the
// deployment's model (Ollama's /api/ps, another Switchyard's status; see health_check.hpp): loaded is
// preferred to unknown (an upstream that cannot tell, such as vLLM or a cloud API, which serve their
// models at all times), and unknown to known-not-loaded (which would first have to load it). Only the
// best rank present is kept, so with nothing reported the candidates are untouched; and only among
// deployments that can take the request now, so a loaded one at capacity does not hold up the others.
// One per worker: its cursors, weights and random numbers are the worker's own; the loads it reads
// and the slots it claims are shared.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "routing/route_table.hpp"

namespace switchyard {

struct PickResult {
  // Chosen, with one of its capacity slots already taken: release it with DeploymentState::release().
  const Deployment* deployment = nullptr;
  // None chosen because the deployments that could serve are all full: worth waiting for.
  bool wait = false;
};

class Router {
 public:
  Router(const RouteTable& routes, unsigned seed);

  // Earns the alias's retry budget its share of this request. Banked every 16 requests, so the
  // shared budget is not touched on every request by every worker.
  void count_request(const Route& route) {
    auto& unbanked = cursors_[route.index].unbanked_requests;
    if (++unbanked < kBankEvery) return;
    route.retry_budget->on_requests(unbanked);
    unbanked = 0;
  }

  // `tried` are excluded. With `allow_overflow`, full tiers are passed over for the next one.
  PickResult pick(const Route& route, std::span<const Deployment* const> tried, bool allow_overflow);

 private:
  static constexpr unsigned kBankEvery = 16;

  // What a deployment's upstream last said about its model, and for which version of its report.
  struct LoadedAnswer {
    std::uint64_t version = 0;
    ModelLoaded loaded = ModelLoaded::unknown;
  };

  struct RouteCursor {
    unsigned unbanked_requests = 0;          // not yet counted in the retry budget
    std::size_t next = 0;                    // round robin
    std::vector<std::int64_t> current;       // smooth weighted round robin, per deployment
    std::vector<LoadedAnswer> loaded;        // per deployment
  };

  bool claim(const Deployment& d, std::chrono::steady_clock::time_point now);
  static void keep_healthiest(std::vector<const Deployment*>& candidates);
  void prefer_loaded(const Route& route, std::vector<const Deployment*>& candidates);
  ModelLoaded loaded(const Route& route, const Deployment& d);
  const Deployment* choose(const Route& route, std::span<const Deployment* const> candidates);
  const Deployment* round_robin(const Route& route, std::span<const Deployment* const> candidates);
  const Deployment* weighted(const Route& route, std::span<const Deployment* const> candidates);
  const Deployment* least_loaded(const Route& route, std::span<const Deployment* const> candidates);
  const Deployment* latency_based(const Route& route, std::span<const Deployment* const> candidates);
  const Deployment* two_choices(std::span<const Deployment* const> candidates);

  std::vector<RouteCursor> cursors_;
  std::minstd_rand random_;
  std::vector<const Deployment*> eligible_;   // scratch, reused
  std::vector<const Deployment*> available_;  // scratch, reused
  std::vector<const Deployment*> lost_races_; // scratch: half-open probes another worker claimed first
};

// In flight relative to capacity (capacity 0 counts as 1).
double load_of(const Deployment& deployment);

}  // namespace switchyard

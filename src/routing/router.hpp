// Chooses the deployment for each attempt of a request. Tier by tier, lowest first, it keeps the
// deployments that can take a request now — not tried yet for this request, upstream passing its
// health checks, circuit closed (or due for its half-open probe), not cooling down after a 429 or 503
// with Retry-After — and applies the alias's strategy to those of the first tier that has one below
// capacity. When every candidate is at capacity it takes the least loaded of them (there is no
// queue yet). One per worker: its cursors, weights and random numbers are the worker's own; the
// loads it reads are shared.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "routing/route_table.hpp"

namespace switchyard {

class Router {
 public:
  Router(const RouteTable& routes, unsigned seed);

  // Null when no deployment can take the request. `tried` are excluded.
  const Deployment* pick(const Route& route, std::span<const Deployment* const> tried);

 private:
  struct RouteCursor {
    std::size_t next = 0;                    // round robin
    std::vector<std::int64_t> current;       // smooth weighted round robin, per deployment
  };

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

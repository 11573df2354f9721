#include "routing/router.hpp"

#include <algorithm>
#include <limits>

#include "local/local_model.hpp"

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;

// latency_based: the share of picks that go to one of the other candidates, and how old the last
// sample of a deployment may be before it counts as unmeasured again (a recovered one is tried again).
constexpr double kExploreShare = 0.05;
constexpr auto kStaleSample = std::chrono::seconds(10);

bool contains(std::span<const Deployment* const> list, const Deployment* d) {
  return std::find(list.begin(), list.end(), d) != list.end();
}

bool at_capacity(const Deployment& d) {
  const auto capacity = d.config->capacity;
  return capacity > 0 && d.state->in_flight.load(std::memory_order_relaxed) >= capacity;
}

// Could take a request now, capacity aside. Reads only: admit() claims a half-open probe later.
bool eligible(const Deployment& d, Clock::time_point now) {
  if (!d.upstream->healthy.load(std::memory_order_relaxed)) return false;
  if (d.state->cooling_down(now)) return false;
  return d.state->may_admit(now);
}

}  // namespace

double load_of(const Deployment& deployment) {
  const auto capacity = std::max(1u, deployment.config->capacity);
  return static_cast<double>(deployment.state->in_flight.load(std::memory_order_relaxed)) / capacity;
}

Router::Router(const RouteTable& routes, unsigned seed) : cursors_(routes.size()), random_(seed) {
  routes.for_each([&](const Route& route) {
    cursors_[route.index].current.assign(route.deployments.size(), 0);
    cursors_[route.index].loaded.assign(route.deployments.size(), LoadedAnswer{});
  });
}

PickResult Router::pick(const Route& route, std::span<const Deployment* const> tried, bool allow_overflow) {
  const auto now = Clock::now();
  lost_races_.clear();
  // Claiming can fail when another worker got there first: the last slot below capacity, or the one
  // half-open probe of an open circuit. The loser chooses again without that deployment.
  for (std::size_t round = 0; round <= route.deployments.size(); ++round) {
    const Deployment* chosen = nullptr;
    bool blocked = false;  // a tier had deployments that could serve, but all were full
    for (const auto tier : route.tiers) {
      eligible_.clear();
      available_.clear();
      bool loading = false;  // a local model of this tier is on its way up: worth waiting for
      for (const auto& d : route.deployments) {
        if (d.config->tier != tier || contains(tried, &d) || contains(lost_races_, &d)) continue;
        if (d.local && d.local->state() != LocalState::ready) {
          if (d.local->loadable()) {
            d.local->want();
            loading = true;
          }
          continue;
        }
        if (!eligible(d, now)) continue;
        eligible_.push_back(&d);
        if (!at_capacity(d)) available_.push_back(&d);
      }
      if (!available_.empty()) {
        if (!tried.empty()) keep_healthiest(available_);
        prefer_loaded(route, available_);
        chosen = choose(route, available_);
        break;
      }
      if (!eligible_.empty() || loading) {
        blocked = true;
        if (!allow_overflow) return PickResult{nullptr, true};
      }
    }
    if (!chosen) return PickResult{nullptr, blocked};
    if (claim(*chosen, now)) return PickResult{chosen, false};
    lost_races_.push_back(chosen);
  }
  return PickResult{nullptr, false};
}

// A retry goes to the deployments with the fewest consecutive failures: after one failed, the next
// attempt should not land on another that is failing too.
void Router::keep_healthiest(std::vector<const Deployment*>& candidates) {
  std::uint32_t fewest = std::numeric_limits<std::uint32_t>::max();
  for (const auto* d : candidates) fewest = std::min(fewest, d->state->consecutive_failures());
  std::erase_if(candidates, [fewest](const Deployment* d) { return d->state->consecutive_failures() > fewest; });
}

// Keeps the candidates of the best rank their upstreams report: loaded, else unknown, else all.
// Most upstreams report nothing: then one relaxed load per candidate and no change.
void Router::prefer_loaded(const Route& route, std::vector<const Deployment*>& candidates) {
  if (candidates.size() < 2) return;
  const bool any_info = std::any_of(candidates.begin(), candidates.end(), [](const Deployment* d) {
    return d->upstream->has_loaded_info.load(std::memory_order_relaxed);
  });
  if (!any_info) return;
  auto best = ModelLoaded::no;
  auto worst = ModelLoaded::yes;
  for (const auto* d : candidates) {
    const auto rank = loaded(route, *d);
    best = std::max(best, rank);
    worst = std::min(worst, rank);
  }
  if (best == worst) return;
  const auto& answers = cursors_[route.index].loaded;
  std::erase_if(candidates, [&](const Deployment* d) { return answers[d->index].loaded != best; });
}

// The deployment's rank, asking its upstream (under its lock) only when its report changed.
ModelLoaded Router::loaded(const Route& route, const Deployment& d) {
  auto& answer = cursors_[route.index].loaded[d.index];
  if (!d.upstream->has_loaded_info.load(std::memory_order_relaxed)) {
    answer.loaded = ModelLoaded::unknown;
  } else if (answer.version != d.upstream->loaded_models_version.load(std::memory_order_acquire)) {
    answer.loaded = d.upstream->model_loaded(d.config->model, answer.version);
  }
  return answer.loaded;
}

// Takes a slot below capacity, and the half-open probe when the circuit is due for one.
bool Router::claim(const Deployment& d, Clock::time_point now) {
  if (!d.state->try_acquire(d.config->capacity)) return false;
  if (d.state->admit(now)) return true;
  d.state->release();
  return false;
}

const Deployment* Router::choose(const Route& route, std::span<const Deployment* const> candidates) {
  if (candidates.size() == 1) return candidates.front();
  switch (route.config->strategy) {
    case Strategy::round_robin: return round_robin(route, candidates);
    case Strategy::weighted: return weighted(route, candidates);
    case Strategy::least_loaded: return least_loaded(route, candidates);
    case Strategy::latency_based: return latency_based(route, candidates);
    case Strategy::random: return two_choices(candidates);
  }
  return candidates.front();
}

// Walks the route's whole list so that, with everything available, the order is exact.
const Deployment* Router::round_robin(const Route& route, std::span<const Deployment* const> candidates) {
  auto& cursor = cursors_[route.index];
  const auto n = route.deployments.size();
  for (std::size_t k = 0; k < n; ++k) {
    const auto* d = &route.deployments[cursor.next++ % n];
    if (contains(candidates, d)) return d;
  }
  return candidates.front();
}

// nginx's smooth weighted round robin: every pick adds each weight to its deployment's running sum,
// takes the largest and subtracts the total from it. Spreads a 5:1:1 split as a a b a c a a, not a a a a a b c.
const Deployment* Router::weighted(const Route& route, std::span<const Deployment* const> candidates) {
  auto& current = cursors_[route.index].current;
  std::int64_t total = 0;
  const Deployment* best = nullptr;
  for (const auto* d : candidates) {
    const auto weight = static_cast<std::int64_t>(d->config->weight);
    current[d->index] += weight;
    total += weight;
    if (!best || current[d->index] > current[best->index]) best = d;
  }
  current[best->index] -= total;
  return best;
}

// Ties go round robin, so equally idle deployments share the work.
const Deployment* Router::least_loaded(const Route& route, std::span<const Deployment* const> candidates) {
  auto& cursor = cursors_[route.index];
  const auto start = cursor.next++;
  const Deployment* best = nullptr;
  double best_load = std::numeric_limits<double>::max();
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const auto* d = candidates[(start + k) % candidates.size()];
    const auto load = load_of(*d);
    if (load < best_load) {
      best = d;
      best_load = load;
    }
  }
  return best;
}

// Lowest average time to first token (latency when there is none), a little weighed by load. Not yet
// measured, or not for a while, goes first; and a few picks go anywhere, so the average of a slow
// deployment that got faster is not stuck at its old value.
const Deployment* Router::latency_based(const Route& route, std::span<const Deployment* const> candidates) {
  const auto now = Clock::now();
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const auto* d = candidates[(cursors_[route.index].next + k) % candidates.size()];
    if (d->state->samples() == 0 || now - d->state->last_sample() > kStaleSample) {
      ++cursors_[route.index].next;
      return d;
    }
  }
  const Deployment* best = nullptr;
  double best_score = std::numeric_limits<double>::max();
  for (const auto* d : candidates) {
    const double ttft = d->state->ewma_ttft_us();
    const double score = (ttft > 0 ? ttft : d->state->ewma_latency_us()) * (1.0 + load_of(*d));
    if (score < best_score) {
      best = d;
      best_score = score;
    }
  }
  if (std::uniform_real_distribution<double>(0, 1)(random_) < kExploreShare) {
    // Explore: one of the others, so a slow deployment's average can learn that it got faster.
    auto other = std::uniform_int_distribution<std::size_t>(0, candidates.size() - 2)(random_);
    if (candidates[other] == best) other = candidates.size() - 1;
    return candidates[other];
  }
  return best;
}

// Power of two choices: two distinct candidates at random, the less loaded wins.
const Deployment* Router::two_choices(std::span<const Deployment* const> candidates) {
  const auto n = candidates.size();
  const auto first = std::uniform_int_distribution<std::size_t>(0, n - 1)(random_);
  auto second = std::uniform_int_distribution<std::size_t>(0, n - 2)(random_);
  if (second >= first) ++second;
  return load_of(*candidates[second]) < load_of(*candidates[first]) ? candidates[second] : candidates[first];
}

}  // namespace switchyard

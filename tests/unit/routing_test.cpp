#include <gtest/gtest.h>

#include <map>

#include "routing/admission_queue.hpp"
#include "routing/retry_budget.hpp"
#include "routing/route_table.hpp"
#include "routing/router.hpp"
#include "route_fixture.hpp"

namespace switchyard {
namespace {

using Clock = std::chrono::steady_clock;

// One alias "m" over `n` upstreams, deployments with the given weights, tiers and capacity.
struct Fixture : RouteFixture {
  explicit Fixture(std::size_t n, Strategy strategy, std::vector<unsigned> weights = {},
                   std::vector<unsigned> tiers = {}, unsigned capacity = 0)
      : RouteFixture(n, strategy, "m", [&](std::size_t i, DeploymentConfig& d) {
          d.model = "x";
          if (i < weights.size()) d.weight = weights[i];
          if (i < tiers.size()) d.tier = tiers[i];
          d.capacity = capacity;
        }) {}

  // Picks `count` times, releasing each slot at once; returns how often each deployment was chosen.
  std::map<std::string, int> spread(Router& router, int count) {
    std::map<std::string, int> counts;
    for (int i = 0; i < count; ++i) {
      const auto pick = router.pick(*route, {}, false);
      EXPECT_NE(pick.deployment, nullptr);
      if (!pick.deployment) break;
      ++counts[pick.deployment->name];
      pick.deployment->state->release();
    }
    return counts;
  }
};

TEST(Router, RoundRobinIsExact) {
  Fixture f(3, Strategy::round_robin);
  Router router(*f.table, 1);
  EXPECT_EQ(f.spread(router, 30), (std::map<std::string, int>{{"gpu0", 10}, {"gpu1", 10}, {"gpu2", 10}}));
}

TEST(Router, SmoothWeightedFollowsWeightsWithoutRuns) {
  Fixture f(3, Strategy::weighted, {5, 1, 1});
  Router router(*f.table, 1);
  std::string order;
  for (int i = 0; i < 7; ++i) {
    const auto pick = router.pick(*f.route, {}, false);
    order += pick.deployment->name.back();
    pick.deployment->state->release();
  }
  EXPECT_EQ(order, "0010200");  // nginx's a a b a c a a
}

TEST(Router, LeastLoadedAvoidsTheBusyOne) {
  Fixture f(2, Strategy::least_loaded);
  Router router(*f.table, 1);
  f.route->deployments[0].state->in_flight = 3;
  EXPECT_EQ(f.spread(router, 5), (std::map<std::string, int>{{"gpu1", 5}}));
}

TEST(Router, TriedAndUnhealthyAndCoolingDownAreSkipped) {
  Fixture f(3, Strategy::round_robin);
  Router router(*f.table, 1);
  const Deployment* tried[] = {&f.route->deployments[0]};
  f.route->deployments[1].upstream->healthy = false;
  const auto pick = router.pick(*f.route, tried, false);
  ASSERT_NE(pick.deployment, nullptr);
  EXPECT_EQ(pick.deployment->name, "gpu2");
  pick.deployment->state->release();
  f.route->deployments[2].state->cool_down_until(Clock::now() + std::chrono::seconds(5));
  const auto none = router.pick(*f.route, tried, false);
  EXPECT_EQ(none.deployment, nullptr);
  EXPECT_FALSE(none.wait);
}

TEST(Router, ARetryPrefersTheDeploymentsWithFewestRecentFailures) {
  Fixture f(3, Strategy::round_robin);
  Router router(*f.table, 1);
  const Deployment* tried[] = {&f.route->deployments[0]};
  f.route->deployments[1].state->failed(Clock::now());  // one failure: circuit still closed
  for (int i = 0; i < 4; ++i) {
    const auto pick = router.pick(*f.route, tried, false);
    ASSERT_NE(pick.deployment, nullptr);
    EXPECT_EQ(pick.deployment->name, "gpu2");
    pick.deployment->state->release();
  }
  EXPECT_EQ(f.spread(router, 3).size(), 3u);  // first attempts still use all three
}

TEST(Router, FullTierWaitsUnlessOverflowIsAllowed) {
  Fixture f(2, Strategy::round_robin, {}, {0, 1}, 1);
  Router router(*f.table, 1);
  const auto first = router.pick(*f.route, {}, false);
  ASSERT_NE(first.deployment, nullptr);
  EXPECT_EQ(first.deployment->name, "gpu0");
  const auto blocked = router.pick(*f.route, {}, false);
  EXPECT_EQ(blocked.deployment, nullptr);
  EXPECT_TRUE(blocked.wait);
  const auto overflow = router.pick(*f.route, {}, true);
  ASSERT_NE(overflow.deployment, nullptr);
  EXPECT_EQ(overflow.deployment->name, "gpu1");
  first.deployment->state->release();
  const auto back = router.pick(*f.route, {}, false);
  ASSERT_NE(back.deployment, nullptr);
  EXPECT_EQ(back.deployment->name, "gpu0");
}

TEST(Router, PowerOfTwoChoicesPrefersTheLessLoaded) {
  Fixture f(2, Strategy::random);
  Router router(*f.table, 7);
  f.route->deployments[1].state->in_flight = 10;
  EXPECT_EQ(f.spread(router, 20), (std::map<std::string, int>{{"gpu0", 20}}));
}

TEST(CircuitBreaker, OpensProbesOnceAndCloses) {
  CircuitConfig config;
  config.failures = 2;
  config.open = std::chrono::milliseconds(100);
  DeploymentState state(config);
  const auto t0 = Clock::now();
  state.failed(t0);
  EXPECT_EQ(state.circuit(), CircuitState::closed);
  state.failed(t0);
  EXPECT_EQ(state.circuit(), CircuitState::open);
  EXPECT_FALSE(state.admit(t0 + std::chrono::milliseconds(50)));
  const auto later = t0 + std::chrono::milliseconds(150);
  EXPECT_TRUE(state.admit(later));   // the probe
  EXPECT_FALSE(state.admit(later));  // only one
  EXPECT_EQ(state.circuit(), CircuitState::half_open);
  state.failed(later);               // probe failed: open for twice as long
  EXPECT_FALSE(state.admit(later + std::chrono::milliseconds(150)));
  EXPECT_TRUE(state.admit(later + std::chrono::milliseconds(250)));
  state.succeeded();
  EXPECT_EQ(state.circuit(), CircuitState::closed);
  EXPECT_TRUE(state.admit(later));
}

TEST(CircuitBreaker, AnAbandonedProbeIsGivenBack) {
  CircuitConfig config;
  config.failures = 1;
  config.open = std::chrono::milliseconds(10);
  DeploymentState state(config);
  const auto t0 = Clock::now();
  state.failed(t0);
  const auto later = t0 + std::chrono::milliseconds(20);
  EXPECT_TRUE(state.admit(later));
  state.abandoned();
  EXPECT_TRUE(state.admit(later));
}

TEST(Capacity, SlotsAreExact) {
  DeploymentState state(CircuitConfig{});
  EXPECT_TRUE(state.try_acquire(2));
  EXPECT_TRUE(state.try_acquire(2));
  EXPECT_FALSE(state.try_acquire(2));
  state.release();
  EXPECT_TRUE(state.try_acquire(2));
  EXPECT_TRUE(state.try_acquire(0));  // no limit
}

TEST(RetryBudget, EarnsAFractionPerRequestAndKeepsAReserve) {
  RetryConfig config;
  config.budget_ratio = 0.2;
  config.budget_min = 2;
  RetryBudget budget(config);
  EXPECT_TRUE(budget.try_spend());
  EXPECT_TRUE(budget.try_spend());
  EXPECT_FALSE(budget.try_spend());
  budget.on_requests(10);
  EXPECT_TRUE(budget.try_spend());
  EXPECT_TRUE(budget.try_spend());
  EXPECT_FALSE(budget.try_spend());
  budget.on_requests(1000);  // capped at the reserve plus ten
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(budget.try_spend()) << i;
  EXPECT_FALSE(budget.try_spend());
}

TEST(AdmissionQueue, PriorityThenArrivalWithAging) {
  asio::io_context io;
  QueueConfig config;
  config.max_size = 3;
  AdmissionQueue queue(config);
  const auto low = queue.join(io.get_executor(), Priority::low);
  const auto normal = queue.join(io.get_executor(), Priority::normal);
  const auto high = queue.join(io.get_executor(), Priority::high);
  ASSERT_TRUE(low && normal && high);
  EXPECT_EQ(queue.join(io.get_executor(), Priority::high), nullptr);  // full
  EXPECT_TRUE(queue.is_head(*high));
  queue.leave(high, {}, true);
  EXPECT_TRUE(queue.is_head(*normal));
  queue.leave(normal, {}, true);
  EXPECT_TRUE(queue.is_head(*low));
  // A low request that waited past the handicap goes before a fresh high one.
  const AdmissionQueue::Ticket aged(io.get_executor(), Priority::low, Clock::now() - std::chrono::seconds(5));
  const AdmissionQueue::Ticket fresh(io.get_executor(), Priority::high, Clock::now());
  EXPECT_LT(aged.place, fresh.place);
  const auto stats = queue.stats();
  EXPECT_EQ(stats[static_cast<int>(Priority::high)].rejected_full, 1u);
  EXPECT_EQ(stats[static_cast<int>(Priority::low)].depth, 1u);
}

TEST(AdmissionQueue, PriorityHeader) {
  EXPECT_EQ(parse_priority("HIGH"), Priority::high);
  EXPECT_EQ(parse_priority("low"), Priority::low);
  EXPECT_EQ(parse_priority(""), Priority::normal);
  EXPECT_EQ(parse_priority("urgent"), Priority::normal);
}

}  // namespace
}  // namespace switchyard

#include "routing/api_key_pool.hpp"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

using Clock = ApiKeyPool::Clock;

UpstreamConfig upstream_with(std::vector<ApiKeyConfig> keys, KeyRotation rotation = KeyRotation::round_robin) {
  UpstreamConfig config;
  config.name = "up";
  config.api_keys = std::move(keys);
  config.key_rotation = rotation;
  return config;
}

TEST(ApiKeyPool, RoundRobinSkipsRestingAndDisabledKeys) {
  const auto config = upstream_with({{"k0", {}}, {"k1", {}}, {"k2", {}}});
  ApiKeyPool pool(config);
  const auto now = Clock::now();
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) {
    const int key = pool.acquire("m", now);
    order.push_back(key);
    pool.release(key);
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  pool.cool_down(1, now + std::chrono::seconds(5));
  pool.disable(2, 401);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(pool.acquire("m", now), 0);
    pool.release(0);
  }
  EXPECT_EQ(pool.acquire("m", now + std::chrono::seconds(6)), 1) << "the rest is over";
  const auto status = pool.status(now);
  EXPECT_EQ(status[1].state, "cooling_down");
  EXPECT_EQ(status[2].state, "disabled");
  EXPECT_EQ(status[2].disabled_status, 401);
}

TEST(ApiKeyPool, LeastUsedAndModelAllowlists) {
  const auto config = upstream_with({{"k0", {"small"}}, {"k1", {}}, {"k2", {}}}, KeyRotation::least_used);
  ApiKeyPool pool(config);
  const auto now = Clock::now();
  EXPECT_EQ(pool.acquire("big", now), 1) << "k0 may serve only `small`";
  EXPECT_EQ(pool.acquire("big", now), 2) << "k1 is busy";
  pool.release(1);
  EXPECT_EQ(pool.acquire("big", now), 1);
  EXPECT_EQ(pool.acquire("small", now), 0);
  pool.disable(1, 403);
  pool.disable(2, 403);
  EXPECT_EQ(pool.acquire("big", now), ApiKeyPool::kNoKey);
  EXPECT_NE(pool.unavailable_reason("big", now).find("2 disabled"), std::string::npos);
  const auto only_small = upstream_with({{"k0", {"small"}}});
  ApiKeyPool restricted(only_small);
  EXPECT_EQ(restricted.acquire("big", now), ApiKeyPool::kNoKey);
  EXPECT_NE(restricted.unavailable_reason("big", now).find("no API key"), std::string::npos);
}

TEST(ApiKeyPool, StatusNeverShowsAKeyWhole) {
  const auto config = upstream_with({{"sk-abcdefghijklmnop", {}}, {"short", {}}});
  ApiKeyPool pool(config);
  const auto status = pool.status(Clock::now());
  EXPECT_EQ(status[0].label, "key 1 (...mnop)");
  EXPECT_EQ(status[1].label, "key 2");
}

}  // namespace
}  // namespace switchyard

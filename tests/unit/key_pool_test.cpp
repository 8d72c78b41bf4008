#include "domain/key_pool.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "util/time.hpp"

using namespace modelgate::core;
using namespace std::chrono_literals;

namespace {

KeyPool::KeySpec spec(int64_t id, const std::string& secret, std::optional<int> limit = 1) {
    KeyPool::KeySpec s;
    s.id = id;
    s.label = "k" + std::to_string(id);
    s.secret = secret;
    s.limit = limit;
    return s;
}

struct PoolFixture : ::testing::Test {
    TimerService timers;
    std::shared_ptr<AsyncSemaphore> sem = AsyncSemaphore::create(8, timers);
    std::shared_ptr<KeyPool> pool = KeyPool::create(timers);
};

}  // namespace

TEST_F(PoolFixture, TheLimiterCarriesWhatTheKeysCarry) {
    pool->configure({spec(1, "a", 2), spec(2, "b", 1)}, false, 8, 0, "", sem);
    EXPECT_EQ(sem->limit(), 3);
    pool->configure({spec(1, "a", 5), spec(2, "b", 5)}, false, 8, 0, "", sem);
    EXPECT_EQ(sem->limit(), 8) << "never above the provider's own limit";
    // A key without a limit of its own takes the provider's.
    pool->configure({spec(1, "a", std::nullopt)}, false, 4, 0, "", sem);
    EXPECT_EQ(sem->limit(), 4);
}

TEST_F(PoolFixture, SpreadsCallsOverTheLeastLoadedKeys) {
    pool->configure({spec(1, "a", 2), spec(2, "b", 2)}, false, 8, 0, "", sem);
    int64_t now = unix_ms_now();
    auto first = pool->acquire(std::nullopt, now, nullptr);
    auto second = pool->acquire(std::nullopt, now, nullptr);
    ASSERT_TRUE(first && second);
    EXPECT_NE(first->key_id, second->key_id);
    auto third = pool->acquire(std::nullopt, now, nullptr);
    auto fourth = pool->acquire(std::nullopt, now, nullptr);
    ASSERT_TRUE(third && fourth);
    KeyPool::Unavailable why;
    EXPECT_FALSE(pool->acquire(std::nullopt, now, &why)) << "every key is at its limit";
    auto states = pool->states();
    EXPECT_EQ(states[1].in_use, 2);
    EXPECT_EQ(states[2].in_use, 2);
    for (const auto& lease : {*first, *second, *third, *fourth})
        pool->release(lease);
    EXPECT_EQ(pool->states()[1].in_use, 0);
}

TEST_F(PoolFixture, AGatewayKeyStaysOnItsUpstreamKey) {
    pool->configure({spec(1, "a", 4), spec(2, "b", 4), spec(3, "c", 4)}, false, 12, 0, "", sem);
    int64_t now = unix_ms_now();
    auto first = pool->acquire(42, now, nullptr);
    ASSERT_TRUE(first);
    pool->release(*first);
    for (int i = 0; i < 10; ++i) {
        auto again = pool->acquire(42, now + i * 1000, nullptr);
        ASSERT_TRUE(again);
        EXPECT_EQ(again->key_id, first->key_id);
        EXPECT_EQ(again->secret, first->secret);
        pool->release(*again);
    }
    // Other gateway keys spread over the others.
    std::set<int64_t> used;
    for (int64_t gk = 100; gk < 106; ++gk) {
        auto l = pool->acquire(gk, now, nullptr);
        ASSERT_TRUE(l);
        used.insert(l->key_id);
        pool->release(*l);
    }
    EXPECT_EQ(used.size(), 3u);
}

TEST_F(PoolFixture, AStickyKeyAtItsLimitGivesWayToAnother) {
    pool->configure({spec(1, "a", 1), spec(2, "b", 1)}, false, 8, 0, "", sem);
    int64_t now = unix_ms_now();
    auto first = pool->acquire(7, now, nullptr);
    auto second = pool->acquire(7, now, nullptr);
    ASSERT_TRUE(first && second);
    EXPECT_NE(first->key_id, second->key_id);
    pool->release(*first);
    pool->release(*second);
}

TEST_F(PoolFixture, APausedKeyIsSkippedAndComesBackByItself) {
    pool->configure({spec(1, "a", 2), spec(2, "b", 2)}, false, 8, 0, "", sem);
    std::vector<std::tuple<int64_t, int64_t, std::string>> heard;
    pool->set_pause_listener([&](int64_t id, int64_t until, const std::string& reason) {
        heard.emplace_back(id, until, reason);
    });
    int64_t now = unix_ms_now();
    auto lease = pool->acquire(1, now, nullptr);
    ASSERT_TRUE(lease);
    int64_t paused_id = lease->key_id;
    pool->pause(*lease, now + 300, "rate limited");
    pool->release(*lease);
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(std::get<0>(heard[0]), paused_id);
    EXPECT_EQ(std::get<2>(heard[0]), "rate limited");
    EXPECT_EQ(sem->limit(), 2) << "only the other key's slots remain";
    for (int i = 0; i < 4; ++i) {
        auto l = pool->acquire(1, unix_ms_now(), nullptr);
        ASSERT_TRUE(l);
        EXPECT_NE(l->key_id, paused_id);
        pool->release(*l);
    }
    // The same limit reported by other calls still running on the key is no news.
    pool->pause(*lease, now + 200, "echo");
    pool->pause(*lease, now + 1000, "echo");
    EXPECT_EQ(heard.size(), 1u);
    // The timer raises the limit again when the pause ends.
    std::this_thread::sleep_for(1200ms);
    EXPECT_EQ(sem->limit(), 4);
    EXPECT_FALSE(pool->unavailable(unix_ms_now()));
}

TEST_F(PoolFixture, AllKeysPausedMeansRetryAfterTheEarliestReset) {
    pool->configure({spec(1, "a"), spec(2, "b")}, false, 8, 0, "", sem);
    int64_t now = unix_ms_now();
    auto a = pool->acquire(std::nullopt, now, nullptr);
    auto b = pool->acquire(std::nullopt, now, nullptr);
    ASSERT_TRUE(a && b);
    pool->pause(*a, now + 60000, "quota exhausted");
    pool->pause(*b, now + 20000, "rate limited");
    pool->release(*a);
    pool->release(*b);
    auto why = pool->unavailable(now);
    ASSERT_TRUE(why);
    EXPECT_EQ(why->retry_after_ms, 20000);
    EXPECT_EQ(why->reason, "rate limited");
    KeyPool::Unavailable at_acquire;
    EXPECT_FALSE(pool->acquire(std::nullopt, now, &at_acquire));
    EXPECT_EQ(at_acquire.retry_after_ms, 20000);
    // Waiting calls are let through to fail fast rather than sit out their queue time.
    EXPECT_EQ(sem->limit(), 8);
    // The admin lifts one pause.
    pool->clear_pause(2);
    EXPECT_FALSE(pool->unavailable(now));
    EXPECT_EQ(sem->limit(), 1);
}

TEST_F(PoolFixture, AKeylessProviderPausesAsAWhole) {
    pool->configure({}, true, 3, 0, "", sem);
    EXPECT_TRUE(pool->keyless());
    EXPECT_EQ(sem->limit(), 3);
    int64_t now = unix_ms_now();
    auto lease = pool->acquire(std::nullopt, now, nullptr);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->key_id, 0);
    EXPECT_EQ(lease->secret, "");
    pool->pause(*lease, now + 5000, "rate limited");
    pool->release(*lease);
    ASSERT_TRUE(pool->unavailable(now));
    // A pause stored in the database survives a reload...
    pool->configure({}, true, 3, now + 5000, "rate limited", sem);
    EXPECT_TRUE(pool->unavailable(now));
    // ...and an expired one is gone.
    pool->configure({}, true, 3, now - 1, "old", sem);
    EXPECT_FALSE(pool->unavailable(now + 6000));
}

TEST_F(PoolFixture, KeysSwitchedOffLeaveNothingToUse) {
    pool->configure({}, false, 3, 0, "", sem);
    EXPECT_FALSE(pool->keyless());
    auto why = pool->unavailable(unix_ms_now());
    ASSERT_TRUE(why);
    EXPECT_EQ(why->retry_after_ms, 0) << "not a matter of time";
    EXPECT_FALSE(pool->any_secret(unix_ms_now()));
}

TEST_F(PoolFixture, AReloadKeepsInUseCountsAndNewSecrets) {
    pool->configure({spec(1, "old", 2)}, false, 8, 0, "", sem);
    auto lease = pool->acquire(std::nullopt, unix_ms_now(), nullptr);
    ASSERT_TRUE(lease);
    pool->configure({spec(1, "new", 2)}, false, 8, 0, "", sem);
    EXPECT_EQ(pool->states()[1].in_use, 1);
    EXPECT_EQ(lease->secret, "old") << "a running call keeps the secret it started with";
    EXPECT_EQ(pool->any_secret(unix_ms_now()), "new");
    pool->release(*lease);
    EXPECT_EQ(pool->states()[1].in_use, 0);
}

#include "domain/key_pool.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "util/time.hpp"

using namespace modelgate::core;
using namespace std::chrono_literals;
using Scope = KeyPool::Scope;

namespace {

KeyPool::KeySpec spec(int64_t id, const std::string& secret, std::optional<int> limit = 1) {
    KeyPool::KeySpec s;
    s.id = id;
    s.label = "k" + std::to_string(id);
    s.secret = secret;
    s.limit = limit;
    return s;
}

KeyPool::KeySpec stored(int64_t until_ms, const std::string& reason) {
    KeyPool::KeySpec s;
    s.pause.until_ms = until_ms;
    s.pause.reason = reason;
    return s;
}

struct PoolFixture : ::testing::Test {
    TimerService timers;
    std::shared_ptr<AsyncSemaphore> sem = AsyncSemaphore::create(8, timers);
    std::shared_ptr<KeyPool> pool = KeyPool::create(timers);

    std::optional<KeyPool::Lease> take(std::optional<int64_t> gateway_key = std::nullopt,
                                       const std::string& model = "m", int64_t now = unix_ms_now(),
                                       KeyPool::Unavailable* why = nullptr) {
        return pool->acquire(gateway_key, model, now, why);
    }
};

}  // namespace

TEST_F(PoolFixture, TheLimiterCarriesWhatTheKeysCarry) {
    pool->configure({spec(1, "a", 2), spec(2, "b", 1)}, false, 8, {}, sem);
    EXPECT_EQ(sem->limit(), 3);
    pool->configure({spec(1, "a", 5), spec(2, "b", 5)}, false, 8, {}, sem);
    EXPECT_EQ(sem->limit(), 8) << "never above the provider's own limit";
    // A key without a limit of its own takes the provider's.
    pool->configure({spec(1, "a", std::nullopt)}, false, 4, {}, sem);
    EXPECT_EQ(sem->limit(), 4);
}

TEST_F(PoolFixture, SpreadsCallsOverTheLeastLoadedKeys) {
    pool->configure({spec(1, "a", 2), spec(2, "b", 2)}, false, 8, {}, sem);
    auto first = take();
    auto second = take();
    ASSERT_TRUE(first && second);
    EXPECT_NE(first->key_id, second->key_id);
    auto third = take();
    auto fourth = take();
    ASSERT_TRUE(third && fourth);
    KeyPool::Unavailable why;
    EXPECT_FALSE(take(std::nullopt, "m", unix_ms_now(), &why)) << "every key is at its limit";
    auto states = pool->states();
    EXPECT_EQ(states[1].in_use, 2);
    EXPECT_EQ(states[2].in_use, 2);
    for (const auto& lease : {*first, *second, *third, *fourth})
        pool->release(lease);
    EXPECT_EQ(pool->states()[1].in_use, 0);
}

TEST_F(PoolFixture, AGatewayKeyStaysOnItsUpstreamKey) {
    pool->configure({spec(1, "a", 4), spec(2, "b", 4), spec(3, "c", 4)}, false, 12, {}, sem);
    int64_t now = unix_ms_now();
    auto first = take(42, "m", now);
    ASSERT_TRUE(first);
    pool->release(*first);
    for (int i = 0; i < 10; ++i) {
        auto again = take(42, "m", now + i * 1000);
        ASSERT_TRUE(again);
        EXPECT_EQ(again->key_id, first->key_id);
        EXPECT_EQ(again->secret, first->secret);
        pool->release(*again);
    }
    // Other gateway keys spread over the others.
    std::set<int64_t> used;
    for (int64_t gk = 100; gk < 106; ++gk) {
        auto l = take(gk, "m", now);
        ASSERT_TRUE(l);
        used.insert(l->key_id);
        pool->release(*l);
    }
    EXPECT_EQ(used.size(), 3u);
}

TEST_F(PoolFixture, AStickyKeyAtItsLimitGivesWayToAnother) {
    pool->configure({spec(1, "a", 1), spec(2, "b", 1)}, false, 8, {}, sem);
    auto first = take(7);
    auto second = take(7);
    ASSERT_TRUE(first && second);
    EXPECT_NE(first->key_id, second->key_id);
    pool->release(*first);
    pool->release(*second);
}

TEST_F(PoolFixture, ARetryNeverGetsTheKeyThatRefused) {
    pool->configure({spec(1, "a", 4), spec(2, "b", 4)}, false, 8, {}, sem);
    auto first = take(9);
    ASSERT_TRUE(first);
    auto other = pool->acquire(9, "m", unix_ms_now(), nullptr, first->key_id);
    ASSERT_TRUE(other);
    EXPECT_NE(other->key_id, first->key_id);
    pool->release(*first);
    pool->release(*other);
    pool->configure({spec(1, "a", 4)}, false, 8, {}, sem);
    auto only = take();
    ASSERT_TRUE(only);
    EXPECT_FALSE(pool->acquire(std::nullopt, "m", unix_ms_now(), nullptr, only->key_id))
        << "no other key to go to";
    pool->release(*only);
}

TEST_F(PoolFixture, AKeyPauseSkipsTheKeyAndEndsByItself) {
    pool->configure({spec(1, "a", 2), spec(2, "b", 2)}, false, 8, {}, sem);
    std::vector<std::tuple<int64_t, std::string, int64_t, std::string>> heard;
    pool->set_pause_listener([&](int64_t id, const std::string& model, const KeyPool::Pause& p) {
        heard.emplace_back(id, model, p.until_ms, p.reason);
    });
    int64_t now = unix_ms_now();
    auto lease = take(1, "m", now);
    ASSERT_TRUE(lease);
    int64_t paused_id = lease->key_id;
    pool->pause(*lease, Scope::key, now + 300, 5000, "quota exhausted");
    pool->release(*lease);
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(std::get<0>(heard[0]), paused_id);
    EXPECT_EQ(std::get<1>(heard[0]), "") << "the whole key";
    EXPECT_EQ(std::get<3>(heard[0]), "quota exhausted");
    EXPECT_EQ(sem->limit(), 2) << "only the other key's slots remain";
    for (const char* model : {"m", "other-model"}) {
        auto l = take(1, model);
        ASSERT_TRUE(l);
        EXPECT_NE(l->key_id, paused_id) << model;
        pool->release(*l);
    }
    // The same refusal reported by other calls still running on the key is no news.
    pool->pause(*lease, Scope::key, now + 200, 5000, "echo");
    pool->pause(*lease, Scope::key, now + 1000, 5000, "echo");
    EXPECT_EQ(heard.size(), 1u);
    // The timer raises the limit again when the pause ends.
    std::this_thread::sleep_for(1200ms);
    EXPECT_EQ(sem->limit(), 4);
    EXPECT_FALSE(pool->unavailable(unix_ms_now(), "m"));
}

TEST_F(PoolFixture, AModelPauseLeavesOtherModelsOnTheKey) {
    pool->configure({spec(1, "a", 4)}, false, 8, {}, sem);
    int64_t now = unix_ms_now();
    auto lease = take(std::nullopt, "model-a", now);
    ASSERT_TRUE(lease);
    int64_t until = pool->pause(*lease, Scope::model, 0, 5000, "rate limited");
    pool->release(*lease);
    EXPECT_NEAR(static_cast<double>(until - now), 5000.0, 200.0) << "the base length, no hint";
    EXPECT_EQ(sem->limit(), 4) << "a model pause leaves the key's slots to other models";
    auto why = pool->unavailable(unix_ms_now(), "model-a");
    ASSERT_TRUE(why);
    EXPECT_GT(why->retry_after_ms, 4000);
    EXPECT_EQ(why->reason, "rate limited");
    EXPECT_FALSE(pool->unavailable(unix_ms_now(), "model-b"));
    auto b = take(std::nullopt, "model-b");
    ASSERT_TRUE(b);
    pool->release(*b);
    auto state = pool->states()[1];
    EXPECT_EQ(state.paused_until_ms, 0) << "the key itself is not paused";
    ASSERT_EQ(state.pauses.size(), 1u);
    EXPECT_EQ(state.pauses[0].model, "model-a");
    EXPECT_EQ(state.pauses[0].strikes, 1);
}

TEST_F(PoolFixture, TheFirstCallAfterAPauseProbesAndARefusedProbeDoublesIt) {
    pool->configure({spec(1, "a", 4)}, false, 8, {}, sem);
    std::vector<KeyPool::Pause> heard;
    pool->set_pause_listener(
        [&](int64_t, const std::string&, const KeyPool::Pause& p) { heard.push_back(p); });
    auto first = take();
    ASSERT_TRUE(first);
    pool->pause(*first, Scope::model, unix_ms_now() + 200, 5000, "rate limited");
    pool->release(*first);
    std::this_thread::sleep_for(300ms);
    // Over: one call may go and find out; the others keep off meanwhile.
    auto probe = take();
    ASSERT_TRUE(probe);
    EXPECT_TRUE(probe->probing_model);
    KeyPool::Unavailable why;
    EXPECT_FALSE(take(std::nullopt, "m", unix_ms_now(), &why)) << "a probe is in flight";
    EXPECT_GT(why.retry_after_ms, 0);
    auto other_model = take(std::nullopt, "n");
    ASSERT_TRUE(other_model) << "other models are not held back";
    pool->release(*other_model);
    // Refused again: twice as long as before (about 400 ms), strike two.
    int64_t now = unix_ms_now();
    int64_t until = pool->pause(*probe, Scope::model, 0, 5000, "rate limited again");
    pool->release(*probe);
    EXPECT_NEAR(static_cast<double>(until - now), 400.0, 50.0);
    EXPECT_EQ(pool->states()[1].pauses.at(0).strikes, 2);
    std::this_thread::sleep_for(500ms);
    // The next probe succeeds: the cool-down is over, for good.
    auto second_probe = take();
    ASSERT_TRUE(second_probe);
    EXPECT_TRUE(second_probe->probing_model);
    pool->succeeded(*second_probe);
    pool->release(*second_probe);
    EXPECT_TRUE(pool->states()[1].pauses.empty());
    ASSERT_FALSE(heard.empty());
    EXPECT_EQ(heard.back().until_ms, 0) << "the end is announced (to persist it)";
    auto normal = take();
    ASSERT_TRUE(normal);
    EXPECT_FALSE(normal->probing_model);
    pool->release(*normal);
}

TEST_F(PoolFixture, BackOffIsCappedAtAWeek) {
    pool->configure({spec(1, "a", 4)}, false, 8, {}, sem);
    auto lease = take();
    ASSERT_TRUE(lease);
    int64_t now = unix_ms_now();
    int64_t until =
        pool->pause(*lease, Scope::key, now + 30LL * 24 * 3600 * 1000, 5000, "resets next month");
    pool->release(*lease);
    EXPECT_LE(until - now, KeyPool::kLongestPauseMs + 10);
}

TEST_F(PoolFixture, AllKeysPausedMeansRetryAfterTheEarliestReset) {
    pool->configure({spec(1, "a"), spec(2, "b")}, false, 8, {}, sem);
    int64_t now = unix_ms_now();
    auto a = take(std::nullopt, "m", now);
    auto b = take(std::nullopt, "m", now);
    ASSERT_TRUE(a && b);
    pool->pause(*a, Scope::key, now + 60000, 5000, "quota exhausted");
    pool->pause(*b, Scope::key, now + 20000, 5000, "rate limited");
    pool->release(*a);
    pool->release(*b);
    auto why = pool->unavailable(now, "m");
    ASSERT_TRUE(why);
    EXPECT_NEAR(static_cast<double>(why->retry_after_ms), 20000.0, 100.0);
    EXPECT_EQ(why->reason, "rate limited");
    KeyPool::Unavailable at_acquire;
    EXPECT_FALSE(take(std::nullopt, "m", now, &at_acquire));
    EXPECT_NEAR(static_cast<double>(at_acquire.retry_after_ms), 20000.0, 100.0);
    // Waiting calls are let through to fail fast rather than sit out their queue time.
    EXPECT_EQ(sem->limit(), 8);
    // The admin lifts one key's pauses.
    pool->clear_pause(2);
    EXPECT_FALSE(pool->unavailable(now, "m"));
    EXPECT_EQ(sem->limit(), 1);
}

TEST_F(PoolFixture, AKeylessProviderPausesAsAWhole) {
    pool->configure({}, true, 3, {}, sem);
    EXPECT_TRUE(pool->keyless());
    EXPECT_EQ(sem->limit(), 3);
    int64_t now = unix_ms_now();
    auto lease = take(std::nullopt, "m", now);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->key_id, 0);
    EXPECT_EQ(lease->secret, "");
    pool->pause(*lease, Scope::key, now + 5000, 5000, "quota exhausted");
    pool->release(*lease);
    ASSERT_TRUE(pool->unavailable(now, "m"));
    // A pause stored in the database survives a reload...
    pool->configure({}, true, 3, stored(now + 5000, "quota exhausted"), sem);
    EXPECT_TRUE(pool->unavailable(now, "m"));
    // ...and one the database no longer has, once over, is gone.
    pool->configure({}, true, 3, stored(0, ""), sem);
    EXPECT_FALSE(pool->unavailable(now + 6000, "m"));
}

TEST_F(PoolFixture, AModelPauseStoredByAnotherInstanceIsHonoured) {
    auto s = spec(1, "a", 4);
    KeyPool::Pause p;
    p.until_ms = unix_ms_now() + 60000;
    p.reason = "rate limited";
    p.strikes = 2;
    p.length_ms = 60000;
    s.models["m"] = p;
    pool->configure({s}, false, 8, {}, sem);
    EXPECT_TRUE(pool->unavailable(unix_ms_now(), "m"));
    EXPECT_FALSE(pool->unavailable(unix_ms_now(), "n"));
    EXPECT_EQ(pool->states()[1].pauses.at(0).strikes, 2);
    // Cleared in the database (a success elsewhere, or the admin): gone here too once over.
    pool->configure({spec(1, "a", 4)}, false, 8, {}, sem);
    EXPECT_TRUE(pool->unavailable(unix_ms_now(), "m")) << "still running here";
    pool->clear_pause(1);
    EXPECT_FALSE(pool->unavailable(unix_ms_now(), "m"));
}

TEST_F(PoolFixture, KeysSwitchedOffLeaveNothingToUse) {
    pool->configure({}, false, 3, {}, sem);
    EXPECT_FALSE(pool->keyless());
    auto why = pool->unavailable(unix_ms_now(), "m");
    ASSERT_TRUE(why);
    EXPECT_EQ(why->retry_after_ms, 0) << "not a matter of time";
    EXPECT_FALSE(pool->any_secret(unix_ms_now()));
}

TEST_F(PoolFixture, AReloadKeepsInUseCountsAndNewSecrets) {
    pool->configure({spec(1, "old", 2)}, false, 8, {}, sem);
    auto lease = take();
    ASSERT_TRUE(lease);
    pool->configure({spec(1, "new", 2)}, false, 8, {}, sem);
    EXPECT_EQ(pool->states()[1].in_use, 1);
    EXPECT_EQ(lease->secret, "old") << "a running call keeps the secret it started with";
    EXPECT_EQ(pool->any_secret(unix_ms_now()), "new");
    pool->release(*lease);
    EXPECT_EQ(pool->states()[1].in_use, 0);
}

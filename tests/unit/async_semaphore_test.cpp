#include "limits/async_semaphore.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

using namespace modelgate::core;
using namespace std::chrono_literals;

TEST(AsyncSemaphore, GrantsUpToTheLimitAndQueuesFifo) {
    TimerService timers;
    auto sem = AsyncSemaphore::create(2, timers);
    std::vector<Permit> held;
    std::vector<int> order;
    std::mutex mu;
    for (int i = 0; i < 5; ++i) {
        sem->acquire(
            10s,
            [&, i](Permit p) {
                std::lock_guard l(mu);
                order.push_back(i);
                held.push_back(std::move(p));
            },
            [] { FAIL() << "no timeout expected"; });
    }
    EXPECT_EQ(sem->in_use(), 2);
    EXPECT_EQ(sem->waiting(), 3);
    EXPECT_EQ(order, (std::vector<int>{0, 1}));
    // Release one at a time: waiters are served in arrival order.
    for (int expected = 2; expected < 5; ++expected) {
        Permit p;
        {
            std::lock_guard l(mu);
            p = std::move(held.front());
            held.erase(held.begin());
        }
        p.release();
        std::lock_guard l(mu);
        EXPECT_EQ(order.back(), expected);
    }
    {
        std::lock_guard l(mu);
        held.clear();
    }
    EXPECT_EQ(sem->in_use(), 0);
    EXPECT_EQ(sem->waiting(), 0);
}

TEST(AsyncSemaphore, TimesOutWaitersAndSkipsThem) {
    TimerService timers;
    auto sem = AsyncSemaphore::create(1, timers);
    Permit first;
    sem->acquire(
        1s, [&](Permit p) { first = std::move(p); }, [] {});
    std::atomic<bool> timed_out{false}, granted{false};
    sem->acquire(
        50ms, [&](Permit) { granted = true; }, [&] { timed_out = true; });
    for (int i = 0; i < 100 && !timed_out; ++i)
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(sem->waiting(), 0);
    first.release();
    EXPECT_FALSE(granted);
    EXPECT_EQ(sem->in_use(), 0);
}

TEST(AsyncSemaphore, CancelledWaitersNeverRun) {
    TimerService timers;
    auto sem = AsyncSemaphore::create(1, timers);
    Permit first;
    sem->acquire(
        1s, [&](Permit p) { first = std::move(p); }, [] {});
    bool ran = false;
    auto w = sem->acquire(
        1s, [&](Permit) { ran = true; }, [&] { ran = true; });
    EXPECT_TRUE(sem->cancel(w));
    EXPECT_FALSE(sem->cancel(w));
    first.release();
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(ran);
    EXPECT_EQ(sem->in_use(), 0);
}

TEST(AsyncSemaphore, PermitsReleaseExactlyOnce) {
    TimerService timers;
    auto sem = AsyncSemaphore::create(1, timers);
    Permit p;
    sem->acquire(
        1s, [&](Permit g) { p = std::move(g); }, [] {});
    Permit moved = std::move(p);
    p.release();  // moved-from: nothing
    EXPECT_EQ(sem->in_use(), 1);
    moved.release();
    moved.release();
    EXPECT_EQ(sem->in_use(), 0);
}

TEST(AsyncSemaphore, RaisingTheLimitWakesWaiters) {
    TimerService timers;
    auto sem = AsyncSemaphore::create(1, timers);
    std::vector<Permit> held;
    for (int i = 0; i < 3; ++i)
        sem->acquire(
            10s, [&](Permit p) { held.push_back(std::move(p)); }, [] {});
    EXPECT_EQ(held.size(), 1u);
    sem->set_limit(3);
    EXPECT_EQ(held.size(), 3u);
    sem->set_limit(1);  // lowering never revokes held permits
    EXPECT_EQ(sem->in_use(), 3);
    held.clear();
    EXPECT_EQ(sem->in_use(), 0);
}

TEST(AsyncSemaphore, NeverExceedsTheLimitUnderContention) {
    TimerService timers;
    auto sem = AsyncSemaphore::create(3, timers);
    std::atomic<int> running{0}, peak{0}, done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                std::promise<void> finished;
                sem->acquire(
                    10s,
                    [&](Permit p) {
                        int now = ++running;
                        int prev = peak.load();
                        while (now > prev && !peak.compare_exchange_weak(prev, now)) {
                        }
                        --running;
                        p.release();
                        ++done;
                        finished.set_value();
                    },
                    [&] { finished.set_value(); });
                finished.get_future().wait();
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(done.load(), 1600);
    EXPECT_LE(peak.load(), 3);
    EXPECT_EQ(sem->in_use(), 0);
}

TEST(AsyncSemaphore, GrantsThatEndAtOnceDoNotRecurse) {
    // Every waiter gives its permit straight back (a call that fails as soon as
    // it gets its slot): 200,000 nested grants would overflow the stack if each
    // release granted the next waiter recursively.
    TimerService timers;
    auto sem = AsyncSemaphore::create(1, timers);
    Permit first;
    sem->acquire(
        10s, [&](Permit p) { first = std::move(p); }, [] {});
    int granted = 0;
    for (int i = 0; i < 200000; ++i) {
        sem->acquire(
            60s,
            [&](Permit p) {
                ++granted;
                p.release();
            },
            [] {});
    }
    EXPECT_EQ(sem->waiting(), 200000);
    first.release();
    EXPECT_EQ(granted, 200000);
    EXPECT_EQ(sem->in_use(), 0);
    EXPECT_EQ(sem->waiting(), 0);
}

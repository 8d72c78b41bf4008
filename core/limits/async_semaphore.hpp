// An asynchronous counting semaphore: a waiter is a callback, not a thread.
// Waiters are served FIFO; each has a deadline after which it is told it timed
// out; a waiter can be withdrawn (client gone). Permits are RAII objects, so a
// slot is released on every exit path, exactly once. The limit can change at
// run time: a lower limit takes effect as permits come back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "util/timer_service.hpp"

namespace modelgate::core {

class AsyncSemaphore;

class Permit {
  public:
    Permit() = default;
    explicit Permit(std::shared_ptr<AsyncSemaphore> sem) : sem_(std::move(sem)) {}
    Permit(Permit&& other) noexcept : sem_(std::move(other.sem_)) {}
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { release(); }

    void release();
    bool held() const { return sem_ != nullptr; }

  private:
    std::shared_ptr<AsyncSemaphore> sem_;
};

class AsyncSemaphore : public std::enable_shared_from_this<AsyncSemaphore> {
  public:
    struct Waiter;
    using WaiterRef = std::shared_ptr<Waiter>;
    using GrantFn = std::function<void(Permit)>;
    using TimeoutFn = std::function<void()>;

    static std::shared_ptr<AsyncSemaphore> create(int limit, TimerService& timers) {
        return std::shared_ptr<AsyncSemaphore>(new AsyncSemaphore(limit, timers));
    }

    // Grants now (calling on_grant before returning) or queues the waiter. Exactly
    // one of on_grant / on_timeout is called, unless cancel() wins first.
    WaiterRef acquire(std::chrono::milliseconds timeout, GrantFn on_grant, TimeoutFn on_timeout);
    // Withdraws a queued waiter; true when it was still waiting.
    bool cancel(const WaiterRef& waiter);
    void set_limit(int limit);

    int limit() const { return limit_.load(); }
    int in_use() const { return in_use_.load(); }
    int waiting() const;

  private:
    friend class Permit;
    AsyncSemaphore(int limit, TimerService& timers)
        : timers_(timers), limit_(limit < 1 ? 1 : limit) {}
    void release_one();
    void run_grants(std::deque<WaiterRef> granted);
    void on_deadline(const WaiterRef& waiter);
    // Pops the waiters that can run now; call with mu_ held.
    std::deque<WaiterRef> take_grantable_locked();

    TimerService& timers_;
    mutable std::mutex mu_;
    std::deque<WaiterRef> queue_;
    std::atomic<int> limit_;
    std::atomic<int> in_use_{0};
};

struct AsyncSemaphore::Waiter {
    enum class State { waiting, granted, timed_out, cancelled };
    State state = State::waiting;
    std::atomic<TimerService::Id> timer{0};
    AsyncSemaphore::GrantFn on_grant;
    AsyncSemaphore::TimeoutFn on_timeout;
};

}  // namespace modelgate::core

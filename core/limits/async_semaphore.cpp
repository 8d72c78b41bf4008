#include "limits/async_semaphore.hpp"

#include <algorithm>

#include "util/log.hpp"

namespace modelgate::core {

Permit& Permit::operator=(Permit&& other) noexcept {
    if (this != &other) {
        release();
        sem_ = std::move(other.sem_);
    }
    return *this;
}

void Permit::release() {
    if (sem_) {
        auto sem = std::move(sem_);
        sem_.reset();
        sem->release_one();
    }
}

int AsyncSemaphore::waiting() const {
    std::lock_guard lock(mu_);
    return static_cast<int>(queue_.size());
}

std::deque<AsyncSemaphore::WaiterRef> AsyncSemaphore::take_grantable_locked() {
    std::deque<WaiterRef> granted;
    while (!queue_.empty() && in_use_.load() < limit_.load()) {
        WaiterRef w = std::move(queue_.front());
        queue_.pop_front();
        if (w->state != Waiter::State::waiting) continue;
        w->state = Waiter::State::granted;
        in_use_.fetch_add(1);
        granted.push_back(std::move(w));
    }
    return granted;
}

AsyncSemaphore::WaiterRef AsyncSemaphore::acquire(std::chrono::milliseconds timeout,
                                                  GrantFn on_grant, TimeoutFn on_timeout) {
    auto w = std::make_shared<Waiter>();
    w->on_grant = std::move(on_grant);
    w->on_timeout = std::move(on_timeout);
    {
        std::unique_lock lock(mu_);
        if (queue_.empty() && in_use_.load() < limit_.load()) {
            in_use_.fetch_add(1);
            w->state = Waiter::State::granted;
            lock.unlock();
            auto fn = std::move(w->on_grant);
            w->on_timeout = nullptr;
            fn(Permit(shared_from_this()));
            return w;
        }
        queue_.push_back(w);
    }
    std::weak_ptr<AsyncSemaphore> weak = weak_from_this();
    std::weak_ptr<Waiter> weak_w = w;
    TimerService::Id id = timers_.schedule_after(timeout, [weak, weak_w] {
        auto self = weak.lock();
        auto waiter = weak_w.lock();
        if (self && waiter) self->on_deadline(waiter);
    });
    {
        std::lock_guard lock(mu_);
        w->timer = id;
    }
    return w;
}

void AsyncSemaphore::on_deadline(const WaiterRef& waiter) {
    // The callbacks may own the waiting call: keep them alive until after the
    // timeout callback ran, and destroy them outside the lock.
    TimeoutFn fn;
    GrantFn grant;
    {
        std::lock_guard lock(mu_);
        if (waiter->state != Waiter::State::waiting) return;
        waiter->state = Waiter::State::timed_out;
        queue_.erase(std::remove(queue_.begin(), queue_.end(), waiter), queue_.end());
        fn = std::move(waiter->on_timeout);
        grant = std::move(waiter->on_grant);
    }
    if (fn) fn();
}

bool AsyncSemaphore::cancel(const WaiterRef& waiter) {
    TimerService::Id timer = 0;
    GrantFn grant;
    TimeoutFn timeout;
    {
        std::lock_guard lock(mu_);
        if (!waiter || waiter->state != Waiter::State::waiting) return false;
        waiter->state = Waiter::State::cancelled;
        queue_.erase(std::remove(queue_.begin(), queue_.end(), waiter), queue_.end());
        timer = waiter->timer;
        grant = std::move(waiter->on_grant);
        timeout = std::move(waiter->on_timeout);
    }
    if (timer != 0) timers_.cancel(timer);
    return true;
}

void AsyncSemaphore::run_grants(std::deque<WaiterRef> granted) {
    // A grant callback may end its call at once and release the permit, which
    // grants the next waiter, and so on: run those nested grants from the
    // outermost loop on this thread instead of recursing once per waiter.
    using Grant = std::pair<std::shared_ptr<AsyncSemaphore>, WaiterRef>;
    thread_local std::deque<Grant>* pending = nullptr;
    auto self = shared_from_this();
    if (pending != nullptr) {
        for (auto& w : granted)
            pending->emplace_back(self, std::move(w));
        return;
    }
    std::deque<Grant> local;
    for (auto& w : granted)
        local.emplace_back(self, std::move(w));
    pending = &local;
    while (!local.empty()) {
        auto [sem, w] = std::move(local.front());
        local.pop_front();
        if (w->timer != 0) sem->timers_.cancel(w->timer);
        auto fn = std::move(w->on_grant);
        w->on_timeout = nullptr;
        try {
            if (fn) fn(Permit(sem));
        } catch (...) {
            // The permit went back while unwinding; the other grants still run.
            MG_ERROR("limits", "a concurrency-slot callback threw");
        }
    }
    pending = nullptr;
}

void AsyncSemaphore::release_one() {
    std::deque<WaiterRef> granted;
    {
        std::lock_guard lock(mu_);
        in_use_.fetch_sub(1);
        granted = take_grantable_locked();
    }
    run_grants(std::move(granted));
}

void AsyncSemaphore::set_limit(int limit) {
    limit_.store(limit < 1 ? 1 : limit);
    std::deque<WaiterRef> granted;
    {
        std::lock_guard lock(mu_);
        granted = take_grantable_locked();
    }
    run_grants(std::move(granted));
}

}  // namespace modelgate::core

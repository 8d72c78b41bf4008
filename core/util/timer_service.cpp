#include "util/timer_service.hpp"

#include <exception>

#include "util/log.hpp"

namespace modelgate::core {

TimerService::TimerService() : thread_([this] { run(); }) {}

TimerService::~TimerService() {
    stop();
}

TimerService::Id TimerService::schedule(Clock::time_point when, std::function<void()> fn) {
    std::lock_guard lock(mu_);
    Id id = next_id_++;
    auto it = timers_.emplace(when, std::make_pair(id, std::move(fn)));
    index_.emplace(id, it);
    if (it == timers_.begin()) cv_.notify_one();
    return id;
}

bool TimerService::cancel(Id id) {
    std::lock_guard lock(mu_);
    auto it = index_.find(id);
    if (it == index_.end()) return false;
    timers_.erase(it->second);
    index_.erase(it);
    return true;
}

void TimerService::stop() {
    {
        std::lock_guard lock(mu_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void TimerService::run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        if (timers_.empty()) {
            cv_.wait(lock);
            continue;
        }
        auto first = timers_.begin();
        if (first->first > Clock::now()) {
            // A copy: the node may be erased (cancel) while we wait unlocked.
            const Clock::time_point when = first->first;
            cv_.wait_until(lock, when);
            continue;
        }
        auto fn = std::move(first->second.second);
        index_.erase(first->second.first);
        timers_.erase(first);
        lock.unlock();
        try {
            fn();
        } catch (const std::exception& e) {
            MG_ERROR("timer", "timer callback threw: " << e.what());
        } catch (...) {
            MG_ERROR("timer", "timer callback threw an unknown exception");
        }
        lock.lock();
    }
}

}  // namespace modelgate::core

#include "app/health.hpp"

#include "util/log.hpp"
#include "util/time.hpp"

namespace modelgate::core {

void HealthMonitor::start(std::chrono::milliseconds interval) {
    check();
    thread_ = std::thread([this, interval] {
        std::unique_lock lock(mu_);
        while (!cv_.wait_for(lock, interval, [this] { return stopping_; })) {
            lock.unlock();
            check();
            lock.lock();
        }
    });
}

void HealthMonitor::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

HealthMonitor::State HealthMonitor::current() const {
    std::lock_guard lock(mu_);
    return state_;
}

void HealthMonitor::check() {
    State next;
    if (auto problem = db_.file_problem()) {
        next.problem = *problem;
    } else if (!db_.ping()) {
        next.problem = "the database does not answer";
    } else {
        next.database_ok = true;
    }
    next.checked_at_ms = unix_ms_now();
    bool was_ok;
    {
        std::lock_guard lock(mu_);
        was_ok = state_.database_ok || state_.checked_at_ms == 0;
        state_ = next;
    }
    if (was_ok && !next.database_ok) MG_ERROR("health", "unhealthy: " << next.problem);
}

}  // namespace modelgate::core

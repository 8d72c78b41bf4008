#include "features/scheduler.hpp"

#include <algorithm>

#include "util/log.hpp"
#include "util/time.hpp"

namespace modelgate::core {

Scheduler::Scheduler(store::Database& db, ThreadPool& workers, std::string instance_id)
    : db_(db), workers_(workers), instance_id_(std::move(instance_id)) {}

Scheduler::~Scheduler() {
    stop();
}

bool Scheduler::add(const std::string& name, const std::string& owner,
                    std::chrono::seconds interval, JobFn fn, std::chrono::seconds first_delay) {
    std::lock_guard lock(mu_);
    if (std::any_of(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.name == name; }))
        return false;
    jobs_.push_back({name, owner, std::max(interval, std::chrono::seconds(1)), std::move(fn),
                     std::chrono::steady_clock::now() + first_delay, false});
    cv_.notify_all();
    return true;
}

void Scheduler::remove_owner(const std::string& owner) {
    std::lock_guard lock(mu_);
    jobs_.erase(
        std::remove_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.owner == owner; }),
        jobs_.end());
}

void Scheduler::start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void Scheduler::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool Scheduler::acquire_lease(const std::string& name, std::chrono::seconds interval) {
    int64_t now = unix_ms_now();
    std::string now_text = iso8601_utc(now);
    // The lease lasts a little less than the interval so the next run is free to go.
    std::string until = iso8601_utc(now + static_cast<int64_t>(interval.count()) * 900);
    long long affected = 0;
    try {
        db_.with_session([&](soci::session& s) {
            soci::statement st =
                (s.prepare
                     << "INSERT INTO scheduler_leases (name, holder, lease_until, last_run_at) "
                        "VALUES (:n, :h, :u, :now) ON CONFLICT (name) DO UPDATE SET "
                        "holder = excluded.holder, lease_until = excluded.lease_until, "
                        "last_run_at = excluded.last_run_at WHERE scheduler_leases.lease_until < "
                        ":now2",
                 soci::use(name, "n"), soci::use(instance_id_, "h"), soci::use(until, "u"),
                 soci::use(now_text, "now"), soci::use(now_text, "now2"));
            st.execute(true);
            affected = st.get_affected_rows();
        });
    } catch (...) {
        store::database_error("taking a scheduler lease");
        return false;
    }
    return affected > 0;
}

bool Scheduler::run_now(const std::string& name, std::string& summary) {
    JobFn fn;
    {
        std::lock_guard lock(mu_);
        auto it =
            std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.name == name; });
        if (it == jobs_.end()) return false;
        fn = it->fn;
    }
    summary = fn();
    return true;
}

void Scheduler::run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        auto now = std::chrono::steady_clock::now();
        auto next_wake = now + std::chrono::seconds(60);
        for (auto& job : jobs_) {
            if (job.running) continue;
            if (job.next > now) {
                next_wake = std::min(next_wake, job.next);
                continue;
            }
            job.next = now + job.interval;
            next_wake = std::min(next_wake, job.next);
            job.running = true;
            std::string name = job.name;
            JobFn fn = job.fn;
            auto interval = job.interval;
            bool posted = workers_.post([this, name, fn, interval] {
                if (acquire_lease(name, interval)) {
                    auto started = std::chrono::steady_clock::now();
                    try {
                        std::string summary = fn();
                        MG_INFO("scheduler",
                                "job " << name << " done in "
                                       << ms_between(started, std::chrono::steady_clock::now())
                                       << " ms: " << summary);
                    } catch (const std::exception& e) {
                        MG_ERROR("scheduler", "job " << name << " failed: " << e.what());
                    }
                }
                std::lock_guard l(mu_);
                for (auto& j : jobs_) {
                    if (j.name == name) j.running = false;
                }
            });
            if (!posted) job.running = false;
        }
        cv_.wait_until(lock, next_wake);
    }
}

}  // namespace modelgate::core

#include "features/scheduler.hpp"

#include <algorithm>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "util/crypto.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"
#include "util/time.hpp"

namespace modelgate::core {

std::string job_text_key(const std::string& owner, const std::string& name, const char* what) {
    std::string prefix = owner + ":";
    if (owner != "core" && name.rfind(prefix, 0) == 0)
        return owner + ".job." + name.substr(prefix.size()) + "." + what;
    return "job." + name + "." + what;
}

namespace {

constexpr std::size_t kMaxTaskName = 100;
constexpr std::size_t kMaxError = 1000;
constexpr std::size_t kMaxSummary = 1000;

Error unknown_task(const std::string& name) {
    return make_error(ErrorCode::not_found, "No scheduled task named '" + name + "'", "not_found");
}

Error already_running(const std::string& name) {
    return make_error(ErrorCode::conflict, "Task '" + name + "' is running; try again when it ends",
                      "task_running");
}

}  // namespace

Scheduler::Scheduler(store::Database& db, ThreadPool& workers, std::string instance_id,
                     SchedulerOptions options)
    : store_(db), workers_(workers), instance_id_(std::move(instance_id)), options_(options) {}

Scheduler::~Scheduler() {
    stop();
}

bool Scheduler::add_job(const std::string& name, Job job) {
    if (name.empty() || name.size() > kMaxTaskName) {
        MG_ERROR("scheduler", "refused a job named '" << name << "': names are 1 to "
                                                      << kMaxTaskName << " characters");
        return false;
    }
    store::SchedulerTaskRecord row{name, job.owner, job.description, job.schedule.text(), true, ""};
    {
        std::lock_guard lock(mu_);
        if (!jobs_.emplace(name, std::move(job)).second) return false;
    }
    // The row carries the enabled switch every instance reads; an existing row
    // keeps it.
    if (auto st = store_.save_task(row); !st)
        MG_WARN("scheduler", "could not record task " << name << ": " << st.error().message);
    cv_.notify_all();
    return true;
}

bool Scheduler::add(const std::string& name, const std::string& owner,
                    const std::string& description, std::chrono::seconds interval, JobFn fn,
                    std::chrono::seconds first_delay) {
    Job job{owner, description, Schedule::every(interval), std::move(fn), 0, false};
    job.next_ms = unix_ms_now() + std::max<int64_t>(0, first_delay.count()) * 1000;
    return add_job(name, std::move(job));
}

bool Scheduler::add(const std::string& name, const std::string& owner,
                    std::chrono::seconds interval, JobFn fn, std::chrono::seconds first_delay) {
    return add(name, owner, "", interval, std::move(fn), first_delay);
}

bool Scheduler::add_daily(const std::string& name, const std::string& owner,
                          const std::string& description, const std::string& hh_mm, JobFn fn) {
    auto schedule = Schedule::daily_at(hh_mm);
    if (!schedule) {
        throw std::invalid_argument("the daily time of job " + name + " must be HH:MM (00:00 to " +
                                    "23:59), got '" + hh_mm + "'");
    }
    Job job{owner, description, *schedule, std::move(fn), 0, false};
    job.next_ms = schedule->next_after(unix_ms_now());
    return add_job(name, std::move(job));
}

void Scheduler::remove_owner(const std::string& owner) {
    std::lock_guard lock(mu_);
    std::erase_if(jobs_, [&](const auto& entry) { return entry.second.owner == owner; });
}

void Scheduler::start() {
    add(
        "scheduler_housekeeping", "core",
        "Marks runs left 'running' by a stopped instance as abandoned, and deletes run "
        "history older than " +
            std::to_string(options_.retention_days) + " days (keeping at most " +
            std::to_string(options_.keep_runs_per_task) + " runs per task)",
        std::chrono::hours(1), [this] { return housekeeping(); }, std::chrono::minutes(1));
    std::lock_guard lock(mu_);
    if (thread_.joinable() || stopping_) return;
    thread_ = std::thread([this] {
        try {
            loop();
        } catch (const std::exception& e) {
            MG_ERROR("scheduler", "the scheduler thread stopped: " << e.what());
        }
    });
}

void Scheduler::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::string Scheduler::live_since() const {
    return iso8601_utc(unix_ms_now() - static_cast<int64_t>(options_.abandon_after.count()) * 1000);
}

void Scheduler::present(store::SchedulerRunRecord& run) const {
    if (run.outcome != "running") return;
    auto beat = parse_iso8601(run.heartbeat_at);
    if (beat && *beat < unix_ms_now() - static_cast<int64_t>(options_.abandon_after.count()) * 1000)
        run.outcome = "abandoned";
}

void Scheduler::release(const std::string& name) {
    std::lock_guard lock(mu_);
    if (auto it = jobs_.find(name); it != jobs_.end()) it->second.running = false;
}

std::string Scheduler::execute(const std::string& name, const JobFn& fn, int64_t run_id) {
    {
        std::lock_guard lock(mu_);
        live_runs_.insert(run_id);
    }
    auto started = SteadyClock::now();
    JobOutcome outcome;
    std::optional<std::string> error;
    try {
        outcome = fn();
    } catch (const std::exception& e) {
        error = e.what();
    } catch (...) {
        error = "the job failed with an unknown exception";
    }
    if (error) {
        // redact() bounds the text but appends a note on what it cut.
        error = clip_utf8(redact(*error, kMaxError), kMaxError);
        if (error->empty()) error = "the job failed";
    }
    store::SchedulerRunEnd end;
    end.outcome = error ? "failed" : "success";
    end.error = error;
    if (!error) {
        end.rows = outcome.rows;
        end.summary = clip_utf8(outcome.summary, kMaxSummary);
        if (outcome.text_key.size() <= 100) {
            end.summary_key = outcome.text_key;
            nlohmann::json args = nlohmann::json::object();
            for (const auto& [k, v] : outcome.text_args)
                args[k] = clip_utf8(v, kMaxSummary);
            end.summary_args = args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
    }
    const std::string& summary = end.summary;
    auto st = store_.finish(run_id, end, iso8601_now());
    double ms = ms_between(started, SteadyClock::now());
    if (error) {
        MG_ERROR("scheduler", "job " << name << " failed after " << ms << " ms: " << *error);
    } else {
        MG_INFO("scheduler", "job " << name << " done in " << ms << " ms (" << outcome.rows
                                    << " rows): " << summary);
    }
    if (!st) {
        MG_ERROR("scheduler", "the end of run " << run_id << " of " << name
                                                << " was not recorded: " << st.error().message);
    }
    {
        std::lock_guard lock(mu_);
        live_runs_.erase(run_id);
    }
    return error ? *error : summary;
}

void Scheduler::run_scheduled(const std::string& name, const JobFn& fn, int64_t slot_ms) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
    }
    auto enabled = store_.task_enabled(name);
    if (!enabled) {
        MG_WARN("scheduler", "job " << name << " skipped: " << enabled.error().message);
        return;
    }
    if (enabled.value() && !*enabled.value()) return;  // disabled by an admin
    auto live = store_.has_live_run(name, live_since());
    if (!live) {
        MG_WARN("scheduler", "job " << name << " skipped: " << live.error().message);
        return;
    }
    if (live.value()) {
        MG_INFO("scheduler", "job " << name << " is still running on an instance; slot "
                                    << iso8601_utc(slot_ms) << " skipped");
        return;
    }
    auto id = store_.claim(name, iso8601_utc(slot_ms), instance_id_, "schedule", iso8601_now());
    if (!id) {
        MG_WARN("scheduler", "job " << name << " skipped: " << id.error().message);
        return;
    }
    if (!id.value()) return;  // another instance has this slot
    execute(name, fn, *id.value());
}

Result<int64_t> Scheduler::begin_manual(const std::string& name, JobFn& fn) {
    {
        std::lock_guard lock(mu_);
        auto it = jobs_.find(name);
        if (it == jobs_.end()) return unknown_task(name);
        if (it->second.running) return already_running(name);
        it->second.running = true;
        fn = it->second.fn;
    }
    auto live = store_.has_live_run(name, live_since());
    if (!live || live.value()) {
        release(name);
        return live ? already_running(name) : live.error();
    }
    auto id = store_.claim(name, "manual:" + crypto::random_hex(8), instance_id_, "manual",
                           iso8601_now());
    if (!id || !id.value()) {
        release(name);
        return id ? already_running(name) : id.error();
    }
    return *id.value();
}

Result<store::SchedulerRunRecord> Scheduler::trigger(const std::string& name,
                                                     std::chrono::milliseconds wait) {
    JobFn fn;
    auto id = begin_manual(name, fn);
    if (!id) return id.error();
    int64_t run_id = id.value();
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    bool posted = workers_.post([this, name, fn, run_id, done] {
        execute(name, fn, run_id);
        release(name);
        done->set_value();
    });
    if (!posted) {
        store::SchedulerRunEnd end;
        end.outcome = "failed";
        end.error = "the gateway is shutting down";
        (void)store_.finish(run_id, end, iso8601_now());
        release(name);
    } else {
        finished.wait_for(wait);
    }
    auto run = store_.run(run_id);
    if (!run) return run.error();
    if (!run.value())
        return make_error(ErrorCode::internal, "the run of " + name + " was not recorded");
    present(*run.value());
    return *run.value();
}

bool Scheduler::run_now(const std::string& name, std::string& summary) {
    JobFn fn;
    auto id = begin_manual(name, fn);
    if (!id) {
        summary = id.error().message;
        return false;
    }
    summary = execute(name, fn, id.value());
    release(name);
    return true;
}

Result<std::vector<TaskInfo>> Scheduler::tasks() {
    std::vector<TaskInfo> out;
    {
        std::lock_guard lock(mu_);
        for (const auto& [name, job] : jobs_) {
            out.push_back({name, job.owner, job.description, job.schedule.text(), true, job.next_ms,
                           job.running, std::nullopt});
        }
    }
    auto rows = store_.tasks();
    if (!rows) return rows.error();
    auto last = store_.last_runs();
    if (!last) return last.error();
    for (auto& t : out) {
        if (auto it = rows->find(t.name); it != rows->end()) t.enabled = it->second.enabled;
        if (!t.enabled) t.next_run_ms.reset();
        if (auto it = last->find(t.name); it != last->end()) {
            present(it->second);
            if (it->second.outcome == "running") t.running = true;
            t.last_run = it->second;
        }
    }
    return out;
}

Result<TaskInfo> Scheduler::task(const std::string& name) {
    auto all = tasks();
    if (!all) return all.error();
    for (auto& t : all.value()) {
        if (t.name == name) return t;
    }
    return unknown_task(name);
}

Result<TaskInfo> Scheduler::set_enabled(const std::string& name, bool enabled) {
    store::SchedulerTaskRecord row;
    {
        std::lock_guard lock(mu_);
        auto it = jobs_.find(name);
        if (it == jobs_.end()) return unknown_task(name);
        row = {name, it->second.owner, it->second.description, it->second.schedule.text(), enabled,
               ""};
    }
    if (auto st = store_.save_task(row, enabled); !st) return st.error();
    MG_INFO("scheduler", "task " << name << (enabled ? " enabled" : " disabled"));
    return task(name);
}

Result<store::SchedulerRunPage> Scheduler::runs(const std::string& task, int page, int page_size) {
    auto out = store_.runs(task, page, page_size);
    if (!out) return out.error();
    for (auto& r : out->runs)
        present(r);
    return out;
}

JobOutcome Scheduler::housekeeping() {
    int64_t now = unix_ms_now();
    int64_t bound_s = options_.abandon_after.count();
    auto abandoned =
        store_.mark_abandoned(iso8601_utc(now - bound_s * 1000),
                              "abandoned: the instance running it stopped sending heartbeats for " +
                                  std::to_string(bound_s) + " s (it stopped or lost the database)");
    if (!abandoned) throw std::runtime_error(abandoned.error().message);
    auto pruned = store_.prune(iso8601_utc(now - options_.retention_days * 86400000LL),
                               options_.keep_runs_per_task);
    if (!pruned) throw std::runtime_error(pruned.error().message);
    JobOutcome out{std::to_string(abandoned.value()) + " runs marked abandoned, " +
                       std::to_string(pruned.value()) + " old runs deleted",
                   abandoned.value() + pruned.value()};
    out.text_key = job_text_key("core", "scheduler_housekeeping", "summary");
    out.text_args = {{"abandoned", std::to_string(abandoned.value())},
                     {"pruned", std::to_string(pruned.value())}};
    return out;
}

void Scheduler::loop() {
    const auto heartbeat = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(options_.heartbeat, std::chrono::seconds(1)));
    auto next_heartbeat = SteadyClock::now() + heartbeat;
    std::unique_lock lock(mu_);
    while (!stopping_) {
        int64_t now = unix_ms_now();
        int64_t wake_ms = now + heartbeat.count();
        for (auto& [name, job] : jobs_) {
            if (job.next_ms <= now) {
                int64_t slot = job.schedule.slot_of(job.next_ms);
                job.next_ms = job.schedule.next_after(now);
                if (job.running) {
                    MG_INFO("scheduler", "job " << name << " is still running here; slot "
                                                << iso8601_utc(slot) << " skipped");
                } else {
                    job.running = true;
                    bool posted = workers_.post([this, name = name, fn = job.fn, slot] {
                        run_scheduled(name, fn, slot);
                        release(name);
                    });
                    if (!posted) job.running = false;
                }
            }
            wake_ms = std::min(wake_ms, job.next_ms);
        }
        if (SteadyClock::now() >= next_heartbeat) {
            std::vector<int64_t> ids(live_runs_.begin(), live_runs_.end());
            lock.unlock();
            if (auto st = store_.heartbeat(ids, iso8601_now()); !st)
                MG_WARN("scheduler", "heartbeat not recorded: " << st.error().message);
            lock.lock();
            next_heartbeat = SteadyClock::now() + heartbeat;
            continue;
        }
        auto until_due = std::chrono::milliseconds(std::max<int64_t>(1, wake_ms - unix_ms_now()));
        auto until_beat = std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat -
                                                                                SteadyClock::now());
        cv_.wait_for(lock, std::clamp(std::min(until_due, until_beat), std::chrono::milliseconds(1),
                                      heartbeat));
    }
}

}  // namespace modelgate::core

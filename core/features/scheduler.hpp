// Scheduled jobs: built-in housekeeping, the statistics jobs and jobs feature
// plugins register, each at an interval or daily at a local HH:MM (see
// features/schedule.hpp). Every run is a row in scheduler_runs (start, end,
// outcome, rows touched, error), and each scheduled run happens once across
// every instance sharing the database: an instance runs a slot only after
// inserting its (task, slot) row, and a unique conflict means another instance
// has it. A disabled task (scheduler_tasks.enabled, shared) is skipped by the
// schedule but can still be run by hand.
//
// Threads: one scheduler thread computes due times and refreshes the heartbeat
// of runs in progress; the runs themselves, and every database write about
// them, happen on the worker pool. A job never runs twice at once: not on one
// instance (a flag per job), and a scheduled slot is skipped while another
// instance's run of the job is still alive (its heartbeat is fresh). A run left
// "running" by a stopped instance stops counting after abandon_after and is
// marked "abandoned" by the housekeeping job (docs/operations.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "features/schedule.hpp"
#include "store/database.hpp"
#include "store/scheduler_store.hpp"
#include "util/result.hpp"
#include "util/thread_pool.hpp"

namespace modelgate::core {

// What a job reports when it succeeds; it throws to fail (the message becomes
// the run's error).
struct JobOutcome {
    std::string summary;  // one line for people, in English
    int64_t rows = 0;     // rows the job inserted, changed or deleted
    // The summary as a catalog key and the values of its {placeholders}, so the
    // admin API can say it in the reader's language (empty: summary only).
    std::string text_key;
    std::map<std::string, std::string> text_args;

    JobOutcome() = default;
    JobOutcome(std::string s, int64_t r = 0)  // NOLINT(google-explicit-constructor)
        : summary(std::move(s)), rows(r) {}
    JobOutcome(const char* s, int64_t r = 0)  // NOLINT(google-explicit-constructor)
        : summary(s), rows(r) {}
};

// The catalog key of a job's text (`what`: "description" or "summary"):
// job.<name>.<what> for the core's jobs, <plugin>.job.<job>.<what> for a
// plugin's job "<plugin>:<job>" (inside the plugin's own catalog namespace).
std::string job_text_key(const std::string& owner, const std::string& name, const char* what);

struct SchedulerOptions {
    // How often the heartbeat of runs in progress is refreshed.
    std::chrono::seconds heartbeat{30};
    // A running row without a heartbeat for this long was left by a stopped instance.
    std::chrono::seconds abandon_after{120};
    // History kept: runs younger than this, and at most so many per task.
    int retention_days = 30;
    int keep_runs_per_task = 1000;
};

// A job as the task list shows it.
struct TaskInfo {
    std::string name, owner, description, schedule;
    bool enabled = true;
    std::optional<int64_t> next_run_ms;  // none while disabled
    bool running = false;                // here or on another instance
    std::optional<store::SchedulerRunRecord> last_run;
};

class Scheduler {
  public:
    using JobFn = std::function<JobOutcome()>;

    Scheduler(store::Database& db, ThreadPool& workers, std::string instance_id,
              SchedulerOptions options = {});
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Registering a job (at start-up: it writes the task's row). False when a job
    // of that name exists or the name is empty or longer than 100 characters.
    //
    // Every interval (at least a second), first due first_delay after the call.
    bool add(const std::string& name, const std::string& owner, const std::string& description,
             std::chrono::seconds interval, JobFn fn,
             std::chrono::seconds first_delay = std::chrono::seconds(5));
    // The same without a description (plugins' jobs, older callers).
    bool add(const std::string& name, const std::string& owner, std::chrono::seconds interval,
             JobFn fn, std::chrono::seconds first_delay = std::chrono::seconds(5));
    // Daily at hh_mm ("00:05") local time. Throws std::invalid_argument when hh_mm
    // is not HH:MM.
    bool add_daily(const std::string& name, const std::string& owner,
                   const std::string& description, const std::string& hh_mm, JobFn fn);
    // Forgets the owner's jobs (their history stays).
    void remove_owner(const std::string& owner);

    // Starts the scheduler thread and registers scheduler_housekeeping.
    void start();
    // Stops the thread; runs already on the workers finish and are recorded.
    void stop();

    // For the admin API; errors are not_found for unknown names, conflict for a
    // job that is running, or database errors.
    Result<std::vector<TaskInfo>> tasks();
    Result<TaskInfo> task(const std::string& name);
    Result<TaskInfo> set_enabled(const std::string& name, bool enabled);
    // Runs a job now on the worker pool, even when disabled, and waits up to
    // wait for it to end: the run's record, with outcome "running" if it has not.
    Result<store::SchedulerRunRecord> trigger(const std::string& name,
                                              std::chrono::milliseconds wait);
    // Run history, newest first; task empty: every task.
    Result<store::SchedulerRunPage> runs(const std::string& task, int page, int page_size);

    // Runs a job now on the calling thread and records it as a manual run;
    // summary is its summary or error. False when unknown or already running.
    bool run_now(const std::string& name, std::string& summary);

    const std::string& instance_id() const { return instance_id_; }

  private:
    struct Job {
        std::string owner, description;
        Schedule schedule;
        JobFn fn;
        int64_t next_ms = 0;  // Unix ms
        bool running = false;
    };
    bool add_job(const std::string& name, Job job);
    // Claims the job for a manual run: the run's id, with the job marked running.
    Result<int64_t> begin_manual(const std::string& name, JobFn& fn);
    void run_scheduled(const std::string& name, const JobFn& fn, int64_t slot_ms);
    // Runs fn for the claimed run and records how it ended; its summary or error.
    std::string execute(const std::string& name, const JobFn& fn, int64_t run_id);
    void release(const std::string& name);
    JobOutcome housekeeping();
    // A running row whose heartbeat is stale reads as abandoned.
    void present(store::SchedulerRunRecord& run) const;
    std::string live_since() const;
    void loop();

    store::SchedulerStore store_;
    ThreadPool& workers_;
    std::string instance_id_;
    SchedulerOptions options_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<std::string, Job> jobs_;
    std::set<int64_t> live_runs_;  // runs in progress on this instance
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace modelgate::core

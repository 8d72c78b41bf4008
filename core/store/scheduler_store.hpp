// The scheduler's tables: scheduler_tasks (one row per job, with the enabled
// switch every instance honours) and scheduler_runs (one row per run). A
// scheduled run is claimed by inserting its (task_name, slot) row: the unique
// key lets exactly one instance have it. All methods block (worker threads or
// the scheduler's own thread) and return Results.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

struct SchedulerTaskRecord {
    std::string name, owner, description, schedule;
    bool enabled = true;
    std::string updated_at;
};

struct SchedulerRunRecord {
    int64_t id = 0;
    std::string task_name;
    std::string slot;          // the due time (ISO 8601 UTC) or "manual:<hex>"
    std::string instance_id;   // the instance that ran it
    std::string trigger;       // "schedule" or "manual"
    std::string started_at;    // ISO 8601 UTC
    std::string heartbeat_at;  // refreshed while running
    std::optional<std::string> finished_at;
    std::string outcome;  // running, success, failed, abandoned
    int64_t rows_touched = 0;
    std::string summary;       // English
    std::string summary_key;   // its catalog key ("" when the job gave none)
    std::string summary_args;  // the key's values, a JSON object of strings
    std::optional<std::string> error;
};

// How a run ended.
struct SchedulerRunEnd {
    std::string outcome;  // success or failed
    int64_t rows = 0;
    std::string summary, summary_key, summary_args = "{}";
    std::optional<std::string> error;
};

struct SchedulerRunPage {
    std::vector<SchedulerRunRecord> runs;
    int64_t total = 0;
};

class SchedulerStore {
  public:
    explicit SchedulerStore(Database& db) : db_(db) {}

    // Creates or refreshes a task's row. Its enabled switch is kept unless
    // enabled is given.
    Status save_task(const SchedulerTaskRecord& task, std::optional<bool> enabled = std::nullopt);
    Result<std::map<std::string, SchedulerTaskRecord>> tasks();
    // nullopt when the task has no row.
    Result<std::optional<bool>> task_enabled(const std::string& name);

    // Inserts a running row for (task, slot); nullopt when that slot is taken.
    Result<std::optional<int64_t>> claim(const std::string& task, const std::string& slot,
                                         const std::string& instance_id, const std::string& trigger,
                                         const std::string& now);
    Status finish(int64_t id, const SchedulerRunEnd& end, const std::string& now);
    Status heartbeat(const std::vector<int64_t>& ids, const std::string& now);
    // True when a run of the task is running with a heartbeat at or after since.
    Result<bool> has_live_run(const std::string& task, const std::string& since);

    Result<std::optional<SchedulerRunRecord>> run(int64_t id);
    // The latest run of every task, by task name.
    Result<std::map<std::string, SchedulerRunRecord>> last_runs();
    // Newest first; task empty: every task.
    Result<SchedulerRunPage> runs(const std::string& task, int page, int page_size);

    // Running rows whose heartbeat is older than stale_before become abandoned.
    Result<int64_t> mark_abandoned(const std::string& stale_before, const std::string& error);
    // Deletes runs started before cutoff, and all but the newest keep_per_task
    // runs of each task.
    Result<int64_t> prune(const std::string& cutoff, int keep_per_task);

  private:
    Database& db_;
};

}  // namespace modelgate::core::store

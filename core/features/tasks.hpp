// Feature plugins' one-shot background tasks (abi.h, "One-shot background
// tasks"): rows in plugin_tasks, run on a small pool of their own so a long
// task (a report, a map-reduce over LLM calls) never holds a request worker.
//
// Once across instances: the partial unique index on (plugin, kind, key) for
// running rows lets one INSERT win. Alive across instances: a thread refreshes
// the heartbeat of this instance's running tasks, and marks running tasks whose
// heartbeat went stale (their instance stopped) as abandoned.
#pragma once

#include <modelgate/abi.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "store/database.hpp"
#include "util/result.hpp"
#include "util/thread_pool.hpp"

namespace modelgate::core::features {

struct TaskLimits {
    std::size_t threads = 2;
    std::size_t max_waiting = 32;  // tasks started on this instance, not yet running
    std::chrono::seconds heartbeat{20};
    std::chrono::seconds stale_after{90};  // a running task without a heartbeat this long
};

// Bounds of what a plugin hands the task service.
inline constexpr std::size_t kMaxTaskKey = 200, kMaxTaskInput = 1u << 20,
                             kMaxTaskProgress = 64u << 10, kMaxTaskResult = 4u << 20;
inline constexpr int kMaxTaskList = 200;

class TaskRunner {
  public:
    TaskRunner(store::Database& db, std::string instance_id, TaskLimits limits = {});
    ~TaskRunner();
    TaskRunner(const TaskRunner&) = delete;
    TaskRunner& operator=(const TaskRunner&) = delete;

    // False when the kind is malformed or taken.
    bool register_kind(const std::string& plugin, const std::string& kind, mg_task_fn fn,
                       void* user);
    void withdraw(const std::string& plugin);

    struct Started {
        nlohmann::json task;
        bool started = false;  // false: task is the one already running
    };
    Result<Started> start(const std::string& plugin, const std::string& kind,
                          const std::string& key, std::string_view input_json);
    Status progress(const std::string& plugin, int64_t id, std::string_view progress_json);
    // nullopt: no such task of the plugin.
    Result<std::optional<nlohmann::json>> get(const std::string& plugin, int64_t id);
    // kind empty: every kind.
    Result<nlohmann::json> list(const std::string& plugin, const std::string& kind, int limit);

    // Runs what is running to its end, fails what has not started, and marks
    // anything left as abandoned. Idempotent.
    void stop();

  private:
    struct Kind {
        mg_task_fn fn;
        void* user;
    };
    void run(const std::string& plugin, const Kind& kind, int64_t id, const std::string& input);
    void finish(int64_t id, bool ok, const std::string& result, const std::string& error);
    void heartbeat_loop();
    void beat();
    std::string select_sql() const;

    store::Database& db_;
    std::string instance_id_;
    TaskLimits limits_;
    ThreadPool pool_;
    std::mutex mu_;
    std::map<std::pair<std::string, std::string>, Kind> kinds_;
    std::atomic<std::size_t> waiting_{0};
    std::atomic<bool> stopping_{false};
    std::condition_variable cv_;
    std::thread heartbeat_;
};

}  // namespace modelgate::core::features

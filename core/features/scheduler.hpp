// Interval jobs (built-in housekeeping and jobs feature plugins register). A job
// runs on the worker pool, never twice at once, and once per interval across
// every instance sharing the database: an instance runs it only after winning
// the job's lease row.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"
#include "util/thread_pool.hpp"

namespace modelgate::core {

class Scheduler {
  public:
    using JobFn = std::function<std::string()>;  // returns a one-line summary; throws on failure

    Scheduler(store::Database& db, ThreadPool& workers, std::string instance_id);
    ~Scheduler();

    // False when a job of that name exists.
    bool add(const std::string& name, const std::string& owner, std::chrono::seconds interval,
             JobFn fn, std::chrono::seconds first_delay = std::chrono::seconds(5));
    void remove_owner(const std::string& owner);
    void start();
    void stop();
    // Runs a job now on the calling thread (tests, admin triggers); false if unknown.
    bool run_now(const std::string& name, std::string& summary);

  private:
    struct Job {
        std::string name, owner;
        std::chrono::seconds interval;
        JobFn fn;
        std::chrono::steady_clock::time_point next;
        bool running = false;
    };
    bool acquire_lease(const std::string& name, std::chrono::seconds interval);
    void run();

    store::Database& db_;
    ThreadPool& workers_;
    std::string instance_id_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Job> jobs_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace modelgate::core

// The database's health, checked once a second on its own thread so that
// /healthz answers at once from any thread, however busy the workers or the
// database are: whether the database answers a query and, for SQLite, whether
// the file it writes to is still the one it opened.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "store/database.hpp"

namespace modelgate::core {

class HealthMonitor {
  public:
    struct State {
        bool database_ok = false;
        std::string problem;  // why not, when not
        int64_t checked_at_ms = 0;
    };

    explicit HealthMonitor(store::Database& db) : db_(db) {}
    ~HealthMonitor() { stop(); }
    // Checks once now (so the first answer is real), then every interval.
    void start(std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
    void stop();
    State current() const;

  private:
    void check();

    store::Database& db_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    State state_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace modelgate::core

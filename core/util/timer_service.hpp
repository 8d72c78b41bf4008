// One thread that runs callbacks at deadlines (queue-wait timeouts, retries).
// Callbacks must be short and must not block; they run on the timer thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace modelgate::core {

class TimerService {
  public:
    using Clock = std::chrono::steady_clock;
    using Id = uint64_t;

    TimerService();
    ~TimerService();
    TimerService(const TimerService&) = delete;
    TimerService& operator=(const TimerService&) = delete;

    Id schedule(Clock::time_point when, std::function<void()> fn);
    Id schedule_after(std::chrono::milliseconds delay, std::function<void()> fn) {
        return schedule(Clock::now() + delay, std::move(fn));
    }
    // True when the timer was removed before it ran.
    bool cancel(Id id);
    void stop();

  private:
    void run();

    std::mutex mu_;
    std::condition_variable cv_;
    std::multimap<Clock::time_point, std::pair<Id, std::function<void()>>> timers_;
    std::unordered_map<Id, decltype(timers_)::iterator> index_;
    Id next_id_ = 1;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace modelgate::core

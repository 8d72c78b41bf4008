// A fixed pool of worker threads for work that may block (database, files):
// admin and portal handlers, plugin routes and jobs. Never used for proxy I/O.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace modelgate::core {

class ThreadPool {
  public:
    ThreadPool(std::size_t threads, std::string name);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // False once the pool is stopping (the task is not run).
    bool post(std::function<void()> task);
    // Runs what is queued, then joins the threads.
    void stop();
    std::size_t queued() const;

  private:
    void run();

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    std::vector<std::thread> threads_;
    std::string name_;
    bool stopping_ = false;
};

}  // namespace modelgate::core

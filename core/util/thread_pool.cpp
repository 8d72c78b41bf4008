#include "util/thread_pool.hpp"

#include <exception>

#include "util/log.hpp"

namespace modelgate::core {

ThreadPool::ThreadPool(std::size_t threads, std::string name) : name_(std::move(name)) {
    if (threads == 0) threads = 1;
    for (std::size_t i = 0; i < threads; ++i)
        threads_.emplace_back([this] { run(); });
}

ThreadPool::~ThreadPool() {
    stop();
}

bool ThreadPool::post(std::function<void()> task) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return false;
        tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
}

void ThreadPool::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

std::size_t ThreadPool::queued() const {
    std::lock_guard lock(mu_);
    return tasks_.size();
}

void ThreadPool::run() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return;  // stopping and drained
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        try {
            task();
        } catch (const std::exception& e) {
            MG_ERROR(name_, "task threw: " << e.what());
        } catch (...) {
            MG_ERROR(name_, "task threw an unknown exception");
        }
    }
}

}  // namespace modelgate::core

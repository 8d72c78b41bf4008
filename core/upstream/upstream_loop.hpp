// The upstream loop: libcurl multi on its own thread, driven by epoll through
// curl_multi_socket_action, so each wake-up costs what the ready sockets need,
// not a pass over every open transfer (10,000 streams stay cheap). Jobs arrive
// through a queue and an eventfd, so submitting never blocks the caller.
// Connection reuse, TLS and HTTP/2 come from libcurl; timeouts (first byte,
// idle, total) and cancellation are enforced here. A paused transfer (slow
// client) keeps its memory bounded because curl stops reading the socket.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "upstream/upstream_job.hpp"

namespace modelgate::core::upstream {

struct LoopStats {
    std::size_t active = 0;
    uint64_t started = 0;
    uint64_t finished = 0;
};

class UpstreamLoop {
  public:
    explicit UpstreamLoop(std::string name = "upstream");
    ~UpstreamLoop();
    UpstreamLoop(const UpstreamLoop&) = delete;
    UpstreamLoop& operator=(const UpstreamLoop&) = delete;

    void start();
    // Cancels every transfer (their on_finished runs with `cancelled`) and joins.
    void stop();

    // Hands a job to the loop. False once the loop has stopped: the job was
    // not taken and none of its hooks will run.
    bool submit(std::shared_ptr<Job> job);
    void cancel(const std::shared_ptr<Job>& job);
    void resume(const std::shared_ptr<Job>& job);
    std::size_t active() const { return active_.load(); }

  private:
    struct Transfer;
    struct Command {
        enum class Kind { submit, cancel, resume };
        Kind kind;
        std::shared_ptr<Job> job;
    };

    void run();
    void wake();
    void drain_commands();
    void start_transfer(std::shared_ptr<Job> job);
    void finish_transfer(Transfer* t, Outcome outcome, const std::string& detail);
    void read_completions();
    void check_deadlines();
    CURL* take_easy();
    void give_easy(CURL* easy);
    static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user);
    static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user);
    static int on_socket(CURL* easy, curl_socket_t s, int what, void* user, void* socketp);
    static int on_timer(CURLM* multi, long timeout_ms, void* user);

    std::string name_;
    CURLM* multi_ = nullptr;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    long curl_timeout_ms_ = -1;  // from the timer callback; -1: none
    std::chrono::steady_clock::time_point curl_deadline_{};
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::mutex mu_;
    std::vector<Command> commands_;
    bool closed_ = false;  // the loop has ended: submit() refuses (under mu_)
    std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers_;  // loop thread only
    std::vector<CURL*> spare_easy_;                                      // loop thread only
    uint64_t next_id_ = 1;
    std::atomic<std::size_t> active_{0};
};

// Several loops, for more than one core of upstream I/O: each call is pinned to
// one loop (round robin) for its whole life.
class UpstreamPool {
  public:
    explicit UpstreamPool(std::size_t loops);
    void start();
    void stop();
    UpstreamLoop& next();
    std::size_t active() const;

  private:
    std::vector<std::unique_ptr<UpstreamLoop>> loops_;
    std::atomic<std::size_t> next_{0};
};

// libcurl's global init, once per process.
void global_init();

}  // namespace modelgate::core::upstream

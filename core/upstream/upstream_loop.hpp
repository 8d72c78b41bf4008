// The upstream loop: libcurl multi on its own thread. Jobs arrive through a
// queue and curl_multi_wakeup, so submitting never blocks the caller. Connection
// reuse, TLS and HTTP/2 come from libcurl; timeouts (first byte, idle, total)
// and cancellation are enforced here. A paused transfer (slow client) keeps its
// memory bounded because curl stops reading the socket.
#pragma once

#include <curl/curl.h>

#include <atomic>
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

    void submit(std::shared_ptr<Job> job);
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
    void drain_commands();
    void start_transfer(std::shared_ptr<Job> job);
    void finish_transfer(Transfer* t, Outcome outcome, const std::string& detail);
    void check_deadlines();
    static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user);
    static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user);

    std::string name_;
    CURLM* multi_ = nullptr;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::mutex mu_;
    std::vector<Command> commands_;
    std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers_;  // loop thread only
    uint64_t next_id_ = 1;
    std::atomic<std::size_t> active_{0};
};

// libcurl's global init, once per process.
void global_init();

}  // namespace modelgate::core::upstream

// One client TCP connection (internal to http/): the request parser fed by the
// reactor, the exchange in progress, ordered writes back to the client, and the
// decisions HTTP/1.1 leaves to a server: how large a body to take and from
// whom, when to answer 100 Continue, when to close, how long to wait.
//
// Threads: input and disconnection arrive on the connection's reactor thread;
// answers arrive from any thread (workers, upstream loops) through the
// exchange; the reaper thread enforces timeouts. Requests are handled one at a
// time in arrival order: bytes of pipelined requests wait (bounded) until the
// answer before them is complete.
//
// Locks, always taken in this order and never while calling a handler:
// mu_ (parser and phase) -> write_mu_ (order of writes) -> fd_mu_ (the
// descriptor's life; held for direct syscalls). Write-completion callbacks may
// run inside a write, so they take at most fd_mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "http/request_parser.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "util/thread_pool.hpp"

namespace Pistache::Tcp {
class Peer;
}

namespace modelgate::core::http {

class Connection;

// What every connection of one server shares.
struct ServerCore {
    ServerOptions options;
    std::shared_ptr<ServerState> state;
    // Runs the next pipelined request when an answer completes off the reactor.
    ThreadPool continuations{1, "http-next"};

    // Bytes of request bodies and pipelined input held across all connections.
    bool reserve(std::size_t bytes);
    void release(std::size_t bytes);

    std::mutex registry_mu;
    std::unordered_map<uint64_t, std::weak_ptr<Connection>> registry;
    uint64_t next_id = 1;
};

using SteadyPoint = std::chrono::steady_clock::time_point;

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(std::shared_ptr<ServerCore> core, std::weak_ptr<Pistache::Tcp::Peer> peer, int fd,
               std::string peer_ip);
    ~Connection();

    // Reactor thread.
    void on_input(std::string_view bytes);
    void on_disconnected();
    // Over the connection cap: answer 503 and close.
    void refuse_busy();
    // Reaper thread: enforces the head, body, idle and linger timeouts.
    void tick(SteadyPoint now);

    // Sends bytes in order: straight into the socket when it takes them, else
    // through Pistache's write queue. done(true) once they are in the kernel,
    // done(false) when the write failed. False (done never runs) when closed.
    bool write(std::string bytes, std::function<void(bool)> done);
    bool closed() const;
    // A hook per exchange (owner): runs once if the client goes away first.
    void set_close_hook(const void* owner, std::function<void()> hook);
    void clear_close_hook(const void* owner);

    // The exchange's answer is complete (its last bytes were handed to write()).
    void exchange_done(bool close);
    uint64_t id() const { return id_; }

  private:
    enum class Phase { reading, dispatched, closing, closed };

    void pump(std::unique_lock<std::mutex>& lock, std::string_view fresh);
    void resume();
    // Keeps bytes that arrived while a request is being answered.
    void stash(std::string_view bytes);
    void on_head();
    void dispatch(std::unique_lock<std::mutex>& lock);
    // Answers a request that will not be handled; its body, if any, is read
    // and dropped when small, else the connection closes after the answer.
    void refuse(const Error& e, bool must_close, HeaderList headers = {});
    void answer_and_close(const Error& e);
    void begin_close_locked();
    void shutdown_socket(int how);
    void on_write_settled();
    void release_body_budget();

    std::shared_ptr<ServerCore> core_;
    std::weak_ptr<Pistache::Tcp::Peer> peer_;
    const int fd_;
    const std::string peer_ip_;
    uint64_t id_ = 0;

    std::mutex mu_;
    Phase phase_ = Phase::reading;
    RequestParser parser_;
    std::string inbox_;           // bytes that arrived while a request was being answered
    std::size_t inbox_held_ = 0;  // reserved from the server's buffer budget
    bool pumping_ = false;
    bool close_after_ = false;  // close once the current answer is complete
    bool discarding_ = false;   // reading a refused request's body to drop it
    bool keep_alive_ = true;    // what the request in progress asked for
    bool head_only_ = false;    // HEAD: answer without a body
    const Route* route_ = nullptr;
    Request request_;
    std::size_t body_held_ = 0;  // reserved for the body in progress
    SteadyPoint request_started_{};
    SteadyPoint last_progress_{};
    SteadyPoint idle_since_{};
    SteadyPoint linger_until_{};

    std::mutex write_mu_;
    std::atomic<int> queued_{0};  // writes waiting in Pistache's queue

    mutable std::mutex fd_mu_;
    bool closed_ = false;      // the peer is gone: fd_ may already be someone else's
    bool shut_write_ = false;  // we sent our FIN
    std::atomic<bool> shutdown_when_flushed_{false};

    std::mutex hook_mu_;
    const void* hook_owner_ = nullptr;
    std::function<void()> close_hook_;
};

}  // namespace modelgate::core::http

// One client TCP connection as the gateway sees it: whether the client is still
// there, a hook to run when it goes away (abort the upstream call), and raw
// writes whose completion is reported back (back-pressure for streams).
// Attached to the Pistache peer; the close hook runs on the reactor thread.
#pragma once

#include <pistache/peer.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace modelgate::core::http {

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
  public:
    explicit ClientConnection(std::weak_ptr<Pistache::Tcp::Peer> peer) : peer_(std::move(peer)) {}

    // The connection of a Pistache peer, created on first use (reactor thread).
    static std::shared_ptr<ClientConnection> of(const std::shared_ptr<Pistache::Tcp::Peer>& peer);

    void set_close_hook(std::function<void()> hook);
    void clear_close_hook();
    bool closed() const;
    // The peer went away: runs the close hook once.
    void mark_closed();

    // Sends bytes to the client: directly when the socket takes them all, else
    // through Pistache's write queue, always in order. done(true) runs once they
    // are in the kernel (on this thread or a reactor thread), done(false) when
    // the write failed. Returns false (and never calls done) when the connection
    // is already closed.
    bool write(std::string bytes, std::function<void(bool)> done);

  private:
    std::weak_ptr<Pistache::Tcp::Peer> peer_;
    mutable std::mutex mu_;
    bool closed_ = false;
    std::function<void()> close_hook_;
    std::atomic<int> queued_{0};  // writes waiting in Pistache's queue
};

}  // namespace modelgate::core::http

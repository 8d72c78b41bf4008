#include "http/connection.hpp"

#include <pistache/async.h>
#include <pistache/stream.h>

namespace modelgate::core::http {

namespace {
constexpr const char* kDataKey = "modelgate.connection";
}

std::shared_ptr<ClientConnection> ClientConnection::of(
    const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    if (!peer) return nullptr;
    auto existing = peer->tryGetData(kDataKey);
    if (existing) return std::static_pointer_cast<ClientConnection>(existing);
    auto conn = std::make_shared<ClientConnection>(peer);
    peer->putData(kDataKey, conn);
    return conn;
}

void ClientConnection::set_close_hook(std::function<void()> hook) {
    std::unique_lock lock(mu_);
    if (closed_) {
        lock.unlock();
        if (hook) hook();
        return;
    }
    close_hook_ = std::move(hook);
}

void ClientConnection::clear_close_hook() {
    std::lock_guard lock(mu_);
    close_hook_ = nullptr;
}

bool ClientConnection::closed() const {
    std::lock_guard lock(mu_);
    return closed_;
}

void ClientConnection::mark_closed() {
    std::function<void()> hook;
    {
        std::lock_guard lock(mu_);
        if (closed_) return;
        closed_ = true;
        hook = std::move(close_hook_);
        close_hook_ = nullptr;
    }
    if (hook) hook();
}

bool ClientConnection::write(std::string bytes, std::function<void(bool)> done) {
    // Held while queueing: after mark_closed() no write reaches the socket, whose
    // descriptor number may soon belong to another client.
    std::lock_guard lock(mu_);
    if (closed_) return false;
    auto peer = peer_.lock();
    if (!peer) return false;
    std::size_t n = bytes.size();
    peer->send(Pistache::RawBuffer(std::move(bytes), n))
        .then(
            [done](ssize_t) {
                if (done) done(true);
            },
            [done](std::exception_ptr) {
                if (done) done(false);
            });
    return true;
}

}  // namespace modelgate::core::http

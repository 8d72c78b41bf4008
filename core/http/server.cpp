#include "http/server.hpp"

#include <pistache/listener.h>
#include <pistache/net.h>
#include <pistache/peer.h>
#include <pistache/tcp.h>

#include "http/connection.hpp"
#include "util/log.hpp"

namespace modelgate::core::http {

namespace {

constexpr const char* kDataKey = "modelgate.connection";

// Pistache's TCP handler: one clone per reactor thread. It only moves bytes
// and connection events to the Connection of each peer.
class TcpHandler final : public Pistache::Tcp::Handler {
  public:
    PROTOTYPE_OF(Pistache::Tcp::Handler, TcpHandler)

    explicit TcpHandler(std::shared_ptr<ServerCore> core) : core_(std::move(core)) {}

    void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
        std::string ip = peer->address().host();
        auto conn = std::make_shared<Connection>(core_, peer, peer->fd(), std::move(ip));
        peer->putData(kDataKey, conn);
        {
            std::lock_guard lock(core_->registry_mu);
            core_->registry.emplace(conn->id(), conn);
        }
        uint64_t open = core_->state->connections_open.fetch_add(1) + 1;
        if (open > core_->options.max_connections) conn->refuse_busy();
    }

    void onInput(const char* buffer, size_t len,
                 const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
        if (auto conn = of(peer)) conn->on_input(std::string_view(buffer, len));
    }

    void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
        auto conn = of(peer);
        if (!conn) return;
        conn->on_disconnected();
        core_->state->connections_open.fetch_sub(1);
        std::lock_guard lock(core_->registry_mu);
        core_->registry.erase(conn->id());
    }

  private:
    static std::shared_ptr<Connection> of(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
        if (!peer) return nullptr;
        return std::static_pointer_cast<Connection>(peer->tryGetData(kDataKey));
    }

    std::shared_ptr<ServerCore> core_;
};

}  // namespace

struct HttpServer::Impl {
    std::shared_ptr<ServerCore> core;
    std::unique_ptr<Pistache::Tcp::Listener> listener;
};

HttpServer::HttpServer(ServerOptions options, std::shared_ptr<ServerState> state)
    : options_(std::move(options)), state_(std::move(state)) {
    state_->base_path = options_.base_path;
}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::start() {
    impl_ = std::make_unique<Impl>();
    impl_->core = std::make_shared<ServerCore>();
    impl_->core->options = options_;
    impl_->core->state = state_;
    Pistache::Address addr(options_.host, Pistache::Port(options_.port));
    impl_->listener = std::make_unique<Pistache::Tcp::Listener>(addr);
    impl_->listener->init(
        options_.threads,
        Pistache::Flags<Pistache::Tcp::Options>(Pistache::Tcp::Options::ReuseAddr), "mg-http",
        4096);
    impl_->listener->setHandler(std::make_shared<TcpHandler>(impl_->core));
    try {
        impl_->listener->bind();
        impl_->listener->runThreaded();
    } catch (const std::exception& e) {
        impl_.reset();
        throw std::runtime_error("cannot listen on " + options_.host + ":" +
                                 std::to_string(options_.port) + ": " + e.what());
    }
    port_ = static_cast<uint16_t>(impl_->listener->getPort());
    stopping_.store(false);
    reaper_ = std::thread([this] { reap(); });
}

void HttpServer::reap() {
    // Timeouts of every connection, twice a second: slow heads and bodies get a
    // 408, idle keep-alive connections and finished lingers are closed.
    std::vector<std::shared_ptr<Connection>> live;
    while (!stopping_.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        live.clear();
        {
            std::lock_guard lock(impl_->core->registry_mu);
            live.reserve(impl_->core->registry.size());
            for (const auto& [id, weak] : impl_->core->registry) {
                if (auto c = weak.lock()) live.push_back(std::move(c));
            }
        }
        auto now = std::chrono::steady_clock::now();
        for (const auto& c : live)
            c->tick(now);
    }
}

void HttpServer::stop() {
    if (!impl_) return;
    stopping_.store(true);
    if (reaper_.joinable()) reaper_.join();
    impl_->listener->shutdown();
    impl_->listener.reset();
    impl_->core->continuations.stop();
    impl_.reset();
}

}  // namespace modelgate::core::http

#include "http/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pistache/peer.h>
#include <sys/socket.h>

#include <filesystem>
#include <sstream>

#include "http/connection.hpp"
#include "http/responses.hpp"
#include "util/crypto.hpp"
#include "util/log.hpp"

namespace modelgate::core::http {

std::string header_value(const Pistache::Http::Request& request, const std::string& name) {
    const auto& headers = request.headers();
    if (auto raw = headers.tryGetRaw(name)) return raw->value();
    if (auto typed = headers.tryGet(name)) {
        std::ostringstream os;
        typed->write(os);
        return os.str();
    }
    return {};
}

namespace {

class GatewayHandler : public Pistache::Http::Handler {
  public:
    HTTP_PROTOTYPE(GatewayHandler)

    explicit GatewayHandler(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}

    void onRequest(const Pistache::Http::Request& request,
                   Pistache::Http::ResponseWriter writer) override {
        std::string_view path = request.resource();
        const std::string& base = state_->base_path;
        if (!base.empty() && path.substr(0, base.size()) == base &&
            (path.size() == base.size() || path[base.size()] == '/')) {
            path.remove_prefix(base.size());
            if (path.empty()) path = "/";
        }
        const modelgate::core::http::Handler* handler = nullptr;
        PathParams params;
        std::string method = Pistache::Http::methodString(request.method());
        auto match = state_->router.match(method, path, handler, params);
        if (state_->draining.load() && path != "/healthz") {
            send_error(writer,
                       make_error(ErrorCode::unavailable,
                                  "The gateway is shutting down; retry on another instance.",
                                  "shutting_down"),
                       {{"Connection", "close"}, {"Retry-After", "1"}});
            return;
        }
        if (match == Router::Match::not_found) {
            send_error(writer, make_error(ErrorCode::not_found,
                                          "No route for " + method + " " + std::string(path),
                                          "route_not_found"));
            return;
        }
        if (match == Router::Match::method_not_allowed) {
            send_json(writer, 405,
                      error_body(
                          make_error(ErrorCode::invalid_request,
                                     "Method " + method + " is not allowed on " + std::string(path),
                                     "method_not_allowed")));
            return;
        }
        // Pistache answers "Connection: Close" to HTTP/1.1 requests without a
        // Connection header; HTTP/1.1 means keep-alive unless said otherwise.
        if (request.version() == Pistache::Http::Version::Http11 &&
            !request.headers().has<Pistache::Http::Header::Connection>()) {
            writer.headers().remove<Pistache::Http::Header::Connection>();
            writer.headers().add<Pistache::Http::Header::Connection>(
                Pistache::Http::ConnectionControl::KeepAlive);
        }
        RequestContext ctx{request, path, std::move(params),
                           state_->ip_resolver.resolve(request.address().host(),
                                                       header_value(request, "X-Forwarded-For"),
                                                       header_value(request, "X-Real-IP"))};
        try {
            (*handler)(ctx, writer);
        } catch (const std::exception& e) {
            fail(ctx, writer, e.what(), method, path);
        } catch (...) {
            fail(ctx, writer, "unknown exception", method, path);
        }
    }

    void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
        if (!peer) return;
        if (auto data = peer->tryGetData("modelgate.connection")) {
            std::static_pointer_cast<ClientConnection>(data)->mark_closed();
        }
    }

  private:
    void fail(const RequestContext& ctx, Pistache::Http::ResponseWriter& writer, const char* what,
              const std::string& method, std::string_view path) {
        state_->handler_errors.fetch_add(1);
        std::string id = crypto::random_hex(6);
        MG_ERROR("http", "handler for " << method << " " << path << " failed (request " << id
                                        << "): " << what);
        if (!ctx.writer_moved) {  // still ours: not yet handed to another thread
            send_error(writer,
                       make_error(ErrorCode::internal, "Internal error (request id " + id + ")",
                                  "internal_error"));
        }
    }

    std::shared_ptr<ServerState> state_;
};

}  // namespace

HttpServer::HttpServer(ServerOptions options, std::shared_ptr<ServerState> state)
    : options_(std::move(options)), state_(std::move(state)) {
    state_->base_path = options_.base_path;
}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::start() {
    Pistache::Address addr(options_.host, Pistache::Port(options_.port));
    endpoint_ = std::make_unique<Pistache::Http::Endpoint>(addr);
    auto opts = Pistache::Http::Endpoint::options()
                    .threads(static_cast<int>(options_.threads))
                    .threadsName("mg-http")
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    .backlog(4096)
                    .maxRequestSize(options_.max_request_bytes)
                    .maxResponseSize(64u << 20);
    endpoint_->init(opts);
    endpoint_->setHandler(Pistache::Http::make_handler<GatewayHandler>(state_));
    try {
        endpoint_->serveThreaded();
    } catch (const std::exception& e) {
        endpoint_.reset();
        throw std::runtime_error("cannot listen on " + options_.host + ":" +
                                 std::to_string(options_.port) + ": " + e.what());
    }
    port_ = static_cast<uint16_t>(endpoint_->getPort());
    widen_backlog(port_, 4096);
}

void HttpServer::widen_backlog(uint16_t port, int backlog) {
    // Pistache 0.0.5 does not pass its backlog option to listen() and keeps the
    // default of 128, which drops connections under bursts. Calling listen()
    // again on a listening socket only changes its backlog (Linux).
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        int fd = -1;
        try {
            fd = std::stoi(entry.path().filename().string());
        } catch (...) {
            continue;
        }
        int listening = 0;
        socklen_t len = sizeof listening;
        if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0)
            continue;
        sockaddr_storage addr{};
        socklen_t alen = sizeof addr;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
        uint16_t bound = 0;
        if (addr.ss_family == AF_INET)
            bound = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
        else if (addr.ss_family == AF_INET6)
            bound = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
        if (bound == port && ::listen(fd, backlog) == 0) {
            MG_DEBUG("http", "listen backlog of port " << port << " set to " << backlog);
        }
    }
}

void HttpServer::stop() {
    if (endpoint_) {
        endpoint_->shutdown();
        endpoint_.reset();
    }
}

}  // namespace modelgate::core::http

// The HTTP server: a Pistache endpoint whose reactor threads parse requests,
// route them, and hand off. Handlers never block these threads; work that
// touches the database goes to the worker pool and answers later through the
// moved ResponseWriter. Every handler runs behind an exception barrier that
// answers 500 with a request id.
#pragma once

#include <pistache/endpoint.h>

#include <atomic>
#include <memory>
#include <string>

#include "http/client_ip.hpp"
#include "http/router.hpp"

namespace modelgate::core::http {

struct ServerOptions {
    std::string host = "0.0.0.0";
    uint16_t port = 8765;
    std::size_t threads = 2;
    std::size_t max_request_bytes = 17u << 20;
    std::string base_path;  // also served with this prefix
};

struct ServerState {
    Router router;
    ClientIpResolver ip_resolver;
    std::string base_path;
    std::atomic<bool> draining{false};
    std::atomic<uint64_t> handler_errors{0};
    explicit ServerState(const std::vector<std::string>& trusted) : ip_resolver(trusted) {}
};

class HttpServer {
  public:
    HttpServer(ServerOptions options, std::shared_ptr<ServerState> state);
    ~HttpServer();

    // Binds and starts the reactor threads; throws with a readable message when
    // the address cannot be bound.
    void start();
    void stop();
    uint16_t port() const { return port_; }
    ServerState& state() { return *state_; }

  private:
    static void widen_backlog(uint16_t port, int backlog);

    ServerOptions options_;
    std::shared_ptr<ServerState> state_;
    std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
    uint16_t port_ = 0;
};

// Reads a request header whether Pistache parsed it into a typed header or kept
// it raw. Empty when absent.
std::string header_value(const Pistache::Http::Request& request, const std::string& name);

}  // namespace modelgate::core::http

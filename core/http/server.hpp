// The HTTP server: Pistache's TCP listener and reactor threads carry the bytes;
// the gateway's own HTTP/1.1 layer (request_parser, connection) frames the
// requests and writes the answers, because Pistache 0.0.5's HTTP layer cannot
// be made to bound what it buffers, answer pipelined requests, honour
// "Connection: close" or "Expect: 100-continue", or refuse ambiguous framing.
// Reactor threads parse, route, admit and hand off; they never block. Every
// handler runs behind an exception barrier that answers 500 with a request id.
// Nothing outside http/ sees a Pistache type.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/client_ip.hpp"
#include "http/request_parser.hpp"
#include "http/router.hpp"

namespace modelgate::core::http {

struct ServerOptions {
    std::string host = "0.0.0.0";
    uint16_t port = 8765;
    std::size_t threads = 2;
    std::string base_path;  // also served with this prefix
    // Body bounds: callers a route's admit step vouched for get max_body_bytes
    // (or the route's own), everybody else anonymous_body_bytes.
    std::size_t max_body_bytes = 16u << 20;
    std::size_t anonymous_body_bytes = 64u << 10;
    std::size_t max_connections = 16384;
    // Request bodies and pipelined input held at once, across all connections.
    std::size_t max_buffered_bytes = 256u << 20;
    // Input that may wait per connection behind a request being answered.
    std::size_t max_pipelined_bytes = 64u << 10;
    // A refused request's body up to this size is read and dropped so the
    // connection stays usable; larger ones close it.
    std::size_t discard_body_bytes = 64u << 10;
    std::chrono::milliseconds header_timeout{30000};      // first byte to the end of the head
    std::chrono::milliseconds body_timeout{60000};        // longest pause while a body arrives
    std::chrono::milliseconds keep_alive_timeout{75000};  // idle between requests
    std::chrono::milliseconds linger{2000};               // reading (and dropping) after our FIN
    ParseLimits parse;
};

struct ServerState {
    Router router;
    ClientIpResolver ip_resolver;
    std::string base_path;
    std::atomic<bool> draining{false};
    std::atomic<uint64_t> handler_errors{0};
    std::atomic<uint64_t> connections_open{0};
    std::atomic<uint64_t> connections_refused{0};  // over max_connections
    std::atomic<uint64_t> requests_refused{0};     // framing errors, limits, timeouts
    std::atomic<uint64_t> buffered_bytes{0};
    explicit ServerState(const std::vector<std::string>& trusted) : ip_resolver(trusted) {}
};

class HttpServer {
  public:
    HttpServer(ServerOptions options, std::shared_ptr<ServerState> state);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and starts the reactor threads; throws with a readable message when
    // the address cannot be bound.
    void start();
    void stop();
    uint16_t port() const { return port_; }
    ServerState& state() { return *state_; }

  private:
    struct Impl;
    void reap();

    ServerOptions options_;
    std::shared_ptr<ServerState> state_;
    std::unique_ptr<Impl> impl_;
    uint16_t port_ = 0;
    std::thread reaper_;
    std::atomic<bool> stopping_{false};
};

}  // namespace modelgate::core::http

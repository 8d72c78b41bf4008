#include "proxy/client_sink.hpp"

#include <cstdio>

namespace modelgate::core::proxy {

void HttpClientSink::respond(int status, const std::string& body, const http::HeaderList& headers) {
    // Serialized here and written through the connection (see ClientConnection::
    // write), not through Pistache's ResponseWriter, which would cost a hop to
    // the reactor thread for every answer.
    std::string out;
    out.reserve(body.size() + 256);
    out.append("HTTP/1.1 ").append(std::to_string(status)).push_back(' ');
    out.append(http::reason_phrase(status)).append("\r\n");
    out.append(
        "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nCache-Control: "
        "no-store\r\n");
    out.append(keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    for (const auto& [k, v] : headers)
        out.append(k).append(": ").append(v).append("\r\n");
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
    out.append(body);
    connection_->write(std::move(out), nullptr);
}

bool HttpClientSink::start_stream(const http::HeaderList& headers) {
    std::string head =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-cache\r\n"
        "Connection: keep-alive\r\n"
        "X-Accel-Buffering: no\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Transfer-Encoding: chunked\r\n";
    for (const auto& [k, v] : headers)
        head += k + ": " + v + "\r\n";
    head += "\r\n";
    return connection_->write(std::move(head), nullptr);
}

bool HttpClientSink::stream_write(std::string bytes, std::function<void(bool)> done) {
    if (bytes.empty()) return true;
    char size[24];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    std::string chunk;
    chunk.reserve(bytes.size() + static_cast<std::size_t>(n) + 2);
    chunk.append(size, static_cast<std::size_t>(n)).append(bytes).append("\r\n");
    return connection_->write(std::move(chunk), std::move(done));
}

void HttpClientSink::end_stream() {
    connection_->write("0\r\n\r\n", nullptr);
}

void InternalClientSink::respond(int status, const std::string& body, const http::HeaderList&) {
    if (answered_) return;
    answered_ = true;
    promise_.set_value({status, body});
}

}  // namespace modelgate::core::proxy

// A raw TCP client for front-door tests: sends exactly the bytes a test gives
// (malformed framing, pipelined requests, bodies pushed slowly) and reads back
// answers, noticing when the server closes the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace modelgate::test {

struct RawResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;                            // de-chunked
    bool chunked = false;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

class RawClient {
  public:
    explicit RawClient(uint16_t port);
    ~RawClient();
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connected() const { return fd_ >= 0; }
    // Sends all bytes; false when the server closed or reset the connection.
    bool send(std::string_view bytes);
    // Reads until n whole responses arrived (or the timeout / the server closed).
    std::vector<RawResponse> read_responses(
        std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Reads one response whose body is delimited by the end of the connection.
    RawResponse read_until_close(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // True when the server closed the connection within the timeout (EOF or reset).
    bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Bytes received but not yet consumed as responses.
    const std::string& pending() const { return buf_; }
    // Reads what arrives within the timeout, without waiting for more.
    std::string read_some(std::chrono::milliseconds timeout);

  private:
    bool fill(std::chrono::steady_clock::time_point deadline);
    bool try_parse(RawResponse& out);

    int fd_ = -1;
    std::string buf_;
    bool eof_ = false;
};

// One GET through a new connection: the status and how long it took, or -1.
struct Timed {
    int status = -1;
    double ms = 0;
};
Timed timed_get(uint16_t port, const std::string& path,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace modelgate::test

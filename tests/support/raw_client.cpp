#include "support/raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace modelgate::test {

RawClient::RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd_);
        fd_ = -1;
        return;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

namespace {

// The header lines after the status line of a response head, names in lower case.
void read_headers(const std::string& head, RawResponse& r) {
    std::size_t pos = 0;
    while ((pos = head.find("\r\n", pos)) != std::string::npos) {
        pos += 2;
        std::size_t next = head.find("\r\n", pos);
        std::string line =
            head.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
            value.erase(0, 1);
        r.headers[name] = value;
    }
}

}  // namespace

RawClient::~RawClient() {
    if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(std::string_view bytes) {
    while (!bytes.empty()) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, 10000) <= 0) return false;
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool RawClient::fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(0, left))) <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
}

bool RawClient::try_parse(RawResponse& out) {
    std::size_t end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    RawResponse r;
    std::string head = buf_.substr(0, end);
    std::size_t pos = head.find("\r\n");
    std::string status_line = head.substr(0, pos);
    if (status_line.size() < 12) return false;
    r.status = std::atoi(status_line.c_str() + 9);
    read_headers(head, r);
    std::size_t body_start = end + 4;
    if (r.status == 100) {  // interim: its own "response"
        buf_.erase(0, body_start);
        out = r;
        return true;
    }
    if (r.header("transfer-encoding") == "chunked") {
        r.chunked = true;
        std::size_t p = body_start;
        for (;;) {
            std::size_t nl = buf_.find("\r\n", p);
            if (nl == std::string::npos) return false;
            std::size_t size = std::strtoul(buf_.substr(p, nl - p).c_str(), nullptr, 16);
            if (buf_.size() < nl + 2 + size + 2) return false;
            if (size == 0) {
                buf_.erase(0, nl + 4);
                break;
            }
            r.body.append(buf_, nl + 2, size);
            p = nl + 2 + size + 2;
        }
    } else {
        std::size_t length = std::strtoul(r.header("content-length").c_str(), nullptr, 10);
        if (buf_.size() < body_start + length) return false;
        r.body = buf_.substr(body_start, length);
        buf_.erase(0, body_start + length);
    }
    out = std::move(r);
    return true;
}

std::vector<RawResponse> RawClient::read_responses(std::size_t n,
                                                   std::chrono::milliseconds timeout) {
    std::vector<RawResponse> out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < n) {
        RawResponse r;
        if (try_parse(r)) {
            out.push_back(std::move(r));
            continue;
        }
        if (!fill(deadline)) break;
    }
    return out;
}

RawResponse RawClient::read_until_close(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    RawResponse r;
    std::size_t end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) return r;
    std::string head = buf_.substr(0, end);
    r.status = std::atoi(head.c_str() + 9);
    read_headers(head, r);
    r.body = buf_.substr(end + 4);
    buf_.clear();
    return r;
}

bool RawClient::closed_by_server(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_) {
        if (!fill(deadline) && !eof_) return false;
    }
    return true;
}

std::string RawClient::read_some(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t before = buf_.size();
    fill(deadline);
    return buf_.substr(before);
}

Timed timed_get(uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
    auto t0 = std::chrono::steady_clock::now();
    RawClient c(port);
    Timed t;
    if (!c.connected()) return t;
    c.send("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    auto r = c.read_responses(1, timeout);
    t.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!r.empty()) t.status = r[0].status;
    return t;
}

}  // namespace modelgate::test

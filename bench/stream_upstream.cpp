// stream_upstream: a tiny single-process, epoll-based HTTP/1.1 server that plays an
// OpenAI-compatible upstream answering every POST with a paced SSE chat stream.
//
//   g++ -O2 -std=c++20 -o bench/out/stream_upstream bench/stream_upstream.cpp
//   bench/out/stream_upstream --port 0 --chunks 20 --interval-ms 50
//
// Per request: "HTTP/1.1 200", text/event-stream, chunked. The head and the first
// chunk (delta {"role":"assistant","content":"tok "}) go out at once; every
// --interval-ms another content chunk follows until --chunks content chunks were sent;
// one interval later the finish chunk (finish_reason "stop"), the usage chunk
// (choices [] + usage), "data: [DONE]" and the terminating 0-size chunk go out together.
// A stream therefore lasts chunks * interval-ms. Keep-alive and pipelining are honoured.
// GET answers a small /v1/models-style JSON. With --port 0 the chosen port is printed as
// "PORT <n>" on stdout. Pacing uses a min-heap of deadlines driving epoll_wait timeouts.
// Stops on SIGINT/SIGTERM.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

struct Options {
    int port = 0;
    int chunks = 20;
    int interval_ms = 50;
    int backlog = 65535;
};

enum class State { ReadHead, ReadBody, Streaming, Closing };

struct Conn {
    int fd = -1;
    uint64_t gen = 0;      // bumps on every reuse of the slot so stale timers are ignored
    State state = State::ReadHead;
    std::string in;        // unparsed input
    std::string out;       // pending output
    size_t out_off = 0;
    bool want_out = false; // EPOLLOUT registered
    bool keep_alive = true;
    bool chunked_req = false;
    size_t body_need = 0;  // Content-Length still to read
    int sent = 0;          // content chunks sent
    uint64_t stream_no = 0;
    std::string model;
    bool is_post = false;
};

struct Timer {
    int64_t at;
    int fd;
    uint64_t gen;
    bool operator>(const Timer& o) const { return at > o.at; }
};

class Server {
public:
    explicit Server(Options o) : opt_(o) {}

    int run() {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) { perror("epoll_create1"); return 1; }
        lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (lfd_ < 0) { perror("socket"); return 1; }
        int one = 1;
        setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(opt_.port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) { perror("bind"); return 1; }
        if (listen(lfd_, opt_.backlog) < 0) { perror("listen"); return 1; }
        socklen_t al = sizeof a;
        getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &al);
        std::printf("PORT %d\n", ntohs(a.sin_port));
        std::fflush(stdout);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = lfd_;
        epoll_ctl(ep_, EPOLL_CTL_ADD, lfd_, &ev);

        std::vector<epoll_event> evs(4096);
        while (!g_stop) {
            int timeout = -1;
            if (!timers_.empty()) {
                int64_t d = timers_.top().at - now_ms();
                timeout = d < 0 ? 0 : static_cast<int>(d);
            }
            if (timeout < 0 || timeout > 500) timeout = 500;  // wake up to notice signals
            int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), timeout);
            if (n < 0) {
                if (errno == EINTR) continue;
                perror("epoll_wait");
                return 1;
            }
            for (int i = 0; i < n; ++i) {
                int fd = evs[i].data.fd;
                if (fd == lfd_) { accept_all(); continue; }
                auto it = conns_.find(fd);
                if (it == conns_.end()) continue;
                Conn& c = *it->second;
                uint32_t e = evs[i].events;
                if (e & (EPOLLERR)) { close_conn(c); continue; }
                if (e & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) {
                    if (!on_readable(c)) continue;  // closed
                }
                if (e & EPOLLOUT) {
                    if (!flush(c)) continue;
                }
            }
            fire_timers();
        }
        return 0;
    }

private:
    void accept_all() {
        for (int k = 0; k < 4096; ++k) {
            int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
                if (errno == EMFILE || errno == ENFILE) {
                    std::fprintf(stderr, "stream_upstream: accept: %s (open=%zu)\n", std::strerror(errno), conns_.size());
                    return;
                }
                if (errno == ECONNABORTED) continue;
                perror("accept4");
                return;
            }
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            auto c = std::make_unique<Conn>();
            c->fd = fd;
            c->gen = ++gen_;
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP;
            ev.data.fd = fd;
            if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) { ::close(fd); continue; }
            conns_[fd] = std::move(c);
        }
    }

    void close_conn(Conn& c) {
        int fd = c.fd;
        epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        conns_.erase(fd);  // destroys c
    }

    void set_want_out(Conn& c, bool on) {
        if (c.want_out == on) return;
        c.want_out = on;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
        ev.data.fd = c.fd;
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    // Returns false when the connection was closed.
    bool flush(Conn& c) {
        while (c.out_off < c.out.size()) {
            ssize_t w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
            if (w > 0) { c.out_off += static_cast<size_t>(w); continue; }
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { set_want_out(c, true); return true; }
            if (w < 0 && errno == EINTR) continue;
            close_conn(c);
            return false;
        }
        c.out.clear();
        c.out_off = 0;
        set_want_out(c, false);
        if (c.state == State::Closing) { close_conn(c); return false; }
        return true;
    }

    bool on_readable(Conn& c) {
        char buf[16384];
        for (;;) {
            ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
            if (r > 0) {
                // While streaming we only buffer (pipelined requests wait their turn).
                c.in.append(buf, static_cast<size_t>(r));
                if (c.in.size() > (1u << 24)) { close_conn(c); return false; }
                continue;
            }
            if (r == 0) { close_conn(c); return false; }  // peer closed (also cancels a stream)
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            close_conn(c);
            return false;
        }
        return process_input(c);
    }

    static bool iequals_prefix(std::string_view line, std::string_view name) {
        if (line.size() < name.size()) return false;
        for (size_t i = 0; i < name.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i]))) return false;
        return true;
    }

    static std::string_view trim(std::string_view v) {
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
        return v;
    }

    static std::string extract_model(std::string_view body) {
        auto p = body.find("\"model\"");
        if (p == std::string_view::npos) return "gpt-stream";
        p = body.find(':', p + 7);
        if (p == std::string_view::npos) return "gpt-stream";
        p = body.find('"', p);
        if (p == std::string_view::npos) return "gpt-stream";
        auto q = body.find('"', p + 1);
        if (q == std::string_view::npos || q - p - 1 > 200) return "gpt-stream";
        std::string m(body.substr(p + 1, q - p - 1));
        for (char ch : m)
            if (ch == '\\' || static_cast<unsigned char>(ch) < 0x20) return "gpt-stream";
        return m;
    }

    // Parses as many complete requests as available (one at a time: a new request is
    // only started when the previous answer is finished). Returns false when closed.
    bool process_input(Conn& c) {
        for (;;) {
            if (c.state == State::Streaming || c.state == State::Closing) return true;
            if (c.state == State::ReadHead) {
                auto end = c.in.find("\r\n\r\n");
                if (end == std::string::npos) {
                    if (c.in.size() > 65536) { close_conn(c); return false; }
                    return true;
                }
                std::string_view head(c.in.data(), end);
                auto eol = head.find("\r\n");
                std::string_view reqline = head.substr(0, eol);
                c.keep_alive = reqline.find("HTTP/1.0") == std::string_view::npos;
                c.is_post = reqline.rfind("POST ", 0) == 0;
                c.body_need = 0;
                c.chunked_req = false;
                bool expect100 = false;
                size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
                while (pos < head.size()) {
                    auto e2 = head.find("\r\n", pos);
                    if (e2 == std::string_view::npos) e2 = head.size();
                    std::string_view line = head.substr(pos, e2 - pos);
                    pos = e2 + 2;
                    auto colon = line.find(':');
                    if (colon == std::string_view::npos) continue;
                    std::string_view val = trim(line.substr(colon + 1));
                    if (iequals_prefix(line, "content-length:")) {
                        c.body_need = std::strtoull(std::string(val).c_str(), nullptr, 10);
                    } else if (iequals_prefix(line, "transfer-encoding:")) {
                        if (val.find("chunked") != std::string_view::npos) c.chunked_req = true;
                    } else if (iequals_prefix(line, "connection:")) {
                        if (iequals_prefix(val, "close")) c.keep_alive = false;
                        if (iequals_prefix(val, "keep-alive")) c.keep_alive = true;
                    } else if (iequals_prefix(line, "expect:")) {
                        if (iequals_prefix(val, "100-continue")) expect100 = true;
                    }
                }
                c.in.erase(0, end + 4);
                c.state = State::ReadBody;
                if (expect100) {
                    c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
                    if (!flush(c)) return false;
                }
            }
            if (c.state == State::ReadBody) {
                std::string body;
                if (c.chunked_req) {
                    // Minimal: wait for the terminating chunk and take everything before it.
                    auto t = c.in.find("\r\n0\r\n\r\n");
                    size_t term_len = 7;
                    if (c.in.rfind("0\r\n\r\n", 0) == 0) { t = 0; term_len = 5; }
                    if (t == std::string::npos) return true;
                    body = c.in.substr(0, t);
                    c.in.erase(0, t + term_len);
                } else {
                    if (c.in.size() < c.body_need) return true;
                    body = c.in.substr(0, c.body_need);
                    c.in.erase(0, c.body_need);
                }
                if (c.is_post) {
                    c.model = extract_model(body);
                    start_stream(c);
                    if (!flush(c)) return false;
                } else {
                    static const std::string models =
                        "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-stream\",\"object\":\"model\",\"created\":1764165600,\"owned_by\":\"bench\"}]}";
                    c.out.append("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ");
                    c.out.append(std::to_string(models.size()));
                    c.out.append(c.keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
                    c.out.append(models);
                    c.state = c.keep_alive ? State::ReadHead : State::Closing;
                    if (!flush(c)) return false;
                }
            }
        }
    }

    static void append_chunk(std::string& out, std::string_view data) {
        char hex[32];
        int n = std::snprintf(hex, sizeof hex, "%zx\r\n", data.size());
        out.append(hex, static_cast<size_t>(n));
        out.append(data);
        out.append("\r\n");
    }

    std::string chunk_json(const Conn& c, std::string_view delta, std::string_view finish) const {
        std::string s;
        s.reserve(256);
        s.append("data: {\"id\":\"chatcmpl-stream-");
        s.append(std::to_string(c.stream_no));
        s.append("\",\"object\":\"chat.completion.chunk\",\"created\":1764165600,\"model\":\"");
        s.append(c.model);
        s.append("\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":");
        s.append(delta);
        s.append(",\"logprobs\":null,\"finish_reason\":");
        s.append(finish);
        s.append("}]}\n\n");
        return s;
    }

    void start_stream(Conn& c) {
        c.state = State::Streaming;
        c.stream_no = ++streams_;
        c.sent = 0;
        c.out.append("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n");
        c.out.append(c.keep_alive ? "\r\n" : "Connection: close\r\n\r\n");
        if (opt_.chunks > 0) {
            append_chunk(c.out, chunk_json(c, R"({"role":"assistant","content":"tok "})", "null"));
            c.sent = 1;
        }
        timers_.push(Timer{now_ms() + opt_.interval_ms, c.fd, c.gen});
    }

    void tick(Conn& c) {
        if (c.sent < opt_.chunks) {
            append_chunk(c.out, chunk_json(c, R"({"content":"tok "})", "null"));
            ++c.sent;
            timers_.push(Timer{now_ms() + opt_.interval_ms, c.fd, c.gen});
        } else {
            append_chunk(c.out, chunk_json(c, "{}", "\"stop\""));
            std::string usage = "data: {\"id\":\"chatcmpl-stream-" + std::to_string(c.stream_no) +
                                "\",\"object\":\"chat.completion.chunk\",\"created\":1764165600,\"model\":\"" + c.model +
                                "\",\"system_fingerprint\":\"fp_bench\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":" +
                                std::to_string(opt_.chunks) + ",\"total_tokens\":" + std::to_string(9 + opt_.chunks) + "}}\n\n";
            append_chunk(c.out, usage);
            append_chunk(c.out, "data: [DONE]\n\n");
            c.out.append("0\r\n\r\n");
            c.state = c.keep_alive ? State::ReadHead : State::Closing;
        }
        if (!flush(c)) return;
        if (c.state == State::ReadHead && !c.in.empty()) process_input(c);
    }

    void fire_timers() {
        int64_t now = now_ms();
        while (!timers_.empty() && timers_.top().at <= now) {
            Timer t = timers_.top();
            timers_.pop();
            auto it = conns_.find(t.fd);
            if (it == conns_.end() || it->second->gen != t.gen || it->second->state != State::Streaming) continue;
            tick(*it->second);
        }
    }

    Options opt_;
    int ep_ = -1;
    int lfd_ = -1;
    uint64_t gen_ = 0;
    uint64_t streams_ = 0;
    std::unordered_map<int, std::unique_ptr<Conn>> conns_;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
};

void raise_nofile() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

void usage() {
    std::fprintf(stderr, "usage: stream_upstream [--port P] [--chunks N] [--interval-ms T]\n");
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) { usage(); std::exit(2); }
            return argv[++i];
        };
        if (a == "--port") o.port = std::atoi(next());
        else if (a == "--chunks") o.chunks = std::atoi(next());
        else if (a == "--interval-ms") o.interval_ms = std::atoi(next());
        else if (a == "--help" || a == "-h") { usage(); return 0; }
        else { usage(); return 2; }
    }
    if (o.chunks < 0 || o.interval_ms < 0 || o.port < 0 || o.port > 65535) { usage(); return 2; }
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    Server s(o);
    return s.run();
}

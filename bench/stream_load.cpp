// stream_load: epoll-based load client that opens C concurrent OpenAI streaming chat
// requests, each on its own connection, and checks every stream end to end.
//
//   g++ -O2 -std=c++20 -o bench/out/stream_load bench/stream_load.cpp
//   bench/out/stream_load --port 8765 --key sk-... --model stream/gpt-stream --concurrency 10000
//
// Per stream it records the HTTP status, TTFB (request fully written -> first response
// body byte), whether "data: [DONE]" arrived before the terminating 0-size chunk, and
// an error kind: connect (failed connect), reset (ECONNRESET/EPIPE or EOF mid-answer),
// http_<status> (non-200), missing_done (clean end without [DONE]), sse_error (an
// {"error":...} event), parse (malformed HTTP), timeout (not finished by --timeout-s).
// Distributions over completed streams: ttfb_ms, headers_ms (request written -> response
// head), connect_ms (connect start -> connected), stream_ms (connect start -> end) and
// first_byte_to_end_ms.
// Prints one JSON summary on stdout. The whole run is bounded by --timeout-s.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Options {
    std::string host = "127.0.0.1";
    int port = 8765;
    std::string path = "/v1/chat/completions";
    std::string key = "sk-bench";
    std::string model = "gpt-stream";
    int concurrency = 100;
    double timeout_s = 60;
    int ramp_ms = 1000;
};

enum class Phase { Idle, Connecting, Writing, ReadHead, ReadChunkSize, ReadChunkData, ReadChunkCrlf, ReadTrailer, ReadLength, ReadToClose, Done };

struct Stream {
    int fd = -1;
    Phase phase = Phase::Idle;
    size_t out_off = 0;
    std::string in;           // unparsed bytes (head, chunk-size lines)
    std::string line;         // partial SSE line
    Clock::time_point t_start{}, t_conn{}, t_sent{}, t_head{}, t_first{}, t_end{};
    bool got_first = false;
    bool done_seen = false;
    bool sse_error = false;
    int status = 0;
    size_t remaining = 0;     // bytes left in the current chunk / content-length body
    uint64_t data_events = 0;
    std::string error;        // empty = success
    std::string body_sample;  // first bytes of a non-200 body / error event
};

std::string json_escape(std::string_view s) {
    std::string o;
    for (char ch : s) {
        unsigned char u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') { o += '\\'; o += ch; }
        else if (ch == '\n') o += "\\n";
        else if (ch == '\r') o += "\\r";
        else if (ch == '\t') o += "\\t";
        else if (u < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", u); o += b; }
        else o += ch;
    }
    return o;
}

class Load {
public:
    explicit Load(Options o) : opt_(std::move(o)) {}

    int run() {
        if (!resolve()) return 2;
        std::string body = "{\"model\":\"" + json_escape(opt_.model) +
                           "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        request_ = "POST " + opt_.path + " HTTP/1.1\r\nHost: " + opt_.host + ":" + std::to_string(opt_.port) +
                   "\r\nUser-Agent: modelgate-stream-load/1\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + opt_.key +
                   "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\n\r\n" + body;

        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) { perror("epoll_create1"); return 2; }
        streams_.resize(static_cast<size_t>(opt_.concurrency));
        t0_ = Clock::now();
        auto deadline = t0_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt_.timeout_s));
        size_t started = 0;
        size_t n = streams_.size();
        std::vector<epoll_event> evs(4096);
        while (finished_ < n) {
            auto now = Clock::now();
            if (now >= deadline) break;
            // Ramp: by elapsed time e, start C * e / ramp streams.
            size_t target = n;
            if (opt_.ramp_ms > 0) {
                double e = ms_since(t0_, now);
                target = std::min(n, static_cast<size_t>(std::floor(static_cast<double>(n) * e / opt_.ramp_ms)) + 1);
            }
            while (started < target) start(started++);
            int timeout = 50;
            if (started < n) timeout = 1;
            int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
            if (left < timeout) timeout = std::max(0, left);
            int k = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), timeout);
            if (k < 0) {
                if (errno == EINTR) continue;
                perror("epoll_wait");
                break;
            }
            for (int i = 0; i < k; ++i) on_event(streams_[evs[i].data.u64], evs[i].events);
        }
        auto t_stop = Clock::now();
        for (auto& s : streams_) {
            if (s.phase != Phase::Done) finish(s, "timeout");
        }
        report(ms_since(t0_, t_stop) / 1000.0);
        return 0;
    }

private:
    bool resolve() {
        addrinfo hints{};
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        int rc = getaddrinfo(opt_.host.c_str(), std::to_string(opt_.port).c_str(), &hints, &res);
        if (rc != 0 || !res) {
            std::fprintf(stderr, "stream_load: cannot resolve %s: %s\n", opt_.host.c_str(), gai_strerror(rc));
            return false;
        }
        std::memcpy(&addr_, res->ai_addr, sizeof addr_);
        freeaddrinfo(res);
        return true;
    }

    void start(size_t idx) {
        Stream& s = streams_[idx];
        s.t_start = Clock::now();
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            s.body_sample = std::string("socket: ") + std::strerror(errno);
            finish(s, "connect");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s.fd = fd;
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = idx;
        if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) {
            s.body_sample = std::string("epoll_ctl: ") + std::strerror(errno);
            finish(s, "connect");
            return;
        }
        int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_);
        if (rc < 0 && errno != EINPROGRESS && errno != EAGAIN && errno != EINTR) {
            s.body_sample = std::string("connect: ") + std::strerror(errno);
            finish(s, "connect");
            return;
        }
        s.phase = Phase::Connecting;
    }

    void set_events(Stream& s, uint32_t e, size_t idx) {
        epoll_event ev{};
        ev.events = e;
        ev.data.u64 = idx;
        epoll_ctl(ep_, EPOLL_CTL_MOD, s.fd, &ev);
    }

    void finish(Stream& s, const char* err) {
        if (s.phase == Phase::Done) return;
        if (err) s.error = err;
        s.t_end = Clock::now();
        if (s.fd >= 0) {
            epoll_ctl(ep_, EPOLL_CTL_DEL, s.fd, nullptr);
            ::close(s.fd);
            s.fd = -1;
        }
        s.phase = Phase::Done;
        s.in.clear();
        s.in.shrink_to_fit();
        s.line.clear();
        s.line.shrink_to_fit();
        ++finished_;
    }

    void on_event(Stream& s, uint32_t e) {
        if (s.phase == Phase::Done) return;
        size_t idx = static_cast<size_t>(&s - streams_.data());
        if (s.phase == Phase::Connecting) {
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &l);
            if (err != 0) {
                s.body_sample = std::string("connect: ") + std::strerror(err);
                finish(s, "connect");
                return;
            }
            if (!(e & EPOLLOUT)) {
                if (e & (EPOLLERR | EPOLLHUP)) { finish(s, "connect"); }
                return;
            }
            s.t_conn = Clock::now();
            s.phase = Phase::Writing;
        }
        if (s.phase == Phase::Writing) {
            while (s.out_off < request_.size()) {
                ssize_t w = ::send(s.fd, request_.data() + s.out_off, request_.size() - s.out_off, MSG_NOSIGNAL);
                if (w > 0) { s.out_off += static_cast<size_t>(w); continue; }
                if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
                if (w < 0 && errno == EINTR) continue;
                s.body_sample = std::string("send: ") + std::strerror(errno);
                finish(s, "reset");
                return;
            }
            s.t_sent = Clock::now();
            s.phase = Phase::ReadHead;
            set_events(s, EPOLLIN | EPOLLRDHUP, idx);
        }
        if (e & (EPOLLIN | EPOLLHUP | EPOLLRDHUP | EPOLLERR)) read_all(s);
    }

    void read_all(Stream& s) {
        char buf[16384];
        for (;;) {
            ssize_t r = ::recv(s.fd, buf, sizeof buf, 0);
            if (r > 0) {
                if (!feed(s, buf, static_cast<size_t>(r))) return;  // finished
                continue;
            }
            if (r == 0) { on_eof(s); return; }
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            s.body_sample = std::string("recv: ") + std::strerror(errno);
            finish(s, "reset");
            return;
        }
    }

    void on_eof(Stream& s) {
        if (s.phase == Phase::ReadToClose) { end_ok(s); return; }
        if (s.status != 0 && s.status != 200) { finish(s, nullptr); classify_non200(s); return; }
        s.body_sample = "EOF in phase " + std::to_string(static_cast<int>(s.phase));
        finish(s, "reset");
    }

    void classify_non200(Stream& s) { s.error = "http_" + std::to_string(s.status); }

    // The response ended cleanly (terminating chunk, full Content-Length, or EOF).
    void end_ok(Stream& s) {
        if (s.status != 200) { finish(s, nullptr); classify_non200(s); return; }
        if (!s.line.empty()) sse_line(s, s.line);
        if (s.sse_error) { finish(s, "sse_error"); return; }
        if (!s.done_seen) { finish(s, "missing_done"); return; }
        finish(s, nullptr);
    }

    void sse_line(Stream& s, std::string_view l) {
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (l.rfind("data:", 0) != 0) return;
        std::string_view d = l.substr(5);
        if (!d.empty() && d.front() == ' ') d.remove_prefix(1);
        ++s.data_events;
        if (d == "[DONE]") { s.done_seen = true; return; }
        if (d.rfind("{\"error\"", 0) == 0) {
            s.sse_error = true;
            if (s.body_sample.empty()) s.body_sample = std::string(d.substr(0, 300));
        }
    }

    void body_bytes(Stream& s, const char* p, size_t n) {
        if (n == 0) return;
        if (!s.got_first) { s.got_first = true; s.t_first = Clock::now(); }
        if (s.status != 200) {
            if (s.body_sample.size() < 300) s.body_sample.append(p, std::min(n, 300 - s.body_sample.size()));
            return;
        }
        size_t start = 0;
        for (size_t i = 0; i < n; ++i) {
            if (p[i] == '\n') {
                if (s.line.empty()) sse_line(s, std::string_view(p + start, i - start));
                else {
                    s.line.append(p + start, i - start);
                    sse_line(s, s.line);
                    s.line.clear();
                }
                start = i + 1;
            }
        }
        if (start < n) {
            s.line.append(p + start, n - start);
            if (s.line.size() > (1u << 20)) s.line.erase(0, s.line.size() - 4096);
        }
    }

    static bool ieq_prefix(std::string_view a, std::string_view b) {
        if (a.size() < b.size()) return false;
        for (size_t i = 0; i < b.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
        return true;
    }

    // Returns false when the stream was finished.
    bool feed(Stream& s, const char* p, size_t n) {
        if (s.phase == Phase::ReadHead) {
            s.in.append(p, n);
            auto end = s.in.find("\r\n\r\n");
            if (end == std::string::npos) {
                if (s.in.size() > 65536) { finish(s, "parse"); return false; }
                return true;
            }
            s.t_head = Clock::now();
            std::string_view head(s.in.data(), end);
            if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) { finish(s, "parse"); return false; }
            s.status = std::atoi(std::string(head.substr(9, 3)).c_str());
            if (s.status == 100) {  // interim answer: drop it and wait for the real head
                s.in.erase(0, end + 4);
                std::string rest = std::move(s.in);
                s.in.clear();
                return rest.empty() ? true : feed(s, rest.data(), rest.size());
            }
            bool chunked = false;
            long long clen = -1;
            size_t pos = head.find("\r\n");
            while (pos != std::string_view::npos && pos < head.size()) {
                pos += 2;
                auto e2 = head.find("\r\n", pos);
                std::string_view line = head.substr(pos, e2 == std::string_view::npos ? std::string_view::npos : e2 - pos);
                if (ieq_prefix(line, "transfer-encoding:") && line.find("chunked") != std::string_view::npos) chunked = true;
                if (ieq_prefix(line, "content-length:")) clen = std::atoll(std::string(line.substr(15)).c_str());
                pos = e2;
            }
            std::string rest = s.in.substr(end + 4);
            s.in.clear();
            if (chunked) s.phase = Phase::ReadChunkSize;
            else if (clen >= 0) {
                s.phase = Phase::ReadLength;
                s.remaining = static_cast<size_t>(clen);
                if (clen == 0) { end_ok(s); return false; }
            } else s.phase = Phase::ReadToClose;
            if (rest.empty()) return true;
            return feed(s, rest.data(), rest.size());
        }
        size_t i = 0;
        while (i < n) {
            switch (s.phase) {
            case Phase::ReadLength: {
                size_t take = std::min(s.remaining, n - i);
                body_bytes(s, p + i, take);
                i += take;
                s.remaining -= take;
                if (s.remaining == 0) { end_ok(s); return false; }
                break;
            }
            case Phase::ReadToClose:
                body_bytes(s, p + i, n - i);
                i = n;
                break;
            case Phase::ReadChunkSize: {
                const char* nl = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
                if (!nl) {
                    s.in.append(p + i, n - i);
                    if (s.in.size() > 1024) { finish(s, "parse"); return false; }
                    i = n;
                    break;
                }
                s.in.append(p + i, static_cast<size_t>(nl - (p + i)));
                i = static_cast<size_t>(nl - p) + 1;
                char* endp = nullptr;
                unsigned long long sz = std::strtoull(s.in.c_str(), &endp, 16);
                if (endp == s.in.c_str()) { finish(s, "parse"); return false; }
                s.in.clear();
                if (sz == 0) { s.phase = Phase::ReadTrailer; break; }
                // The first body byte is the first chunk's first data byte.
                s.remaining = static_cast<size_t>(sz);
                s.phase = Phase::ReadChunkData;
                break;
            }
            case Phase::ReadChunkData: {
                size_t take = std::min(s.remaining, n - i);
                body_bytes(s, p + i, take);
                i += take;
                s.remaining -= take;
                if (s.remaining == 0) s.phase = Phase::ReadChunkCrlf;
                break;
            }
            case Phase::ReadChunkCrlf: {
                // Expect "\r\n" after the data; tolerate bytes split across reads.
                char ch = p[i++];
                if (ch == '\n') s.phase = Phase::ReadChunkSize;
                else if (ch != '\r') { finish(s, "parse"); return false; }
                break;
            }
            case Phase::ReadTrailer: {
                // Trailer section ends with an empty line; we accept it as soon as we see it.
                const char* nl = static_cast<const char*>(std::memchr(p + i, '\n', n - i));
                if (!nl) { s.in.append(p + i, n - i); i = n; break; }
                s.in.append(p + i, static_cast<size_t>(nl - (p + i)));
                i = static_cast<size_t>(nl - p) + 1;
                std::string l = std::move(s.in);
                s.in.clear();
                if (l.empty() || l == "\r") { end_ok(s); return false; }
                break;
            }
            default:
                finish(s, "parse");
                return false;
            }
        }
        return true;
    }

    static double pct(std::vector<double>& v, double p) {
        if (v.empty()) return 0;
        size_t k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
        if (k == 0) k = 1;
        if (k > v.size()) k = v.size();
        return v[k - 1];
    }

    static void print_dist(const char* name, std::vector<double>& v, bool comma) {
        std::sort(v.begin(), v.end());
        double mean = 0;
        for (double x : v) mean += x;
        if (!v.empty()) mean /= static_cast<double>(v.size());
        std::printf("\"%s\":{\"n\":%zu,\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"max\":%.2f,\"mean\":%.2f}%s", name, v.size(), pct(v, 50),
                    pct(v, 90), pct(v, 99), v.empty() ? 0.0 : v.back(), mean, comma ? "," : "");
    }

    void report(double duration_s) {
        size_t completed = 0, errors = 0;
        std::map<std::string, size_t> kinds;
        std::map<std::string, std::string> samples;
        std::vector<double> ttfb, head, total, conn, rest;
        uint64_t events = 0;
        for (auto& s : streams_) {
            if (s.error.empty()) {
                ++completed;
                if (s.got_first) {
                    ttfb.push_back(ms_since(s.t_sent, s.t_first));
                    rest.push_back(ms_since(s.t_first, s.t_end));
                }
                conn.push_back(ms_since(s.t_start, s.t_conn));
                head.push_back(ms_since(s.t_sent, s.t_head));
                total.push_back(ms_since(s.t_start, s.t_end));
                events += s.data_events;
            } else {
                ++errors;
                ++kinds[s.error];
                if (!samples.count(s.error)) samples[s.error] = s.body_sample;
            }
        }
        std::printf("{\"concurrency\":%d,\"completed\":%zu,\"errors\":%zu,\"error_kinds\":{", opt_.concurrency, completed, errors);
        bool first = true;
        for (auto& [k, v] : kinds) {
            std::printf("%s\"%s\":%zu", first ? "" : ",", json_escape(k).c_str(), v);
            first = false;
        }
        std::printf("},\"error_samples\":{");
        first = true;
        for (auto& [k, v] : samples) {
            std::printf("%s\"%s\":\"%s\"", first ? "" : ",", json_escape(k).c_str(), json_escape(v).c_str());
            first = false;
        }
        std::printf("},");
        print_dist("ttfb_ms", ttfb, true);
        print_dist("headers_ms", head, true);
        print_dist("stream_ms", total, true);
        print_dist("connect_ms", conn, true);
        print_dist("first_byte_to_end_ms", rest, true);
        std::printf("\"data_events_per_stream\":%.2f,\"ramp_ms\":%d,\"timeout_s\":%.1f,\"duration_s\":%.3f}\n",
                    completed ? static_cast<double>(events) / static_cast<double>(completed) : 0.0, opt_.ramp_ms, opt_.timeout_s,
                    duration_s);
        std::fflush(stdout);
    }

    Options opt_;
    sockaddr_in addr_{};
    std::string request_;
    int ep_ = -1;
    std::vector<Stream> streams_;
    size_t finished_ = 0;
    Clock::time_point t0_;
};

void raise_nofile() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

void usage() {
    std::fprintf(stderr,
                 "usage: stream_load [--host H] [--port P] [--path /v1/chat/completions] [--key KEY] [--model M]\n"
                 "                   [--concurrency C] [--timeout-s S (default 60)] [--ramp-ms R (default 1000)]\n");
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
        if (a == "--host") o.host = next();
        else if (a == "--port") o.port = std::atoi(next());
        else if (a == "--path") o.path = next();
        else if (a == "--key") o.key = next();
        else if (a == "--model") o.model = next();
        else if (a == "--concurrency" || a == "-c") o.concurrency = std::atoi(next());
        else if (a == "--timeout-s") o.timeout_s = std::atof(next());
        else if (a == "--ramp-ms") o.ramp_ms = std::atoi(next());
        else if (a == "--help" || a == "-h") { usage(); return 0; }
        else { usage(); return 2; }
    }
    if (o.concurrency <= 0 || o.timeout_s <= 0 || o.port <= 0 || o.port > 65535 || o.ramp_ms < 0) { usage(); return 2; }
    raise_nofile();
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < static_cast<rlim_t>(o.concurrency) + 16)
        std::fprintf(stderr, "stream_load: warning: RLIMIT_NOFILE %llu < concurrency %d\n",
                     static_cast<unsigned long long>(rl.rlim_cur), o.concurrency);
    signal(SIGPIPE, SIG_IGN);
    Load l(o);
    return l.run();
}

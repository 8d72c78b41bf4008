#include "support/fake_upstream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace modelgate::test {

namespace {

const char* reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 404:
            return "Not Found";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Status";
    }
}

std::string lower(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

bool FakeExchange::send_all(const std::string& bytes) {
    if (closed_) return false;
    std::size_t off = 0;
    while (off < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            closed_ = true;
            return false;
        }
        off += static_cast<std::size_t>(n);
    }
    return true;
}

void FakeExchange::respond(int status, const std::string& body, const std::string& content_type,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
    head += "Content-Type: " + content_type + "\r\n";
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& [k, v] : headers)
        head += k + ": " + v + "\r\n";
    if (!keep_alive_) head += "Connection: close\r\n";
    head += "\r\n";
    send_all(head + body);
}

void FakeExchange::start_stream(int status, const std::string& content_type) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
    head += "Content-Type: " + content_type +
            "\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
    send_all(head);
}

bool FakeExchange::chunk(const std::string& bytes) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    return send_all(std::string(size) + bytes + "\r\n");
}

void FakeExchange::reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::shutdown(fd_, SHUT_RDWR);
    closed_ = true;
    keep_alive_ = false;
}

void FakeExchange::close_now() {
    ::shutdown(fd_, SHUT_RDWR);
    closed_ = true;
    keep_alive_ = false;
}

bool FakeExchange::wait_peer_closed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd_, POLLIN, 0};
        int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - std::chrono::steady_clock::now())
                                        .count());
        int r = ::poll(&p, 1, std::max(1, left));
        if (r > 0) {
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                closed_ = true;
                keep_alive_ = false;
                return true;
            }
        }
    }
    return false;
}

FakeUpstream::FakeUpstream(uint16_t port) : script_(&FakeUpstream::openai_script) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 512) != 0) {
        throw std::runtime_error("fake upstream cannot listen");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

FakeUpstream::~FakeUpstream() {
    stopping_.store(true);
    release();
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> workers;
    {
        std::lock_guard lock(mu_);
        for (int fd : open_fds_)
            ::shutdown(fd, SHUT_RDWR);
        workers.swap(workers_);
    }
    for (auto& t : workers) {
        if (t.joinable()) t.join();
    }
}

void FakeUpstream::set_script(Script script) {
    std::lock_guard lock(mu_);
    script_ = std::move(script);
}

std::vector<FakeRequest> FakeUpstream::requests() const {
    std::lock_guard lock(mu_);
    return requests_;
}

std::size_t FakeUpstream::request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
}

void FakeUpstream::reset_stats() {
    std::lock_guard lock(mu_);
    requests_.clear();
    max_in_flight_.store(0);
    peer_closed_.store(0);
}

void FakeUpstream::release() {
    std::lock_guard lock(release_mu_);
    ++release_generation_;
    release_cv_.notify_all();
}

bool FakeUpstream::wait_release(std::chrono::milliseconds timeout) {
    std::unique_lock lock(release_mu_);
    uint64_t gen = release_generation_;
    return release_cv_.wait_for(lock, timeout,
                                [&] { return release_generation_ != gen || stopping_.load(); });
}

void FakeUpstream::accept_loop() {
    while (!stopping_.load()) {
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) {
            if (stopping_.load()) return;
            continue;
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::lock_guard lock(mu_);
        open_fds_.push_back(fd);
        workers_.emplace_back([this, fd] { serve(fd); });
    }
}

void FakeUpstream::serve(int fd) {
    std::string buf;
    char tmp[16384];
    while (!stopping_.load()) {
        // Read one request: headers, then Content-Length bytes of body.
        std::size_t header_end;
        while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
            ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
            if (n <= 0) goto done;
            buf.append(tmp, static_cast<std::size_t>(n));
        }
        {
            FakeRequest req;
            std::string head = buf.substr(0, header_end);
            std::size_t line_end = head.find("\r\n");
            std::string request_line = head.substr(0, line_end);
            auto sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
            req.method = request_line.substr(0, sp1);
            req.path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
            std::size_t pos = line_end + 2;
            while (pos < head.size()) {
                std::size_t e = head.find("\r\n", pos);
                if (e == std::string::npos) e = head.size();
                std::string line = head.substr(pos, e - pos);
                auto colon = line.find(':');
                if (colon != std::string::npos) {
                    std::string v = line.substr(colon + 1);
                    while (!v.empty() && v.front() == ' ')
                        v.erase(0, 1);
                    req.headers[lower(line.substr(0, colon))] = v;
                }
                pos = e + 2;
            }
            std::size_t length = 0;
            if (auto it = req.headers.find("content-length"); it != req.headers.end())
                length = std::stoul(it->second);
            buf.erase(0, header_end + 4);
            while (buf.size() < length) {
                ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
                if (n <= 0) goto done;
                buf.append(tmp, static_cast<std::size_t>(n));
            }
            req.body = buf.substr(0, length);
            buf.erase(0, length);
            Script script;
            {
                std::lock_guard lock(mu_);
                requests_.push_back(req);
                script = script_;
            }
            int now = in_flight_.fetch_add(1) + 1;
            int prev = max_in_flight_.load();
            while (now > prev && !max_in_flight_.compare_exchange_weak(prev, now)) {
            }
            FakeExchange ex(fd);
            script(req, ex);
            in_flight_.fetch_sub(1);
            if (!ex.keep_alive() || ex.closed_) break;
        }
    }
done : {
    std::lock_guard lock(mu_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
}
    ::close(fd);
}

nlohmann::json FakeUpstream::chat_completion(const std::string& model, const std::string& content,
                                             int prompt_tokens, int completion_tokens) {
    return {{"id", "chatcmpl-fake1"},
            {"object", "chat.completion"},
            {"created", 1764160000},
            {"model", model},
            {"system_fingerprint", "fp_fake"},
            {"choices",
             {{{"index", 0},
               {"message", {{"role", "assistant"}, {"content", content}, {"refusal", nullptr}}},
               {"logprobs", nullptr},
               {"finish_reason", "stop"}}}},
            {"usage",
             {{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}}}};
}

nlohmann::json FakeUpstream::chunk(const std::string& model, const std::string& content,
                                   const char* finish_reason) {
    nlohmann::json delta = nlohmann::json::object();
    if (!content.empty()) delta["content"] = content;
    return {{"id", "chatcmpl-fake1"},
            {"object", "chat.completion.chunk"},
            {"created", 1764160000},
            {"model", model},
            {"system_fingerprint", "fp_fake"},
            {"choices",
             {{{"index", 0},
               {"delta", delta},
               {"logprobs", nullptr},
               {"finish_reason",
                finish_reason ? nlohmann::json(finish_reason) : nlohmann::json(nullptr)}}}},
            {"usage", nullptr}};
}

nlohmann::json FakeUpstream::usage_chunk(const std::string& model, int prompt_tokens,
                                         int completion_tokens) {
    return {{"id", "chatcmpl-fake1"},
            {"object", "chat.completion.chunk"},
            {"created", 1764160000},
            {"model", model},
            {"choices", nlohmann::json::array()},
            {"usage",
             {{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}}}};
}

void FakeUpstream::openai_script(const FakeRequest& req, FakeExchange& ex) {
    if (req.method == "GET" && req.path == "/v1/models") {
        ex.respond_json(
            200,
            {{"object", "list"},
             {"data",
              {{{"id", "gpt-4o-mini"}, {"object", "model"}, {"owned_by", "openai"}},
               {{"id", "text-embedding-3-small"}, {"object", "model"}, {"owned_by", "openai"}}}}});
        return;
    }
    auto body = req.json();
    std::string model = body.is_object() ? body.value("model", "") : "";
    if (req.path == "/v1/embeddings") {
        nlohmann::json data = nlohmann::json::array();
        auto input = body["input"];
        std::size_t n = input.is_array() ? input.size() : 1;
        for (std::size_t i = 0; i < n; ++i) {
            data.push_back(
                {{"object", "embedding"}, {"index", i}, {"embedding", {0.1, -0.2, 0.3}}});
        }
        ex.respond_json(200, {{"object", "list"},
                              {"data", data},
                              {"model", model},
                              {"usage", {{"prompt_tokens", 4}, {"total_tokens", 4}}}});
        return;
    }
    if (req.path != "/v1/chat/completions") {
        ex.respond_json(404,
                        {{"error", {{"message", "not found"}, {"type", "invalid_request_error"}}}});
        return;
    }
    if (body.value("stream", false)) {
        bool usage =
            body.contains("stream_options") && body["stream_options"].value("include_usage", false);
        ex.start_stream();
        for (const char* piece : {"Hello", " wor", "ld"})
            ex.sse(chunk(model, piece));
        ex.sse(chunk(model, "", "stop"));
        if (usage) ex.sse(usage_chunk(model, 9, 3));
        ex.done();
        ex.end_stream();
        return;
    }
    ex.respond_json(200, chat_completion(model, "Hello world", 9, 2));
}

}  // namespace modelgate::test

#include "upstream/upstream_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <stdexcept>

#include "util/log.hpp"
#include "util/time.hpp"

namespace modelgate::core::upstream {

const char* outcome_name(Outcome o) {
    switch (o) {
        case Outcome::completed:
            return "completed";
        case Outcome::cancelled:
            return "cancelled";
        case Outcome::aborted:
            return "aborted";
        case Outcome::first_byte_timeout:
            return "first_byte_timeout";
        case Outcome::idle_timeout:
            return "idle_timeout";
        case Outcome::total_timeout:
            return "total_timeout";
        case Outcome::connect_failed:
            return "connect_failed";
        case Outcome::transport_error:
            return "transport_error";
    }
    return "?";
}

void global_init() {
    static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    (void)rc;
}

struct UpstreamLoop::Transfer {
    UpstreamLoop* loop = nullptr;
    uint64_t id = 0;
    std::shared_ptr<Job> job;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string header_lines;
    bool headers_done = false;
    bool paused = false;
    bool abort_requested = false;
    SteadyTime started{};
    SteadyTime last_byte{};
    char error[CURL_ERROR_SIZE] = {0};
};

UpstreamLoop::UpstreamLoop(std::string name) : name_(std::move(name)) {
    global_init();
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0)
        throw std::runtime_error("upstream loop: cannot create epoll/eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 4096L);
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &UpstreamLoop::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &UpstreamLoop::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

UpstreamLoop::~UpstreamLoop() {
    stop();
    for (CURL* e : spare_easy_)
        curl_easy_cleanup(e);
    curl_multi_cleanup(multi_);
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

void UpstreamLoop::wake() {
    uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof one);
    (void)n;  // EAGAIN means a wake-up is already pending
}

int UpstreamLoop::on_socket(CURL*, curl_socket_t s, int what, void* user, void* socketp) {
    auto* self = static_cast<UpstreamLoop*>(user);
    if (what == CURL_POLL_REMOVE) {
        ::epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, s, nullptr);
        curl_multi_assign(self->multi_, s, nullptr);
        return 0;
    }
    epoll_event ev{};
    ev.data.fd = s;
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    if (socketp == nullptr) {
        ::epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, s, &ev);
        curl_multi_assign(self->multi_, s, self);  // mark as registered
    } else {
        ::epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, s, &ev);
    }
    return 0;
}

int UpstreamLoop::on_timer(CURLM*, long timeout_ms, void* user) {
    auto* self = static_cast<UpstreamLoop*>(user);
    self->curl_timeout_ms_ = timeout_ms;
    if (timeout_ms >= 0)
        self->curl_deadline_ = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
}

CURL* UpstreamLoop::take_easy() {
    if (spare_easy_.empty()) return curl_easy_init();
    CURL* e = spare_easy_.back();
    spare_easy_.pop_back();
    curl_easy_reset(e);
    return e;
}

void UpstreamLoop::give_easy(CURL* easy) {
    if (spare_easy_.size() < 1024)
        spare_easy_.push_back(easy);
    else
        curl_easy_cleanup(easy);
}

UpstreamPool::UpstreamPool(std::size_t loops) {
    if (loops == 0) loops = 1;
    for (std::size_t i = 0; i < loops; ++i)
        loops_.push_back(std::make_unique<UpstreamLoop>("upstream-" + std::to_string(i)));
}

void UpstreamPool::start() {
    for (auto& l : loops_)
        l->start();
}

void UpstreamPool::stop() {
    for (auto& l : loops_)
        l->stop();
}

UpstreamLoop& UpstreamPool::next() {
    return *loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

std::size_t UpstreamPool::active() const {
    std::size_t n = 0;
    for (const auto& l : loops_)
        n += l->active();
    return n;
}

void UpstreamLoop::start() {
    if (running_.exchange(true)) return;
    thread_ = std::thread([this] { run(); });
}

void UpstreamLoop::stop() {
    if (!running_.exchange(false)) {
        if (thread_.joinable()) thread_.join();
        return;
    }
    wake();
    if (thread_.joinable()) thread_.join();
}

bool UpstreamLoop::submit(std::shared_ptr<Job> job) {
    {
        std::lock_guard lock(mu_);
        if (closed_) return false;
        commands_.push_back({Command::Kind::submit, std::move(job)});
    }
    wake();
    return true;
}

void UpstreamLoop::cancel(const std::shared_ptr<Job>& job) {
    {
        std::lock_guard lock(mu_);
        commands_.push_back({Command::Kind::cancel, job});
    }
    wake();
}

void UpstreamLoop::resume(const std::shared_ptr<Job>& job) {
    {
        std::lock_guard lock(mu_);
        commands_.push_back({Command::Kind::resume, job});
    }
    wake();
}

std::size_t UpstreamLoop::on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t len = size * n;
    std::string_view line(data, len);
    if (line.rfind("HTTP/", 0) == 0) {
        t->header_lines.clear();  // a new response head (after 1xx, or a redirect)
        return len;
    }
    if (line == "\r\n" || line == "\n") {
        long code = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && !t->headers_done) {
            t->headers_done = true;
            t->last_byte = SteadyClock::now();
            try {
                t->job->on_headers(static_cast<int>(code), t->header_lines);
            } catch (const std::exception& e) {
                MG_ERROR("upstream", "on_headers threw: " << e.what());
                t->abort_requested = true;
                return 0;
            }
        }
        return len;
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
        for (std::size_t i = 0; i < colon; ++i) {
            t->header_lines.push_back(
                static_cast<char>(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]));
        }
        t->header_lines.append(line.substr(colon));
        t->header_lines.push_back('\n');
    }
    return len;
}

std::size_t UpstreamLoop::on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t len = size * n;
    if (!t->headers_done) {
        long code = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
        t->headers_done = true;
        t->job->on_headers(static_cast<int>(code), t->header_lines);
    }
    t->last_byte = SteadyClock::now();
    DataAction action;
    try {
        action = t->job->on_data(std::string_view(data, len));
    } catch (const std::exception& e) {
        MG_ERROR("upstream", "on_data threw: " << e.what());
        action = DataAction::abort;
    }
    switch (action) {
        case DataAction::proceed:
            return len;
        case DataAction::pause:
            t->paused = true;
            return CURL_WRITEFUNC_PAUSE;
        case DataAction::abort:
            t->abort_requested = true;
            return 0;
    }
    return 0;
}

void UpstreamLoop::start_transfer(std::shared_ptr<Job> job) {
    auto t = std::make_unique<Transfer>();
    t->loop = this;
    t->id = next_id_++;
    t->job = job;
    job->transfer_id.store(t->id);
    job->never_sent = false;
    t->started = SteadyClock::now();
    t->easy = take_easy();
    const RequestSpec& s = job->spec;
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, s.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &UpstreamLoop::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &UpstreamLoop::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    if (s.method == "GET") {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, s.body.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.body.size()));
        if (s.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s.method.c_str());
    }
    for (const auto& h : s.headers)
        t->headers = curl_slist_append(t->headers, h.c_str());
    t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    CURLMcode rc = curl_multi_add_handle(multi_, e);
    Transfer* raw = t.get();
    transfers_.emplace(t->id, std::move(t));
    active_.fetch_add(1);
    if (rc != CURLM_OK) finish_transfer(raw, Outcome::transport_error, curl_multi_strerror(rc));
}

void UpstreamLoop::finish_transfer(Transfer* t, Outcome outcome, const std::string& detail) {
    auto it = transfers_.find(t->id);
    if (it == transfers_.end()) return;
    std::unique_ptr<Transfer> owned = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_,
                             owned->easy);  // closes the connection if the transfer was incomplete
    give_easy(owned->easy);
    curl_slist_free_all(owned->headers);
    active_.fetch_sub(1);
    try {
        owned->job->on_finished(outcome, detail);
    } catch (const std::exception& e) {
        MG_ERROR("upstream", "on_finished threw: " << e.what());
    }
}

void UpstreamLoop::drain_commands() {
    std::vector<Command> commands;
    {
        std::lock_guard lock(mu_);
        commands.swap(commands_);
    }
    for (auto& c : commands) {
        switch (c.kind) {
            case Command::Kind::submit:
                start_transfer(std::move(c.job));
                break;
            case Command::Kind::cancel: {
                auto it = transfers_.find(c.job->transfer_id.load());
                if (it != transfers_.end() && it->second->job == c.job) {
                    finish_transfer(it->second.get(), Outcome::cancelled, "cancelled");
                }
                break;
            }
            case Command::Kind::resume: {
                auto it = transfers_.find(c.job->transfer_id.load());
                if (it != transfers_.end() && it->second->job == c.job && it->second->paused) {
                    it->second->paused = false;
                    it->second->last_byte = SteadyClock::now();
                    curl_easy_pause(it->second->easy, CURLPAUSE_CONT);
                }
                break;
            }
        }
    }
}

void UpstreamLoop::check_deadlines() {
    auto now = SteadyClock::now();
    std::vector<std::pair<Transfer*, Outcome>> expired;
    for (auto& [id, t] : transfers_) {
        const RequestSpec& s = t->job->spec;
        if (now - t->started > s.total_timeout) {
            expired.emplace_back(t.get(), Outcome::total_timeout);
        } else if (!t->headers_done && now - t->started > s.first_byte_timeout) {
            expired.emplace_back(t.get(), Outcome::first_byte_timeout);
        } else if (t->headers_done && !t->paused && now - t->last_byte > s.idle_timeout) {
            expired.emplace_back(t.get(), Outcome::idle_timeout);
        }
    }
    for (auto& [t, outcome] : expired)
        finish_transfer(t, outcome, outcome_name(outcome));
}

void UpstreamLoop::read_completions() {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Transfer* t = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
        if (t == nullptr) continue;
        CURLcode code = msg->data.result;
        Outcome outcome = Outcome::completed;
        std::string detail;
        long request_size = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_REQUEST_SIZE, &request_size);
        // Refused, or reset before a byte of the request went out: the upstream
        // cannot have seen it. (A timeout is not among these: waiting again
        // would only double the wait.)
        t->job->never_sent = !t->headers_done && request_size == 0 &&
                             (code == CURLE_COULDNT_CONNECT || code == CURLE_SEND_ERROR ||
                              code == CURLE_RECV_ERROR || code == CURLE_GOT_NOTHING);
        if (code != CURLE_OK) {
            detail =
                t->error[0] != '\0' ? std::string(t->error) : std::string(curl_easy_strerror(code));
            if (t->abort_requested)
                outcome = Outcome::aborted;
            else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                     code == CURLE_COULDNT_RESOLVE_PROXY ||
                     (code == CURLE_OPERATION_TIMEDOUT && !t->headers_done))
                outcome = Outcome::connect_failed;
            else
                outcome = Outcome::transport_error;
        }
        finish_transfer(t, outcome, detail);
    }
}

void UpstreamLoop::run() {
    constexpr int kMaxEvents = 512;
    epoll_event events[kMaxEvents];
    auto last_check = SteadyClock::now();
    int still_running = 0;
    while (running_.load()) {
        // Wait for sockets, a command, curl's own timer or our deadline checks.
        int wait_ms = 50;
        if (curl_timeout_ms_ >= 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(curl_deadline_ -
                                                                              SteadyClock::now())
                            .count();
            wait_ms = static_cast<int>(std::clamp<long long>(left, 0, wait_ms));
        }
        int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, wait_ms);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == wake_fd_) {
                uint64_t count;
                while (::read(wake_fd_, &count, sizeof count) > 0) {
                }
                continue;
            }
            int flags = 0;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) flags |= CURL_CSELECT_IN;
            if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
            if (events[i].events & EPOLLERR) flags |= CURL_CSELECT_ERR;
            curl_multi_socket_action(multi_, fd, flags, &still_running);
        }
        drain_commands();
        if (curl_timeout_ms_ >= 0 && SteadyClock::now() >= curl_deadline_) {
            curl_timeout_ms_ = -1;
            curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &still_running);
        }
        read_completions();
        auto now = SteadyClock::now();
        if (now - last_check > std::chrono::milliseconds(50)) {
            check_deadlines();
            last_check = now;
        }
    }
    // Stopping: whatever is still running is cancelled, and its owner is told;
    // jobs submitted from now on end at once (submit()).
    {
        std::lock_guard lock(mu_);
        closed_ = true;
    }
    drain_commands();
    std::vector<Transfer*> left;
    for (auto& [id, t] : transfers_)
        left.push_back(t.get());
    for (auto* t : left)
        finish_transfer(t, Outcome::cancelled, "gateway shutting down");
}

}  // namespace modelgate::core::upstream

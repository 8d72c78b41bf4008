#include "http/connection.hpp"

#include <pistache/async.h>
#include <pistache/peer.h>
#include <pistache/stream.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>

#include "util/crypto.hpp"
#include "util/log.hpp"

namespace modelgate::core::http {

namespace {

bool safe_header(const std::string& name, const std::string& value) {
    return !name.empty() && name.find_first_of("\r\n:") == std::string::npos &&
           value.find_first_of("\r\n") == std::string::npos;
}

bool has_header(const HeaderList& headers, std::string_view lower_name) {
    for (const auto& [name, value] : headers) {
        if (name.size() != lower_name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < name.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(name[i])) == lower_name[i];
        if (same) return true;
    }
    return false;
}

// The status line and header section of an answer.
std::string response_head(int status, const std::string& content_type, const HeaderList& headers,
                          bool keep_alive, std::string_view framing) {
    std::string out;
    out.reserve(256);
    out.append("HTTP/1.1 ").append(std::to_string(status)).push_back(' ');
    out.append(reason_phrase(status)).append("\r\n");
    if (!content_type.empty()) out.append("Content-Type: ").append(content_type).append("\r\n");
    out.append("X-Content-Type-Options: nosniff\r\n");
    if (!has_header(headers, "cache-control")) out.append("Cache-Control: no-store\r\n");
    out.append(keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    for (const auto& [name, value] : headers) {
        if (!safe_header(name, value)) continue;
        out.append(name).append(": ").append(value).append("\r\n");
    }
    out.append(framing);
    out.append("\r\n");
    return out;
}

// The exchange of one request: the responder its handler answers through.
class Exchange final : public Responder {
  public:
    Exchange(std::shared_ptr<Connection> conn, std::shared_ptr<ServerCore> core, int version_minor,
             bool keep_alive, bool head_only, std::size_t budget)
        : conn_(std::move(conn)),
          core_(std::move(core)),
          version_minor_(version_minor),
          keep_alive_(keep_alive),
          head_only_(head_only),
          budget_(budget) {}

    ~Exchange() override {
        State s;
        {
            std::lock_guard lock(mu_);
            s = state_;
        }
        if (s == State::pending && conn_->closed()) {
            // The client left before an answer was due (a cancelled call): nobody to tell.
            conn_->exchange_done(true);
        } else if (s == State::pending) {
            std::string id = crypto::random_hex(6);
            MG_ERROR("http",
                     "a handler dropped a request without answering (request " << id << ")");
            core_->state->handler_errors.fetch_add(1);
            send(error_response(make_error(
                ErrorCode::internal, "Internal error (request id " + id + ")", "internal_error")));
        } else if (s == State::streaming) {
            // An unfinished stream cannot be completed honestly: close the connection.
            {
                std::lock_guard lock(mu_);
                state_ = State::done;
            }
            conn_->clear_close_hook(this);
            conn_->exchange_done(true);
        }
        core_->release(budget_);
    }

    void send(Response r) override {
        {
            std::lock_guard lock(mu_);
            if (state_ != State::pending) return;
            state_ = State::done;
        }
        bool no_body = r.status == 204 || r.status == 304 || r.status < 200;
        std::string framing =
            no_body ? std::string() : "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
        std::string out = response_head(r.status, r.content_type, r.headers, keep_alive_, framing);
        if (!head_only_ && !no_body) out.append(r.body);
        conn_->clear_close_hook(this);
        conn_->write(std::move(out), nullptr);
        conn_->exchange_done(!keep_alive_);
        release_budget();
    }

    bool start_stream(int status, const std::string& content_type,
                      const HeaderList& headers) override {
        {
            std::lock_guard lock(mu_);
            if (state_ != State::pending) return false;
            state_ = State::streaming;
            // HTTP/1.0 has no chunked coding: the end of the body is the end of the connection.
            chunked_ = version_minor_ == 1;
            if (!chunked_) keep_alive_ = false;
        }
        release_budget();  // the request body is no longer needed by the server
        HeaderList all = headers;
        all.emplace_back("X-Accel-Buffering", "no");
        return conn_->write(response_head(status, content_type, all, keep_alive_,
                                          chunked_ ? "Transfer-Encoding: chunked\r\n" : ""),
                            nullptr);
    }

    bool stream_write(std::string bytes, std::function<void(bool)> done) override {
        {
            std::lock_guard lock(mu_);
            if (state_ != State::streaming) return false;
        }
        if (bytes.empty()) return true;
        if (head_only_) {
            if (done) done(true);
            return true;
        }
        if (!chunked_) return conn_->write(std::move(bytes), std::move(done));
        char size[24];
        int n = std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
        std::string chunk;
        chunk.reserve(bytes.size() + static_cast<std::size_t>(n) + 2);
        chunk.append(size, static_cast<std::size_t>(n)).append(bytes).append("\r\n");
        return conn_->write(std::move(chunk), std::move(done));
    }

    void end_stream() override {
        {
            std::lock_guard lock(mu_);
            if (state_ != State::streaming) return;
            state_ = State::done;
        }
        conn_->clear_close_hook(this);
        if (chunked_ && !head_only_) conn_->write("0\r\n\r\n", nullptr);
        conn_->exchange_done(!chunked_ || !keep_alive_);
    }

    void set_close_hook(std::function<void()> hook) override {
        conn_->set_close_hook(this, std::move(hook));
    }
    void clear_close_hook() override { conn_->clear_close_hook(this); }

  private:
    enum class State { pending, streaming, done };

    void release_budget() {
        std::size_t b = budget_;
        budget_ = 0;
        core_->release(b);
    }

    std::shared_ptr<Connection> conn_;
    std::shared_ptr<ServerCore> core_;
    int version_minor_;
    bool keep_alive_;
    bool head_only_;
    std::atomic<std::size_t> budget_;
    std::mutex mu_;
    State state_ = State::pending;
    bool chunked_ = true;
};

}  // namespace

bool ServerCore::reserve(std::size_t bytes) {
    if (bytes == 0) return true;
    uint64_t now = state->buffered_bytes.load();
    for (;;) {
        if (now + bytes > options.max_buffered_bytes) return false;
        if (state->buffered_bytes.compare_exchange_weak(now, now + bytes)) return true;
    }
}

void ServerCore::release(std::size_t bytes) {
    if (bytes > 0) state->buffered_bytes.fetch_sub(bytes);
}

Connection::Connection(std::shared_ptr<ServerCore> core, std::weak_ptr<Pistache::Tcp::Peer> peer,
                       int fd, std::string peer_ip)
    : core_(std::move(core)),
      peer_(std::move(peer)),
      fd_(fd),
      peer_ip_(std::move(peer_ip)),
      parser_(core_->options.parse) {
    idle_since_ = std::chrono::steady_clock::now();
    std::lock_guard lock(core_->registry_mu);
    id_ = core_->next_id++;
}

Connection::~Connection() {
    core_->release(inbox_held_ + body_held_);
}

bool Connection::closed() const {
    std::lock_guard lock(fd_mu_);
    return closed_;
}

void Connection::set_close_hook(const void* owner, std::function<void()> hook) {
    {
        std::lock_guard lock(hook_mu_);
        if (!closed()) {
            hook_owner_ = owner;
            close_hook_ = std::move(hook);
            return;
        }
    }
    if (hook) hook();
}

void Connection::clear_close_hook(const void* owner) {
    std::lock_guard lock(hook_mu_);
    if (hook_owner_ != owner) return;  // a later exchange's hook stays
    hook_owner_ = nullptr;
    close_hook_ = nullptr;
}

void Connection::on_disconnected() {
    {
        std::lock_guard lock(fd_mu_);
        if (closed_) return;
        closed_ = true;
    }
    {
        std::lock_guard lock(mu_);
        phase_ = Phase::closed;
        release_body_budget();
        core_->release(inbox_held_);
        inbox_held_ = 0;
        inbox_.clear();
    }
    std::function<void()> hook;
    {
        std::lock_guard lock(hook_mu_);
        hook = std::move(close_hook_);
        close_hook_ = nullptr;
        hook_owner_ = nullptr;
    }
    if (hook) hook();
}

void Connection::release_body_budget() {
    core_->release(body_held_);
    body_held_ = 0;
}

bool Connection::write(std::string bytes, std::function<void(bool)> done) {
    std::lock_guard wlock(write_mu_);
    auto peer = peer_.lock();
    if (!peer) return false;
    std::size_t offset = 0;
    {
        std::lock_guard flock(fd_mu_);
        if (closed_ || shut_write_) return false;
        // Fast path: straight into the socket when nothing of ours is queued in
        // Pistache (order must hold) and the kernel takes it all. Saves the
        // reactor a wake-up and a queue hop per write.
        if (queued_.load() == 0) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                if (done) done(false);
                return true;
            }
            if (n > 0) offset = static_cast<std::size_t>(n);
        }
    }
    if (offset == bytes.size()) {
        if (done) done(true);
        on_write_settled();
        return true;
    }
    // The rest waits in Pistache's write queue until the socket is writable.
    std::string rest = offset == 0 ? std::move(bytes) : bytes.substr(offset);
    std::size_t n = rest.size();
    queued_.fetch_add(1);
    auto self = shared_from_this();
    peer->send(Pistache::RawBuffer(std::move(rest), n))
        .then(
            [self, done](ssize_t) {
                self->queued_.fetch_sub(1);
                if (done) done(true);
                self->on_write_settled();
            },
            [self, done](std::exception_ptr) {
                self->queued_.fetch_sub(1);
                if (done) done(false);
                self->on_write_settled();
            });
    return true;
}

void Connection::on_write_settled() {
    if (queued_.load() == 0 && shutdown_when_flushed_.exchange(false)) shutdown_socket(SHUT_WR);
}

void Connection::shutdown_socket(int how) {
    std::lock_guard lock(fd_mu_);
    if (closed_) return;  // the descriptor may belong to another connection by now
    if (how == SHUT_WR && shut_write_) return;
    if (how != SHUT_RD) shut_write_ = true;
    ::shutdown(fd_, how);
}

void Connection::begin_close_locked() {
    if (phase_ == Phase::closing || phase_ == Phase::closed) return;
    phase_ = Phase::closing;
    linger_until_ = std::chrono::steady_clock::now() + core_->options.linger;
    core_->release(inbox_held_);
    inbox_held_ = 0;
    inbox_.clear();
    release_body_budget();
    // Our FIN goes out once every byte of the answer left; what the client
    // still sends is read and dropped until it closes or the linger ends, so
    // the answer is not lost to a reset.
    shutdown_when_flushed_.store(true);
    on_write_settled();
}

void Connection::answer_and_close(const Error& e) {
    Response r = error_response(e);
    write(response_head(r.status, r.content_type, r.headers, false,
                        "Content-Length: " + std::to_string(r.body.size()) + "\r\n") +
              r.body,
          nullptr);
}

void Connection::refuse_busy() {
    core_->state->connections_refused.fetch_add(1);
    std::lock_guard lock(mu_);
    answer_and_close(make_error(ErrorCode::unavailable,
                                "The gateway has too many open connections; retry shortly.",
                                "too_many_connections"));
    begin_close_locked();
}

void Connection::on_input(std::string_view bytes) {
    std::unique_lock lock(mu_);
    if (phase_ == Phase::closing || phase_ == Phase::closed) return;  // read and dropped
    if (phase_ == Phase::dispatched || pumping_) {
        stash(bytes);
        return;
    }
    pump(lock, bytes);
}

void Connection::stash(std::string_view bytes) {
    if (bytes.empty() || close_after_) return;
    if (inbox_.size() + bytes.size() > core_->options.max_pipelined_bytes ||
        !core_->reserve(bytes.size())) {
        // Too much sent ahead of our answers: finish the current exchange and close.
        close_after_ = true;
        core_->release(inbox_held_);
        inbox_held_ = 0;
        inbox_.clear();
        return;
    }
    inbox_held_ += bytes.size();
    inbox_.append(bytes);
}

void Connection::resume() {
    std::unique_lock lock(mu_);
    if (phase_ != Phase::reading || pumping_) return;
    pump(lock, {});
}

void Connection::pump(std::unique_lock<std::mutex>& lock, std::string_view fresh) {
    pumping_ = true;
    auto now = std::chrono::steady_clock::now();
    bool starved = false;  // the parser asked for more than there is
    while (phase_ == Phase::reading) {
        bool from_inbox = !inbox_.empty();
        std::string_view src = from_inbox ? std::string_view(inbox_) : fresh;
        // With no bytes left, the parser may still have a step to take (a
        // request without a body completes right after its head).
        if (src.empty() && (starved || parser_.idle())) break;
        if (parser_.idle() && request_started_ == SteadyPoint{}) request_started_ = now;
        last_progress_ = now;
        uint64_t before = parser_.body_received();
        auto progress = parser_.feed(src);
        if (from_inbox) {
            inbox_.erase(0, progress.consumed);
            core_->release(std::min(inbox_held_, progress.consumed));
            inbox_held_ -= std::min(inbox_held_, progress.consumed);
        } else {
            fresh.remove_prefix(progress.consumed);
        }
        // A chunked body is charged to the buffer budget as it grows.
        uint64_t grown = parser_.body_received() - before;
        if (grown > 0 && !discarding_ && !parser_.head().content_length) {
            if (!core_->reserve(grown)) {
                core_->state->requests_refused.fetch_add(1);
                answer_and_close(make_error(ErrorCode::unavailable,
                                            "The gateway is holding too many request bodies "
                                            "right now; retry shortly.",
                                            "server_busy"));
                begin_close_locked();
                break;
            }
            body_held_ += grown;
        }
        starved = progress.event == RequestParser::Event::need_more;
        switch (progress.event) {
            case RequestParser::Event::need_more:
                break;
            case RequestParser::Event::head:
                on_head();
                break;
            case RequestParser::Event::complete:
                if (discarding_) {
                    discarding_ = false;
                    parser_.reset();
                    request_started_ = {};
                    release_body_budget();
                    break;
                }
                dispatch(lock);
                break;
            case RequestParser::Event::error: {
                const ParseError& pe = parser_.error();
                core_->state->requests_refused.fetch_add(1);
                answer_and_close(make_error(error_code_for_status(pe.status), pe.message, pe.code));
                begin_close_locked();
                break;
            }
        }
    }
    if (phase_ == Phase::dispatched && !fresh.empty()) stash(fresh);
    pumping_ = false;
}

void Connection::on_head() {
    const RequestHead& h = parser_.head();
    keep_alive_ = h.keep_alive;
    request_ = Request{};
    request_.method = h.method == "HEAD" ? "GET" : h.method;
    head_only_ = h.method == "HEAD";
    request_.target = h.target;
    request_.version_minor = h.version_minor;
    request_.headers = h.headers;
    request_.peer_ip = peer_ip_;
    request_.client_ip = core_->state->ip_resolver.resolve(
        peer_ip_, request_.header("x-forwarded-for"), request_.header("x-real-ip"));

    // origin-form "/p?q", or absolute-form "http://host/p?q" (RFC 9112 3.2.2)
    std::string_view target = h.target;
    for (std::string_view scheme : {"http://", "https://"}) {
        if (target.substr(0, scheme.size()) == scheme) {
            target.remove_prefix(scheme.size());
            std::size_t slash = target.find('/');
            target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
        }
    }
    std::size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    if (q != std::string_view::npos) request_.query.assign(target.substr(q + 1));
    const std::string& base = core_->state->base_path;
    if (!base.empty() && path.substr(0, base.size()) == base &&
        (path.size() == base.size() || path[base.size()] == '/')) {
        path.remove_prefix(base.size());
        if (path.empty()) path = "/";
    }
    request_.path.assign(path);

    if (core_->state->draining.load() && request_.path != "/healthz") {
        refuse(
            make_error(ErrorCode::unavailable,
                       "The gateway is shutting down; retry on another instance.", "shutting_down"),
            true, {{"Retry-After", "1"}});
        return;
    }
    route_ = nullptr;
    PathParams params;
    auto match = core_->state->router.match(request_.method, request_.path, route_, params);
    if (match == Router::Match::not_found) {
        refuse(
            make_error(ErrorCode::not_found,
                       "No route for " + request_.method + " " + request_.path, "route_not_found"),
            false);
        return;
    }
    if (match == Router::Match::method_not_allowed) {
        refuse(make_error(ErrorCode::method_not_allowed,
                          "Method " + request_.method + " is not allowed on " + request_.path,
                          "method_not_allowed"),
               false);
        return;
    }
    request_.params = std::move(params);
    Admission admission;
    if (route_->options.admit) {
        try {
            admission = route_->options.admit(request_);
        } catch (const std::exception& e) {
            std::string id = crypto::random_hex(6);
            core_->state->handler_errors.fetch_add(1);
            MG_ERROR("http", "admitting " << request_.method << " " << request_.path
                                          << " failed (request " << id << "): " << e.what());
            admission.refusal = make_error(
                ErrorCode::internal, "Internal error (request id " + id + ")", "internal_error");
        }
    }
    if (admission.refusal) {
        refuse(*admission.refusal, false, std::move(admission.headers));
        return;
    }
    const ServerOptions& o = core_->options;
    std::size_t limit = route_->options.max_body > 0 ? route_->options.max_body : o.max_body_bytes;
    if (!admission.authenticated) limit = std::min(limit, o.anonymous_body_bytes);
    if (h.content_length && *h.content_length > limit) {
        std::string msg = "The request body is " + std::to_string(*h.content_length) +
                          " bytes; the limit is " + std::to_string(limit) + " bytes";
        msg += admission.authenticated ? "." : " for requests without valid credentials.";
        refuse(make_error(ErrorCode::body_too_large, msg, "request_too_large"), false);
        return;
    }
    if (h.content_length && !core_->reserve(static_cast<std::size_t>(*h.content_length))) {
        refuse(make_error(ErrorCode::unavailable,
                          "The gateway is holding too many request bodies right now; retry "
                          "shortly.",
                          "server_busy"),
               true);
        return;
    }
    if (h.content_length) body_held_ = static_cast<std::size_t>(*h.content_length);
    parser_.set_body_limit(limit);
    if (h.expect_continue && h.has_body()) write("HTTP/1.1 100 Continue\r\n\r\n", nullptr);
}

void Connection::refuse(const Error& e, bool must_close, HeaderList headers) {
    core_->state->requests_refused.fetch_add(1);
    const RequestHead& h = parser_.head();
    // Keep the connection when the refused body is small enough to read and drop.
    bool discard = !must_close && keep_alive_ && !h.chunked && !h.expect_continue &&
                   h.content_length.value_or(0) <= core_->options.discard_body_bytes;
    Response r = error_response(e, std::move(headers));
    std::string framing = "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    std::string out = response_head(r.status, r.content_type, r.headers, discard, framing);
    if (!head_only_) out.append(r.body);
    write(std::move(out), nullptr);
    if (!discard) {
        begin_close_locked();
        return;
    }
    discarding_ = true;
    parser_.discard_body();
}

void Connection::dispatch(std::unique_lock<std::mutex>& lock) {
    request_.body = parser_.take_body();
    parser_.reset();
    request_started_ = {};
    const Route* route = route_;
    route_ = nullptr;
    Request request = std::move(request_);
    request_ = Request{};
    std::size_t budget = body_held_;
    body_held_ = 0;
    phase_ = Phase::dispatched;
    std::string method = request.method, path = request.path;
    auto exchange = std::make_shared<Exchange>(shared_from_this(), core_, request.version_minor,
                                               keep_alive_ && !close_after_, head_only_, budget);
    lock.unlock();
    {
        ResponderPtr responder = std::move(exchange);
        try {
            route->handler(request, responder);
        } catch (const std::exception& e) {
            std::string id = crypto::random_hex(6);
            core_->state->handler_errors.fetch_add(1);
            MG_ERROR("http", "handler for " << method << " " << path << " failed (request " << id
                                            << "): " << e.what());
            responder->send(error_response(make_error(
                ErrorCode::internal, "Internal error (request id " + id + ")", "internal_error")));
        } catch (...) {
            core_->state->handler_errors.fetch_add(1);
            MG_ERROR("http", "handler for " << method << " " << path << " failed");
            responder->send(error_response(
                make_error(ErrorCode::internal, "Internal error", "internal_error")));
        }
        // An answer not kept by the handler completes (or fails) here, unlocked.
    }
    lock.lock();
}

void Connection::exchange_done(bool close) {
    std::unique_lock lock(mu_);
    if (phase_ != Phase::dispatched) return;
    phase_ = Phase::reading;
    idle_since_ = std::chrono::steady_clock::now();
    if (close || close_after_) {
        begin_close_locked();
        return;
    }
    if (pumping_ || inbox_.empty()) return;  // a running pump loop picks the inbox up
    std::weak_ptr<Connection> weak = weak_from_this();
    core_->continuations.post([weak] {
        if (auto self = weak.lock()) self->resume();
    });
}

void Connection::tick(SteadyPoint now) {
    std::unique_lock lock(mu_);
    const ServerOptions& o = core_->options;
    switch (phase_) {
        case Phase::reading: {
            if (parser_.idle() && request_started_ == SteadyPoint{}) {
                if (now - idle_since_ > o.keep_alive_timeout) begin_close_locked();
                return;
            }
            bool in_head = parser_.body_received() == 0 && !discarding_ && route_ == nullptr;
            bool late = in_head ? now - request_started_ > o.header_timeout
                                : now - last_progress_ > o.body_timeout;
            if (!late) return;
            core_->state->requests_refused.fetch_add(1);
            answer_and_close(make_error(ErrorCode::request_timeout,
                                        in_head ? "The request head did not arrive in time."
                                                : "The request body stopped arriving.",
                                        "request_timeout"));
            begin_close_locked();
            return;
        }
        case Phase::closing:
            if (now > linger_until_) {
                lock.unlock();
                shutdown_socket(SHUT_RDWR);
            }
            return;
        case Phase::dispatched:
        case Phase::closed:
            return;
    }
}

}  // namespace modelgate::core::http

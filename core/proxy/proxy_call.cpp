#include "proxy/proxy_call.hpp"

#include <cmath>
#include <random>

#include "http/responses.hpp"
#include "proxy/usage.hpp"
#include "upstream/request_spec.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"

namespace modelgate::core::proxy {

namespace {

// Per-stream memory bound: above this many unsent bytes the upstream is paused.
constexpr std::size_t kHighWater = 256 * 1024;
constexpr std::size_t kLowWater = 64 * 1024;
// Largest whole (non-streamed) upstream answer the gateway buffers.
constexpr std::size_t kMaxAnswerBytes = 64u << 20;

std::string error_message(const nlohmann::json& error) {
    if (error.is_object() && error.contains("message") && error["message"].is_string()) {
        return error["message"].get<std::string>();
    }
    return error.dump();
}

}  // namespace

Error cooling_down_error(const std::string& provider, const KeyPool::Unavailable& why) {
    int64_t seconds = std::max<int64_t>(1, (why.retry_after_ms + 999) / 1000);
    std::string msg = "Every upstream key of provider '" + provider + "' is cooling down";
    if (!why.reason.empty()) msg += " (" + why.reason + ")";
    msg += "; retry in " + std::to_string(seconds) + " s.";
    Error e = make_error(ErrorCode::rate_limited, msg, "upstream_keys_cooling_down");
    e.retry_after_s = static_cast<int>(std::min<int64_t>(seconds, KeyPool::kLongestPauseMs / 1000));
    return e;
}

ProxyCall::ProxyCall(CallInit init, CallDeps deps, std::shared_ptr<ClientSink> client)
    : init_(std::move(init)), deps_(deps), client_(std::move(client)) {}

ProxyCall::~ProxyCall() {
    // A call must always end with a record; reaching here without one is a bug
    // worth shouting about, but still log what we can.
    if (!finalized_.load()) {
        MG_ERROR("proxy", "call " << init_.request_id
                                  << " destroyed without a final status; recording error");
        finalize(CallStatus::error, std::nullopt,
                 "internal: the call ended without a final status");
    }
}

void ProxyCall::start() {
    deps_.registry.add(init_.request_id, shared_from_this());
    std::weak_ptr<ProxyCall> weak = weak_from_this();
    client_->set_close_hook([weak] {
        if (auto self = weak.lock()) self->on_client_gone();
    });
    {
        std::lock_guard lock(mu_);
        if (state_ != State::queued) return;  // the client was already gone
    }
    auto self = shared_from_this();
    auto waiter = init_.provider->limiter->acquire(
        std::chrono::milliseconds(init_.provider->queue_timeout_ms),
        [self](Permit permit) { self->on_permit(std::move(permit)); },
        [weak] {
            if (auto s = weak.lock()) s->on_queue_timeout();
        });
    std::lock_guard lock(mu_);
    if (state_ == State::queued) waiter_ = std::move(waiter);
}

void ProxyCall::on_permit(Permit permit) {
    std::unique_lock lock(mu_);
    if (state_ != State::queued) return;  // gone or timed out meanwhile; the permit goes back
    waiter_.reset();
    permit_ = std::move(permit);
    KeyPool::Unavailable why;
    lease_ = init_.provider->keys->acquire(init_.api_key_id, init_.call.model, unix_ms_now(), &why);
    if (!lease_) {
        // Every key cooled down (for this model) while the call waited: a clear 429, at once.
        state_ = State::done;
        lock.unlock();
        fail(cooling_down_error(init_.provider->name, why));
        return;
    }
    state_ = State::running;
    upstream_started_ = SteadyClock::now();
    queue_ms_ = ms_between(init_.received_at, upstream_started_);
    deps_.metrics.observe_queue_wait(init_.provider->name, queue_ms_ / 1000.0);
    if (init_.client_stream) {
        LogRecord pending = base_record();
        pending.kind = LogRecord::Kind::pending;
        pending.status = CallStatus::pending;
        pending.queue_ms = queue_ms_;
        deps_.logs.submit(std::move(pending));
    }
    submit_locked();
}

void ProxyCall::submit_locked() {
    const ProviderRuntime& p = *init_.provider;
    upstream::fill_request_spec(std::move(init_.upstream), p.user_agent, lease_->secret, spec);
    spec.first_byte_timeout = std::chrono::milliseconds(p.first_byte_timeout_ms);
    spec.idle_timeout = std::chrono::milliseconds(p.idle_timeout_ms);
    spec.total_timeout = std::chrono::milliseconds(p.total_timeout_ms);
    spec.connect_timeout = std::chrono::milliseconds(std::min(10000, p.first_byte_timeout_ms));
    deps_.loop.submit(shared_from_this());
}

void ProxyCall::resubmit() {
    // Nothing of the first answer reached the client; its bytes are forgotten.
    upstream_status_ = 0;
    upstream_headers_.clear();
    body_.clear();
    adapter_failed_ = false;
    if (lease_) upstream::set_secret(spec, lease_->secret);
    deps_.loop.submit(shared_from_this());
}

void ProxyCall::on_queue_timeout() {
    {
        std::lock_guard lock(mu_);
        if (state_ != State::queued) return;
        state_ = State::done;
        waiter_.reset();
    }
    const ProviderRuntime& p = *init_.provider;
    double waited = ms_between(init_.received_at, SteadyClock::now()) / 1000.0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", waited);
    Error e = make_error(ErrorCode::rate_limited,
                         "Provider '" + p.name + "' is at its concurrency limit of " +
                             std::to_string(p.max_concurrency) + "; the call waited " + buf +
                             " s for a slot. Retry later.",
                         "concurrency_limit_reached");
    e.retry_after_s = 1;
    deps_.metrics.observe_queue_wait(p.name, waited);
    fail(e);
}

void ProxyCall::on_client_gone() {
    client_gone_.store(true);
    AsyncSemaphore::WaiterRef waiter;
    {
        std::lock_guard lock(mu_);
        if (finalized_.load()) return;
        if (state_ == State::running) {
            deps_.loop.cancel(shared_from_this());  // on_finished(cancelled) records the end
            return;
        }
        if (state_ != State::queued && state_ != State::retry_wait) return;
        bool waiting_for_slot = state_ == State::queued;
        state_ = State::done;
        if (waiting_for_slot) waiter = std::move(waiter_);
    }
    if (waiter) init_.provider->limiter->cancel(waiter);
    finalize(CallStatus::cancelled, std::nullopt,
             "the client disconnected before the call reached the upstream");
}

void ProxyCall::abort_for_shutdown() {
    AsyncSemaphore::WaiterRef waiter;
    {
        std::lock_guard lock(mu_);
        if (finalized_.load()) return;
        if (state_ == State::running) {
            deps_.loop.cancel(shared_from_this());
            return;
        }
        if (state_ != State::queued && state_ != State::retry_wait) return;
        bool waiting_for_slot = state_ == State::queued;
        state_ = State::done;
        if (waiting_for_slot) waiter = std::move(waiter_);
    }
    if (waiter) init_.provider->limiter->cancel(waiter);
    Error e =
        make_error(ErrorCode::shutting_down,
                   "The gateway is shutting down; retry on another instance.", "shutting_down");
    e.retry_after_s = 1;
    fail(e, "gateway shut down before the call reached the upstream");
}

void ProxyCall::on_headers(int status, std::string_view header_lines) {
    upstream_status_ = status;
    upstream_headers_.assign(header_lines);
    if (!init_.client_stream || status < 200 || status >= 300) return;
    auto decoder = init_.provider->adapter->open_stream(init_.call);
    if (!decoder.ok()) {
        MG_ERROR("proxy", init_.provider->adapter->plugin_id()
                              << ".stream_open failed: " << decoder.failure->message);
        adapter_failed_ = true;
        return;
    }
    decoder_ = std::move(decoder.value);
    streaming_ = true;
    if (!client_->start_stream(200, "text/event-stream; charset=utf-8",
                               {{"Cache-Control", "no-cache"}, {"X-Request-Id", init_.request_id}}))
        client_gone_.store(true);
}

upstream::DataAction ProxyCall::on_data(std::string_view bytes) {
    if (finalized_.load()) return upstream::DataAction::proceed;  // after [DONE]: drain quietly
    if (client_gone_.load() || adapter_failed_) return upstream::DataAction::abort;
    if (!streaming_) {
        if (body_.size() + bytes.size() > kMaxAnswerBytes) return upstream::DataAction::abort;
        body_.append(bytes);
        return upstream::DataAction::proceed;
    }
    if (in_flight_bytes_.load() > kHighWater) {
        paused_.store(true);
        if (in_flight_bytes_.load() > kHighWater) return upstream::DataAction::pause;
        paused_.store(false);
    }
    decoder_->feed(bytes, [this](int32_t kind, uint32_t flags, std::string_view data) {
        handle_event(kind, flags, data);
    });
    flush_stream_output();
    if (stream_complete_) {
        client_->end_stream();
        finalize(CallStatus::success, 200, "");
        return upstream::DataAction::proceed;
    }
    if (!stream_error_.is_null()) {
        client_->end_stream();
        finalize(CallStatus::error, 200, error_message(stream_error_));
        return upstream::DataAction::abort;
    }
    return upstream::DataAction::proceed;
}

void ProxyCall::handle_event(int32_t kind, uint32_t flags, std::string_view data) {
    if (stream_complete_ || !stream_error_.is_null()) return;
    switch (kind) {
        case MG_EVENT_CHUNK:
            if (flags & MG_CHUNK_USAGE_ONLY) {
                if (!init_.include_usage) return;
                usage_chunk_sent_ = true;
            } else if (!ttft_ms_) {
                ttft_ms_ = ms_between(init_.received_at, SteadyClock::now());
                deps_.metrics.observe_ttft(
                    init_.provider->name,
                    ms_between(upstream_started_, SteadyClock::now()) / 1000.0);
            }
            stream_out_.append("data: ").append(data).append("\n\n");
            break;
        case MG_EVENT_USAGE:
            usage_json_.assign(data);
            break;
        case MG_EVENT_TEXT:
            completion_units_ += token_units(data);
            break;
        case MG_EVENT_DONE:
            if (init_.include_usage && !usage_chunk_sent_) {
                // The upstream reported no usage: give the client an estimate, marked as such.
                auto tokens =
                    tokens_from_usage(parse_json(usage_json_.empty() ? "{}" : usage_json_),
                                      estimate_prompt_tokens(init_.call.body),
                                      static_cast<int64_t>(std::ceil(completion_units_)));
                nlohmann::json chunk = {{"id", "chatcmpl-" + init_.request_id},
                                        {"object", "chat.completion.chunk"},
                                        {"created", init_.received_unix_ms / 1000},
                                        {"model", init_.call.model},
                                        {"choices", nlohmann::json::array()},
                                        {"usage",
                                         {{"prompt_tokens", *tokens.prompt},
                                          {"completion_tokens", *tokens.completion},
                                          {"total_tokens", *tokens.total},
                                          {"estimated", tokens.estimated}}}};
                stream_out_.append("data: ").append(chunk.dump()).append("\n\n");
                usage_chunk_sent_ = true;
            }
            stream_out_.append("data: [DONE]\n\n");
            stream_complete_ = true;
            break;
        case MG_EVENT_ERROR: {
            auto err = parse_json(data);
            if (!err.is_object()) {
                err = http::error_body(make_error(ErrorCode::upstream_error, std::string(data),
                                                  "upstream_error"))["error"];
            }
            stream_error_ = err;
            stream_out_.append("data: ")
                .append(nlohmann::json{{"error", err}}.dump())
                .append("\n\n");
            break;
        }
        default:
            break;
    }
}

void ProxyCall::flush_stream_output() {
    if (stream_out_.empty()) return;
    std::size_t n = stream_out_.size();
    in_flight_bytes_.fetch_add(n);
    std::weak_ptr<ProxyCall> weak = weak_from_this();
    bool queued = client_->stream_write(std::move(stream_out_), [weak, n](bool ok) {
        if (auto self = weak.lock()) self->on_write_done(n, ok);
    });
    stream_out_.clear();
    if (!queued) {
        in_flight_bytes_.fetch_sub(n);
        client_gone_.store(true);
    }
}

void ProxyCall::on_write_done(std::size_t bytes, bool ok) {
    // Runs on a reactor thread, possibly inside the write call: never lock mu_.
    std::size_t left = in_flight_bytes_.fetch_sub(bytes) - bytes;
    if (!ok) {
        if (!client_gone_.exchange(true)) deps_.loop.cancel(shared_from_this());
        return;
    }
    if (left <= kLowWater && paused_.exchange(false)) deps_.loop.resume(shared_from_this());
}

void ProxyCall::on_finished(upstream::Outcome outcome, const std::string& detail) {
    using upstream::Outcome;
    if (finalized_.load()) return;
    const ProviderRuntime& p = *init_.provider;
    if (outcome == Outcome::cancelled || (outcome == Outcome::aborted && client_gone_.load())) {
        if (client_gone_.load()) {
            finalize(CallStatus::cancelled, streaming_ ? std::optional<int>(200) : std::nullopt,
                     "the client disconnected");
            return;
        }
        Error e =
            make_error(ErrorCode::shutting_down,
                       "The gateway is shutting down; the call was interrupted.", "shutting_down");
        e.retry_after_s = 1;
        fail(e, "gateway shut down mid-call");
        return;
    }
    if (outcome == Outcome::completed && !adapter_failed_) {
        if (streaming_)
            finish_stream_from_decoder();
        else
            finish_whole_answer();
        return;
    }
    if (adapter_failed_) {
        fail(make_error(ErrorCode::upstream_error,
                        "The provider adapter could not decode the upstream stream.",
                        "adapter_error"));
        return;
    }
    if (upstream::is_timeout(outcome)) {
        std::string msg;
        if (outcome == Outcome::first_byte_timeout) {
            msg = "Provider '" + p.name + "' sent no response within " +
                  std::to_string(p.first_byte_timeout_ms) + " ms.";
        } else if (outcome == Outcome::idle_timeout) {
            msg = "Provider '" + p.name + "' stopped sending for " +
                  std::to_string(p.idle_timeout_ms) + " ms.";
        } else {
            msg = "The call to provider '" + p.name + "' exceeded " +
                  std::to_string(p.total_timeout_ms) + " ms.";
        }
        fail(make_error(ErrorCode::upstream_timeout, msg, "upstream_timeout"));
        return;
    }
    if (outcome == Outcome::aborted && body_.size() >= kMaxAnswerBytes) {
        fail(make_error(ErrorCode::upstream_error,
                        "The upstream answer is larger than the gateway accepts.",
                        "upstream_answer_too_large"));
        return;
    }
    if (!streaming_ && never_sent && retry_connection(detail)) return;
    // The detail (curl's text) names internal addresses: it goes to the gateway
    // log and the request log, not to the client.
    std::string public_msg = outcome == Outcome::connect_failed
                                 ? "Could not connect to provider '" + p.name + "'."
                                 : "The connection to provider '" + p.name + "' failed.";
    std::string msg = public_msg.substr(0, public_msg.size() - 1) + ": " + detail;
    MG_WARN("proxy", "call " << init_.request_id << ": " << redact(msg, 500));
    fail(make_error(ErrorCode::upstream_error, public_msg,
                    outcome == Outcome::connect_failed ? "upstream_unreachable"
                                                       : "upstream_connection_error"),
         msg);
}

bool ProxyCall::retry_connection(const std::string& detail) {
    std::unique_lock lock(mu_);
    if (retried_connection_ || state_ != State::running || client_gone_.load()) return false;
    retried_connection_ = true;
    state_ = State::retry_wait;
    lock.unlock();
    // A refused or reset connection is often a moment's overload: one more try
    // after a short pause, spread so that many such calls do not return together.
    thread_local std::minstd_rand rng(std::random_device{}());
    auto delay = std::chrono::milliseconds(100 + rng() % 200);
    MG_INFO("proxy", "call " << init_.request_id << ": the connection to provider '"
                             << init_.provider->name << "' failed before the request was sent ("
                             << redact(detail, 200) << "); retrying in " << delay.count() << " ms");
    deps_.metrics.record_retry(init_.provider->name, "connection");
    // The timer keeps the call alive while it waits: nothing else holds it
    // between the finished transfer and the next one.
    deps_.timers.schedule_after(delay, [self = shared_from_this()] {
        {
            std::lock_guard inner(self->mu_);
            if (self->state_ != State::retry_wait) return;  // the client left, or shutdown
            self->state_ = State::running;
        }
        self->resubmit();
    });
    return true;
}

void ProxyCall::finish_stream_from_decoder() {
    if (!stream_complete_ && stream_error_.is_null()) {
        decoder_->finish([this](int32_t kind, uint32_t flags, std::string_view data) {
            handle_event(kind, flags, data);
        });
        flush_stream_output();
    }
    client_->end_stream();
    if (stream_complete_)
        finalize(CallStatus::success, 200, "");
    else
        finalize(CallStatus::error, 200,
                 stream_error_.is_null() ? "the stream ended without an answer"
                                         : error_message(stream_error_));
}

void ProxyCall::finish_whole_answer() {
    const auto& adapter = *init_.provider->adapter;
    int status = upstream_status_;
    if (!json_depth_ok(body_)) {
        // No adapter sees it: a recursive JSON library would overflow its stack.
        fail(make_error(ErrorCode::upstream_error,
                        "The upstream answer nests JSON deeper than " +
                            std::to_string(kMaxJsonDepth) + " levels.",
                        "invalid_upstream_response"));
        return;
    }
    if (status >= 200 && status < 300) {
        auto parsed = adapter.parse_response(init_.call, status, body_);
        if (parsed.ok()) {
            usage_json_ = parsed.value.usage;
            if (usage_json_.empty()) completion_units_ = answer_units(parsed.value.body);
            client_->send({status,
                           "application/json",
                           std::move(parsed.value.body),
                           {{"X-Request-Id", init_.request_id}}});
            finalize(CallStatus::success, status, "");
            return;
        }
        if (parsed.failure->status == MG_ERR_UPSTREAM) {
            on_upstream_refusal(adapter.classify_error(status, upstream_headers_, body_));
            return;
        }
        fail(make_error(ErrorCode::upstream_error,
                        "The upstream answer could not be read: " + parsed.failure->message,
                        "invalid_upstream_response"),
             "The upstream answer could not be read: " + parsed.failure->message +
                 " body: " + body_.substr(0, 300));
        return;
    }
    on_upstream_refusal(adapter.classify_error(status, upstream_headers_, body_));
}

void ProxyCall::fail(const Error& e, const std::string& log_detail) {
    auto error = http::error_body(e)["error"];
    int status = http_status(e.code);
    if (streaming_) {
        fail_stream(error);
        finalize(call_status(e.code), 200, log_detail.empty() ? e.message : log_detail);
        return;
    }
    http::HeaderList extra;
    if (e.retry_after_s > 0) extra.emplace_back("Retry-After", std::to_string(e.retry_after_s));
    respond_error(status, error, extra);
    finalize(call_status(e.code), status, log_detail.empty() ? e.message : log_detail);
}

void ProxyCall::fail_upstream(int status, CallStatus log_status, const nlohmann::json& error,
                              const http::HeaderList& extra) {
    respond_error(status, error, extra);
    finalize(log_status, status, error_message(error));
}

void ProxyCall::respond_error(int status, const nlohmann::json& error,
                              const http::HeaderList& extra) {
    http::HeaderList headers = extra;
    headers.emplace_back("X-Request-Id", init_.request_id);
    client_->send(
        {status, "application/json", http::dump_json(nlohmann::json{{"error", error}}), headers});
}

void ProxyCall::fail_stream(const nlohmann::json& error) {
    if (!streaming_) return;
    stream_out_.append("data: ").append(nlohmann::json{{"error", error}}.dump()).append("\n\n");
    flush_stream_output();
    client_->end_stream();
}

LogRecord ProxyCall::base_record() const {
    LogRecord r;
    r.request_id = init_.request_id;
    r.api_key_id = init_.api_key_id;
    r.api_key_name = init_.api_key_name;
    r.provider_id = init_.provider->id;
    r.provider_name = init_.provider->name;
    r.model = init_.binding != nullptr ? init_.binding->upstream_model : init_.call.model;
    r.requested_model = init_.requested_model;
    r.endpoint = init_.op == MG_OP_EMBEDDINGS ? "embeddings" : "chat";
    r.stream = init_.client_stream;
    r.client_ip = init_.client_ip;
    r.user_agent = init_.user_agent.substr(0, 1024);
    r.created_at_ms = init_.received_unix_ms;
    r.updated_at_ms = unix_ms_now();
    return r;
}

void ProxyCall::finalize(CallStatus status, std::optional<int> downstream,
                         const std::string& error) {
    if (finalized_.exchange(true)) return;
    LogRecord r = base_record();
    r.kind = LogRecord::Kind::final;
    r.status = status;
    if (upstream_status_ > 0) r.upstream_status = upstream_status_;
    r.downstream_status = downstream;
    bool upstream_called = upstream_started_ != SteadyTime{};
    if (upstream_called) {
        auto usage = parse_json(usage_json_.empty() ? "{}" : usage_json_);
        bool has_prompt = usage.is_object() &&
                          (usage.contains("prompt_tokens") || usage.contains("input_tokens"));
        int64_t prompt_estimate = has_prompt ? 0 : estimate_prompt_tokens(init_.call.body);
        auto tokens = tokens_from_usage(usage, prompt_estimate,
                                        static_cast<int64_t>(std::ceil(completion_units_)));
        r.prompt_tokens = tokens.prompt;
        r.completion_tokens = tokens.completion;
        r.total_tokens = tokens.total;
        r.tokens_estimated = tokens.estimated;
        r.usage_json = usage.is_object() && !usage.empty() ? usage.dump() : "";
        r.queue_ms = queue_ms_;
    }
    auto now = SteadyClock::now();
    r.latency_ms = ms_between(init_.received_at, now);
    r.ttft_ms = ttft_ms_;
    r.error = error.empty() ? "" : redact(error, 2000);
    deps_.logs.submit(std::move(r));
    std::string model = init_.binding != nullptr ? init_.binding->public_name : init_.call.model;
    deps_.metrics.record_request(init_.provider->name, model, call_status_name(status));
    if (upstream_called)
        deps_.metrics.observe_latency(init_.provider->name,
                                      ms_between(upstream_started_, now) / 1000.0);
    if (lease_) {
        if (status == CallStatus::success) init_.provider->keys->succeeded(*lease_);
        init_.provider->keys->release(*lease_);
    }
    permit_.release();
    client_->clear_close_hook();
    deps_.registry.remove(init_.request_id);
}

}  // namespace modelgate::core::proxy

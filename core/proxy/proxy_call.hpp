// One proxied call from the moment it waits for a concurrency slot until its
// final log record. It is the upstream loop's job for the call, so its hooks run
// on the upstream thread; the client may vanish at any time (reactor thread) and
// the queue deadline and retry delays fire on the timer thread. A mutex orders
// those events; whatever happens, the call ends exactly once: one answer (or
// stream end), one final log record, the slot and the upstream key released.
//
// Before any byte went to the client the call may go upstream a second time:
// on another upstream key after a rate-limit or quota refusal
// (upstream_refusal.cpp), or after a short jittered delay when the connection
// failed before the request was sent.
#pragma once

#include <atomic>
#include <memory>
#include <modelgate/host/adapter.hpp>
#include <mutex>
#include <string>

#include "domain/snapshot.hpp"
#include "logs/log_writer.hpp"
#include "ops/metrics.hpp"
#include "proxy/call_registry.hpp"
#include "proxy/client_sink.hpp"
#include "upstream/upstream_loop.hpp"
#include "util/time.hpp"
#include "util/timer_service.hpp"

namespace modelgate::core::proxy {

struct CallInit {
    std::string request_id;
    int32_t op = MG_OP_CHAT;
    bool client_stream = false;
    bool include_usage = false;                // the client asked for the usage chunk
    std::shared_ptr<const Snapshot> snapshot;  // keeps provider and binding alive
    const ProviderRuntime* provider = nullptr;
    const BindingRuntime* binding = nullptr;
    std::optional<int64_t> api_key_id;
    std::string api_key_name;
    std::string requested_model;
    std::string client_ip;
    std::string user_agent;
    host::Call call;
    host::UpstreamRequest upstream;
    SteadyTime received_at{};
    int64_t received_unix_ms = 0;
};

struct CallDeps {
    upstream::UpstreamLoop& loop;
    LogWriter& logs;
    Metrics& metrics;
    CallRegistry& registry;
    TimerService& timers;
};

// 429 for a model whose upstream keys are all cooling down.
Error cooling_down_error(const std::string& provider, const KeyPool::Unavailable& why);

class ProxyCall final : public upstream::Job, public std::enable_shared_from_this<ProxyCall> {
  public:
    ProxyCall(CallInit init, CallDeps deps, std::shared_ptr<ClientSink> client);
    ~ProxyCall() override;

    // Waits for a slot (or gets one now) and sends the call upstream.
    void start();
    // The client went away (close hook, failed write).
    void on_client_gone();
    // Gateway shutdown: end the call now, telling the client.
    void abort_for_shutdown();

    void on_headers(int status, std::string_view header_lines) override;
    upstream::DataAction on_data(std::string_view bytes) override;
    void on_finished(upstream::Outcome outcome, const std::string& detail) override;

    const std::string& request_id() const { return init_.request_id; }

  private:
    // queued: waiting for a slot; running: upstream (or about to be);
    // retry_wait: between a failed connection and its one retry; done: ended.
    enum class State { queued, running, retry_wait, done };

    void on_permit(Permit permit);
    void on_queue_timeout();
    // Sends the call upstream on lease_'s key (mu_ held).
    void submit_locked();
    // A second attempt: forgets the first answer and submits again.
    void resubmit();
    void handle_event(int32_t kind, uint32_t flags, std::string_view data);
    void flush_stream_output();
    void on_write_done(std::size_t bytes, bool ok);
    void finish_whole_answer();
    void finish_stream_from_decoder();

    // upstream_refusal.cpp: the upstream refused (an error status, or an error
    // inside a 2xx answer). Pauses the key or the model, tries another key
    // once when the refusal was a rate limit or quota, else answers.
    void on_upstream_refusal(const host::ErrorClassification& cls);
    // A connection that failed before the request was sent gets one retry.
    bool retry_connection(const std::string& detail);

    // Ends the call with the gateway's own error: an OpenAI error answer, or an
    // SSE error event when the stream has begun; the log status from the
    // error table.
    void fail(const Error& e, const std::string& log_detail = "");
    // The upstream's error object passed on with the status it warrants.
    void fail_upstream(int status, CallStatus log_status, const nlohmann::json& error,
                       const http::HeaderList& extra);
    // Ends the call: writes the final log record, records metrics, releases the
    // slot and the key. Idempotent.
    void finalize(CallStatus status, std::optional<int> downstream, const std::string& error);
    void respond_error(int status, const nlohmann::json& error, const http::HeaderList& extra = {});
    void fail_stream(const nlohmann::json& error);
    LogRecord base_record() const;

    CallInit init_;
    CallDeps deps_;
    std::shared_ptr<ClientSink> client_;

    std::mutex mu_;
    State state_ = State::queued;
    std::atomic<bool> finalized_{false};
    std::atomic<bool> client_gone_{false};
    bool adapter_failed_ = false;
    AsyncSemaphore::WaiterRef waiter_;
    Permit permit_;
    std::optional<KeyPool::Lease> lease_;  // the upstream key, while running
    SteadyTime upstream_started_{};
    double queue_ms_ = 0;
    bool tried_another_key_ = false;  // after a rate limit: once
    bool retried_connection_ = false;

    // Upstream answer (upstream thread only, after on_headers).
    int upstream_status_ = 0;
    std::string upstream_headers_;
    std::string body_;  // whole answers and error bodies
    bool streaming_ = false;
    std::unique_ptr<host::StreamDecoder> decoder_;
    std::string stream_out_;        // SSE bytes produced by the current feed
    bool stream_complete_ = false;  // DONE seen
    nlohmann::json stream_error_;   // ERROR seen (error object)
    bool usage_chunk_sent_ = false;
    std::string usage_json_;
    double completion_units_ = 0;
    std::optional<double> ttft_ms_;

    // Back-pressure between the upstream and a slow client.
    std::atomic<std::size_t> in_flight_bytes_{0};
    std::atomic<bool> paused_{false};
};

}  // namespace modelgate::core::proxy

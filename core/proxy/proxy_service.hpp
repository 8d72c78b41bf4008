// The OpenAI-compatible proxy endpoints. The API key is checked on the
// request's head (a reactor thread, in-memory snapshot), before the body is
// read. Once the body is in, prepare_call() validates it, resolves the model, checks
// the key's allowlist and lets the adapter build the upstream request: inline
// for small bodies, on the CPU pool for large ones, so a reactor never spends
// long on one request. Then a ProxyCall waits for a slot and talks to the
// upstream loop. Every answered call gets a request-log row and a metric,
// refusals included (those of unknown keys get only the metric).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "domain/config_cache.hpp"
#include "http/router.hpp"
#include "proxy/call_preparation.hpp"
#include "proxy/call_registry.hpp"
#include "proxy/proxy_call.hpp"
#include "util/thread_pool.hpp"

namespace modelgate::core::proxy {

struct ProxyOptions {
    std::size_t max_body_bytes = 16u << 20;
    std::size_t max_messages = 10000;              // per chat request
    std::size_t inline_prepare_bytes = 64u << 10;  // larger bodies are prepared on the CPU pool
};

class ProxyService {
  public:
    ProxyService(ConfigCache& config, upstream::UpstreamPool& upstreams, LogWriter& logs,
                 Metrics& metrics, ThreadPool& cpu, TimerService& timers, ProxyOptions options);

    void register_routes(http::Router& router);

    // Who makes an internal call and how long it may wait.
    struct InternalCaller {
        std::string plugin_id;
        std::optional<int64_t> key_id;         // logged as this key's call (key_name its name)
        std::string key_name;                  // empty: "internal:<plugin_id>"
        std::chrono::milliseconds timeout{0};  // 0: the provider's own timeouts only
    };
    // A non-streaming chat completion made by a feature plugin through the normal
    // pipeline (routing, limits, logging). Blocks until the answer: call it from
    // worker threads only. Returns the HTTP status (or -1) and the body or error.
    // A call still running at the timeout is cancelled (its slot freed, its log
    // row ended) and answers -1, and so does one the gateway's shutdown finds.
    int internal_call(const InternalCaller& who, std::string_view request_json,
                      std::string& response, std::string& error);

    CallRegistry& registry() { return registry_; }
    // Ends every call still waiting or running (their clients are told).
    void abort_all();

  private:
    http::Admission admit(const http::Request& head);
    void handle_call(int32_t op, http::Request& request, const http::ResponderPtr& responder);
    // prepare_call() and, when it passes, start the call; else answer and log the refusal.
    void run_call(int32_t op, const std::string& body, const std::shared_ptr<const Snapshot>& snap,
                  const Caller& caller, SteadyTime received, int64_t received_ms,
                  const http::ResponderPtr& responder);
    void refuse_call(const Error& e, const CallInit& init, const Caller& caller,
                     SteadyTime received, const http::ResponderPtr& responder);
    void handle_models(http::Request& request, const http::ResponderPtr& responder);
    void handle_model(http::Request& request, const http::ResponderPtr& responder);

    ConfigCache& config_;
    upstream::UpstreamPool& upstreams_;
    LogWriter& logs_;
    Metrics& metrics_;
    ThreadPool& cpu_;
    TimerService& timers_;
    ProxyOptions options_;
    CallRegistry registry_;
    std::atomic<bool> stopping_{false};  // abort_all ran: internal calls end at once
};

}  // namespace modelgate::core::proxy

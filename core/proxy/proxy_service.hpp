// The OpenAI-compatible proxy endpoints. Everything here runs on a reactor
// thread and never blocks: authenticate from the in-memory snapshot, validate,
// resolve the model, let the adapter build the upstream request, and hand the
// call to a ProxyCall that waits for a slot and talks to the upstream loop.
#pragma once

#include <memory>
#include <string>

#include "domain/config_cache.hpp"
#include "http/router.hpp"
#include "proxy/call_registry.hpp"
#include "proxy/proxy_call.hpp"

namespace modelgate::core::proxy {

struct ProxyOptions {
    std::size_t max_body_bytes = 16u << 20;
};

class ProxyService {
  public:
    ProxyService(ConfigCache& config, upstream::UpstreamPool& upstreams, LogWriter& logs,
                 Metrics& metrics, ProxyOptions options);

    void register_routes(http::Router& router);

    // A non-streaming chat completion made by a feature plugin through the normal
    // pipeline (routing, limits, logging). Blocks until the answer: call it from
    // worker threads only. Returns the HTTP status (or -1) and the body or error.
    int internal_call(const std::string& plugin_id, std::string_view request_json,
                      std::string& response, std::string& error);

    CallRegistry& registry() { return registry_; }
    // Ends every call still waiting or running (their clients are told).
    void abort_all();

  private:
    struct Caller {
        std::optional<int64_t> key_id;
        std::string key_name;
        const KeyRuntime* key = nullptr;  // null for internal calls
        std::string client_ip;
        std::string user_agent;
    };

    void handle_call(int32_t op, http::RequestContext& ctx, Pistache::Http::ResponseWriter& writer);
    void handle_models(http::RequestContext& ctx, Pistache::Http::ResponseWriter& writer);
    void handle_model(http::RequestContext& ctx, Pistache::Http::ResponseWriter& writer);
    // Authenticates the Bearer key against the snapshot (401/403 on failure).
    Result<const KeyRuntime*> authenticate(const Snapshot& snap,
                                           const Pistache::Http::Request& request) const;
    // Validation, routing and the adapter's request: everything before the slot.
    Result<CallInit> prepare(int32_t op, const std::string& body,
                             const std::shared_ptr<const Snapshot>& snap, const Caller& caller,
                             bool allow_stream);

    ConfigCache& config_;
    upstream::UpstreamPool& upstreams_;
    LogWriter& logs_;
    Metrics& metrics_;
    ProxyOptions options_;
    CallRegistry registry_;
};

}  // namespace modelgate::core::proxy

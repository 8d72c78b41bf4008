// The admin JSON API under /admin/api, on the original's paths and shapes so
// its users' scripts carry over. Handlers run on the worker pool (they touch
// the database); a session cookie from /admin/api/auth/login guards them.
// Mutating requests must send JSON (Content-Type: application/json), which a
// cross-site form cannot: together with the SameSite=Strict cookie this is the
// CSRF defence.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "auth/admin_auth.hpp"
#include "config/config.hpp"
#include "domain/config_cache.hpp"
#include "features/i18n.hpp"
#include "features/scheduler.hpp"
#include "features/tasks.hpp"
#include "http/responder.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"
#include "plugins/plugin_host.hpp"
#include "stats/stats_service.hpp"
#include "store/config_store.hpp"
#include "store/log_store.hpp"
#include "upstream/upstream_loop.hpp"
#include "util/crypto.hpp"
#include "util/thread_pool.hpp"
#include "util/timer_service.hpp"

namespace modelgate::core::admin {

using auth::kSessionCookie;
// Admin requests are configuration, never bulk data.
inline constexpr std::size_t kMaxAdminBodyBytes = 1u << 20;

struct AdminContext {
    const Config& config;
    store::Database& db;
    store::ConfigStore& store;
    store::LogStore& logs;
    ConfigCache& cache;
    auth::AdminAuth& auth;
    plugins::PluginHost& plugins;
    const crypto::SecretBox& secrets;
    ThreadPool& workers;
    upstream::UpstreamPool& upstreams;  // for side requests (model sync)
    Scheduler& scheduler;
    store::StatsStore& stats_store;
    stats::StatsService& stats;
    stats::Aggregator& aggregator;
    TimerService& timers;         // paces the live statistics stream
    const Catalogs& catalogs;     // error messages in the reader's language
    features::TaskRunner& tasks;  // feature plugins' background tasks
};

// What a handler sees: a copy of the request, safe to use on a worker thread.
struct AdminRequest {
    std::string method;
    std::string path;
    http::PathParams params;
    std::unordered_map<std::string, std::string> query;
    std::string body;
    std::string content_type;
    std::string session_token;
    std::string client_ip;
    std::string admin_user;  // set once the session is checked
    std::string lang;        // ?lang=, the lang cookie, Accept-Language (features/i18n.hpp)

    int64_t id_param(const std::string& name) const;  // -1 when not a number
    std::string query_value(const std::string& name, const std::string& fallback = "") const;
    // An integer query parameter in [min, max], fallback when absent; a 400
    // naming the bounds otherwise.
    Result<int64_t> int_query(const std::string& name, int64_t fallback, int64_t min,
                              int64_t max) const;
};

struct AdminResponse {
    int status = 200;
    nlohmann::json body = nlohmann::json::object();
    http::HeaderList headers;

    static AdminResponse ok(nlohmann::json body, int status = 200) {
        return {status, std::move(body), {}};
    }
    static AdminResponse error(const Error& e) {
        return {http_status(e.code), http::error_body(e), {}};
    }
};

using AdminHandler = std::function<AdminResponse(AdminRequest&)>;

// The 400 of a query parameter that is malformed or out of its bounds; the
// message names the parameter and what it accepts.
inline Error invalid_query(const std::string& message) {
    return make_error(ErrorCode::invalid_request, message, "invalid_query");
}

class AdminApi {
  public:
    explicit AdminApi(AdminContext ctx) : ctx_(ctx) {}
    void register_routes(http::Router& router);
    // Ends the live statistics streams (at shutdown, before the workers stop).
    void stop() { stopping_ = true; }
    // A GET of the admin API made in-process on behalf of `caller` (a feature
    // plugin's api_get: "plugin:<id>"), with no session: `target` is a path
    // below the base path with its query. Runs the handler on this thread (it
    // may block). 404 for a path no GET route of the admin API serves.
    AdminResponse internal_get(std::string_view target, const std::string& caller);

  private:
    // Registers a handler that runs on the worker pool, behind the session check
    // (unless public_route) and the JSON content-type check for mutations.
    void route(http::Router& router, const std::string& method, const std::string& pattern,
               AdminHandler handler, bool public_route = false);
    // The session check, the JSON content-type check for mutations, the handler.
    AdminResponse run(AdminRequest& req, const AdminHandler& handler, bool public_route);
    // An error's message in the request's language when the catalog has its
    // code (error.<code>); the English message moves to "detail".
    void translate(AdminResponse& resp, const std::string& lang) const;

    void register_auth(http::Router& router);
    void register_providers(http::Router& router);
    void register_provider_keys(http::Router& router);
    void register_system(http::Router& router);
    void register_models(http::Router& router);
    void register_keys(http::Router& router);
    void register_logs(http::Router& router);
    void register_stats(http::Router& router);
    void register_log_views(http::Router& router);
    void register_live_stream(http::Router& router);
    void register_scheduler(http::Router& router);

    // The handlers of the route tables above, one per route.
    std::optional<Error> validate_provider(const store::ProviderRecord& p);
    AdminResponse provider_answer(int64_t id);
    AdminResponse list_providers(AdminRequest& req);
    AdminResponse create_provider(AdminRequest& req);
    AdminResponse update_provider(AdminRequest& req);
    AdminResponse sync_models(AdminRequest& req);
    AdminResponse delete_provider(AdminRequest& req);
    AdminResponse list_api_keys(AdminRequest& req);
    AdminResponse get_api_key(AdminRequest& req);
    AdminResponse create_api_key(AdminRequest& req);
    AdminResponse update_api_key(AdminRequest& req);
    AdminResponse delete_api_key(AdminRequest& req);
    AdminResponse list_time_rules(AdminRequest& req);
    AdminResponse create_time_rule(AdminRequest& req);
    AdminResponse list_models(AdminRequest& req);
    AdminResponse create_model(AdminRequest& req);
    AdminResponse update_model(AdminRequest& req);
    AdminResponse delete_model(AdminRequest& req);
    AdminResponse model_api_keys(AdminRequest& req);
    AdminResponse set_model_api_keys(AdminRequest& req);
    AdminResponse list_bindings(AdminRequest& req);
    AdminResponse create_binding(AdminRequest& req);
    AdminResponse update_binding(AdminRequest& req);
    AdminResponse delete_binding(AdminRequest& req);
    AdminResponse list_all_bindings(AdminRequest& req);
    AdminResponse update_provider_key(AdminRequest& req);
    AdminResponse delete_provider_key(AdminRequest& req);
    AdminResponse key_recommendations(AdminRequest& req);
    AdminResponse stats_overview(AdminRequest& req);
    AdminResponse stats_trend(AdminRequest& req);
    AdminResponse slow_requests(AdminRequest& req);
    AdminResponse reaggregate(AdminRequest& req);
    AdminResponse public_stats();
    // One event of /stats/live, then the next one scheduled.
    void push_live(const std::string& token, const http::ResponderPtr& responder);
    AdminResponse list_scheduler_tasks(AdminRequest& req);
    AdminResponse update_scheduler_task(AdminRequest& req);
    AdminResponse trigger_scheduler_task(AdminRequest& req);
    AdminResponse scheduler_task_logs(AdminRequest& req);
    AdminResponse scheduler_logs(AdminRequest& req);

    // After a change: rebuild this instance's routing snapshot now.
    void reload();
    Status apply_default_key(int64_t provider_id, const nlohmann::json& body);

    AdminContext ctx_;
    // The GET routes internal_get() serves: a path's segments ("{name}" for
    // a parameter) and the handler. Filled by route() before the server starts.
    struct InternalGet {
        std::vector<std::string> segments;
        AdminHandler handler;
    };
    std::vector<InternalGet> internal_gets_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> live_streams_{0};
    std::mutex public_mu_;  // the cached /api/public/stats answer
    nlohmann::json public_cache_;
    int64_t public_at_ms_ = 0;
};

// The cool-downs of one upstream key, for answers: scope ("key" or "model"),
// model, until, active, reason, strikes, probing.
nlohmann::json pauses_json(const KeyPool::KeyState& state);

// Parses a JSON request body; errors are 400 with a readable message.
Result<nlohmann::json> parse_body(const AdminRequest& req);

}  // namespace modelgate::core::admin

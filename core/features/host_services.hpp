// The host services feature plugins call (mg_host_api's feature services):
// routes on the gateway's router, SQL on its database, jobs on its scheduler,
// LLM calls through its proxy, and its message catalogs. Each dependency is
// named here; app/ creates the parts and hands them over.
#pragma once

#include <functional>
#include <map>
#include <mutex>

#include "auth/admin_auth.hpp"
#include "domain/config_cache.hpp"
#include "features/i18n.hpp"
#include "features/plugin_io.hpp"
#include "features/scheduler.hpp"
#include "features/tasks.hpp"
#include "http/router.hpp"
#include "plugins/feature_services.hpp"
#include "proxy/proxy_service.hpp"
#include "store/database.hpp"
#include "util/crypto.hpp"
#include "util/thread_pool.hpp"

namespace modelgate::core::features {

// Bodies a plugin route accepts from an authenticated caller.
inline constexpr std::size_t kMaxPluginBodyBytes = 4u << 20;

struct HostDeps {
    http::Router& router;
    ConfigCache& config;  // the API keys, for routes declared for them
    auth::AdminAuth& admin_auth;
    ThreadPool& workers;  // plugin route handlers run here, never on a reactor
    store::Database& database;
    Scheduler& scheduler;
    proxy::ProxyService& proxy;
    const Catalogs& catalogs;
    const crypto::SecretBox& secrets;  // seals plugins' secrets with the master key
    std::string data_dir;              // the gateway's; plugins get <data_dir>/plugins/<id>
    std::string base_path;
    TaskRunner& tasks;
    upstream::UpstreamPool& loops;  // plugins' outbound HTTP
    // The admin API's GET routes, in-process (app/ connects admin/): the
    // status and the JSON body of `target` read by `caller`.
    std::function<std::pair<int, std::string>(std::string_view target, const std::string& caller)>
        admin_get;
};

// Bounds of what a plugin hands the SQL services.
inline constexpr std::size_t kMaxPluginStatements = 1000;  // in one transaction
inline constexpr std::size_t kMaxPluginMigrations = 1000;
// Bounds of an internal LLM call with options.
inline constexpr std::size_t kMaxLlmModels = 8;
inline constexpr int64_t kDefaultLlmTimeoutMs = 120000, kMaxLlmTimeoutMs = 600000;

// The first table, index, view, trigger or sequence a plugin's SQL script
// creates, alters, drops or writes whose name does not start with `prefix`
// ("<plugin id>_"), or nullopt when every name does. A guard against mistakes,
// not a sandbox: a plugin is native code in the gateway's process.
std::optional<std::string> misnamed_object(const std::string& script, const std::string& prefix);

class HostServices final : public plugins::FeatureServices {
  public:
    explicit HostServices(const HostDeps& deps) : d_(deps) {}

    int32_t register_route(const std::string& plugin_id, std::string_view method,
                           std::string_view prefix, int32_t access, mg_route_fn fn,
                           void* user) override;
    int32_t sql(std::string_view statement, std::string_view params_json, std::string& rows_json,
                std::string& err) override;
    std::string_view dialect() const override { return d_.database.dialect_name(); }
    int32_t register_job(const std::string& plugin_id, std::string_view name,
                         int64_t interval_seconds, mg_job_fn fn, void* user) override;
    int32_t llm_call(const std::string& plugin_id, std::string_view request_json,
                     std::string& response, std::string& err) override;
    std::string i18n(std::string_view locale, std::string_view key) override {
        return d_.catalogs.text(locale, key);
    }
    void withdraw(const std::string& plugin_id) override;
    int32_t migrate(const std::string& plugin_id, std::string_view migrations_json,
                    std::string& err) override;
    int32_t sql_transaction(std::string_view statements_json, std::string& results_json,
                            std::string& err) override;
    int32_t register_daily_job(const std::string& plugin_id, std::string_view name,
                               std::string_view at_hh_mm, mg_job_fn fn, void* user) override;
    int32_t llm_call_ex(const std::string& plugin_id, std::string_view request_json,
                        std::string_view options_json, std::string& response,
                        std::string& err) override;
    std::string seal(std::string_view plain) override { return d_.secrets.seal(plain); }
    std::optional<std::string> open_sealed(std::string_view sealed) override {
        return d_.secrets.open(sealed);
    }
    const std::string& data_dir(const std::string& plugin_id) override;
    int32_t register_task_kind(const std::string& plugin_id, std::string_view kind, mg_task_fn fn,
                               void* user) override;
    int32_t task_start(const std::string& plugin_id, std::string_view kind, std::string_view key,
                       std::string_view input_json, std::string& task_json,
                       std::string& err) override;
    int32_t task_progress(const std::string& plugin_id, int64_t id,
                          std::string_view progress_json) override;
    int32_t task_get(const std::string& plugin_id, int64_t id, std::string& task_json) override;
    int32_t task_list(const std::string& plugin_id, std::string_view kind, int32_t limit,
                      std::string& tasks_json) override;

    int32_t api_get(const std::string& plugin_id, std::string_view target,
                    std::string& body) override;
    mg_stream* stream_open(const mg_http_request* request, int32_t status,
                           std::string_view content_type, std::string_view headers) override;
    int32_t stream_write(mg_stream* stream, std::string_view bytes) override {
        return write_stream(stream, bytes);
    }
    void stream_close(mg_stream* stream) override { close_stream(stream); }
    int32_t http_fetch(const std::string& plugin_id, std::string_view request_json,
                       mg_fetch_fn done, void* user, std::string& err) override;

    // Ends the threads that run plugins' http_fetch callbacks, after what is
    // queued (at shutdown, once the upstream loops and the tasks have stopped).
    void stop() { io_.stop(); }

    // Routes, jobs and migrations are accepted only while plugins initialise:
    // the router and the scheduler's task list are then read without locks.
    void close_registrations() { open_ = false; }

  private:
    http::RouteOptions route_options(int32_t access) const;
    // False (and logged) once registrations are closed.
    bool registering(const std::string& plugin_id, const char* what) const;
    HostDeps d_;
    // http_fetch callbacks: never a network thread, and not the workers or the
    // task pool, whose threads may be waiting for a fetch themselves.
    ThreadPool io_{2, "plugin-io"};
    std::atomic<bool> open_{true};
    std::mutex dirs_mu_;
    std::map<std::string, std::string> dirs_;
};

}  // namespace modelgate::core::features

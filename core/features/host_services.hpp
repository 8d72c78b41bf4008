// The host services feature plugins call (mg_host_api's feature services):
// routes on the gateway's router, SQL on its database, jobs on its scheduler,
// LLM calls through its proxy, and its message catalogs. Each dependency is
// named here; app/ creates the parts and hands them over.
#pragma once

#include "auth/admin_auth.hpp"
#include "domain/config_cache.hpp"
#include "features/i18n.hpp"
#include "features/scheduler.hpp"
#include "http/router.hpp"
#include "plugins/feature_services.hpp"
#include "proxy/proxy_service.hpp"
#include "store/database.hpp"
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
};

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

  private:
    http::RouteOptions route_options(int32_t access) const;
    HostDeps d_;
};

}  // namespace modelgate::core::features

// The host services feature plugins call (mg_host_api), backed by the App's
// router, database, scheduler, proxy and catalogs.
#pragma once

#include "app/app.hpp"

namespace modelgate::core {

// Bodies a plugin route accepts from an authenticated caller.
inline constexpr std::size_t kMaxPluginBodyBytes = 4u << 20;

class App::FeatureHost final : public plugins::FeatureServices {
  public:
    explicit FeatureHost(App& app) : app_(app) {}

    int32_t register_route(const std::string& plugin_id, std::string_view method,
                           std::string_view prefix, int32_t access, mg_route_fn fn,
                           void* user) override;
    int32_t sql(std::string_view statement, std::string_view params_json, std::string& rows_json,
                std::string& err) override;
    std::string_view dialect() const override { return app_.db_->dialect_name(); }
    int32_t register_job(const std::string& plugin_id, std::string_view name,
                         int64_t interval_seconds, mg_job_fn fn, void* user) override;
    int32_t llm_call(const std::string& plugin_id, std::string_view request_json,
                     std::string& response, std::string& err) override;
    std::string i18n(std::string_view locale, std::string_view key) override {
        return app_.catalogs_.text(locale, key);
    }
    void withdraw(const std::string& plugin_id) override;

  private:
    App& app_;
};

}  // namespace modelgate::core

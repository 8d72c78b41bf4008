// What the host offers feature plugins (mg_host_api's feature services),
// implemented by the application once its parts exist.
#pragma once

#include <modelgate/abi.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace modelgate::core::plugins {

class FeatureServices {
  public:
    virtual ~FeatureServices() = default;
    virtual int32_t register_route(const std::string& plugin_id, std::string_view method,
                                   std::string_view prefix, int32_t access, mg_route_fn fn,
                                   void* user) = 0;
    virtual int32_t sql(std::string_view statement, std::string_view params_json,
                        std::string& rows_json, std::string& err) = 0;
    virtual std::string_view dialect() const = 0;
    virtual int32_t register_job(const std::string& plugin_id, std::string_view name,
                                 int64_t interval_seconds, mg_job_fn fn, void* user) = 0;
    virtual int32_t llm_call(const std::string& plugin_id, std::string_view request_json,
                             std::string& response, std::string& err) = 0;
    virtual std::string i18n(std::string_view locale, std::string_view key) = 0;
    // Removes every route and job the plugin registered (its init failed).
    virtual void withdraw(const std::string& plugin_id) = 0;
};

}  // namespace modelgate::core::plugins

// What the host offers feature plugins (mg_host_api's feature services),
// implemented by the application once its parts exist.
#pragma once

#include <modelgate/abi.h>

#include <cstdint>
#include <optional>
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
    // ABI 1.2 (abi.h says what each does).
    virtual int32_t migrate(const std::string& plugin_id, std::string_view migrations_json,
                            std::string& err) = 0;
    virtual int32_t sql_transaction(std::string_view statements_json, std::string& results_json,
                                    std::string& err) = 0;
    virtual int32_t register_daily_job(const std::string& plugin_id, std::string_view name,
                                       std::string_view at_hh_mm, mg_job_fn fn, void* user) = 0;
    virtual int32_t llm_call_ex(const std::string& plugin_id, std::string_view request_json,
                                std::string_view options_json, std::string& response,
                                std::string& err) = 0;
    virtual std::string seal(std::string_view plain) = 0;
    virtual std::optional<std::string> open_sealed(std::string_view sealed) = 0;
    // The folder's path, created; stable for the process's life.
    virtual const std::string& data_dir(const std::string& plugin_id) = 0;
    virtual int32_t register_task_kind(const std::string& plugin_id, std::string_view kind,
                                       mg_task_fn fn, void* user) = 0;
    // MG_OK, MG_ERR_CONFLICT (task_json: the running one) or an error (err).
    virtual int32_t task_start(const std::string& plugin_id, std::string_view kind,
                               std::string_view key, std::string_view input_json,
                               std::string& task_json, std::string& err) = 0;
    virtual int32_t task_progress(const std::string& plugin_id, int64_t id,
                                  std::string_view progress_json) = 0;
    virtual int32_t task_get(const std::string& plugin_id, int64_t id, std::string& task_json) = 0;
    virtual int32_t task_list(const std::string& plugin_id, std::string_view kind, int32_t limit,
                              std::string& tasks_json) = 0;
    // ABI 1.3: the status of a GET of the admin API; its JSON body in `body`.
    virtual int32_t api_get(const std::string& plugin_id, std::string_view target,
                            std::string& body) = 0;
    virtual mg_stream* stream_open(const mg_http_request* request, int32_t status,
                                   std::string_view content_type, std::string_view headers) = 0;
    virtual int32_t stream_write(mg_stream* stream, std::string_view bytes) = 0;
    virtual void stream_close(mg_stream* stream) = 0;
    virtual int32_t http_fetch(const std::string& plugin_id, std::string_view request_json,
                               mg_fetch_fn done, void* user, std::string& err) = 0;
    // Removes every route and job the plugin registered (its init failed).
    virtual void withdraw(const std::string& plugin_id) = 0;
};

}  // namespace modelgate::core::plugins

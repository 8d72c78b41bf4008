// Model recommendations' texts (spec 8.5): the gateway scores the models a key
// may use (/admin/api/keys/{id}/recommendations); this part has one of those
// models write a reason per model and a timing advice, per key, period and
// language, never shared across keys. The texts are written by a daily batch
// and on demand (when a key's portal asks and none is fresh), in background
// tasks; until then, and whenever no model answers, rule-based texts stand in
// and analysis_source says which is shown ("ai", "pending", "unavailable").
#pragma once

#include <modelgate/sdk.hpp>
#include <string>
#include <vector>

namespace modelgate::analysis {

using modelgate::sdk::Host;
using modelgate::sdk::json;

class Recommendations {
  public:
    // Registers the routes, the tasks and the daily job; the migration is the
    // plugin's (version 2).
    void init(Host& host, const json& config);

  private:
    struct Scope {
        int64_t key_id = 0;
        std::string period, locale;
        std::string dedupe() const;
    };
    // The gateway's scores and the texts for them.
    modelgate::sdk::HttpResponse answer(const Scope& scope, bool for_admin);
    // Writes one scope's texts (a task): "empty" when the key made no calls in
    // the period, "ai" or "failed".
    json generate(const Scope& scope);
    json batch(const Host::Task& task);
    // The gateway's scores, or an error response (unknown key, bad period).
    Host::ApiResponse scores(const Scope& scope) const;
    void store(const Scope& scope, const std::string& status, const json& reasons,
               const json& timing, const std::string& model, const std::string& error,
               int64_t ttl_seconds);

    Host* host_ = nullptr;
    std::vector<std::string> job_periods_, job_locales_;
    int64_t ttl_seconds_ = 26 * 3600, retry_seconds_ = 1800;
    int64_t reasons_timeout_ms_ = 25000, timing_timeout_ms_ = 20000;
    int max_keys_ = 500;
    bool on_demand_ = true;
};

}  // namespace modelgate::analysis

// The routing snapshot: everything a proxy request needs to authenticate and
// route, built completely from the database and swapped in atomically, so a
// request never sees a half-loaded configuration.
#pragma once

#include <cstdint>
#include <memory>
#include <modelgate/host/adapter.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "domain/key_pool.hpp"
#include "domain/time_rules.hpp"
#include "limits/async_semaphore.hpp"
#include "util/result.hpp"

namespace modelgate::core {

struct ProviderRuntime {
    int64_t id = 0;
    std::string name;
    std::string adapter_kind;
    std::string base_url;
    nlohmann::json options = nlohmann::json::object();  // the adapter's
    std::string user_agent;  // outbound User-Agent: the provider's own, else the gateway's
    int max_concurrency = 8;
    int queue_timeout_ms = 30000;
    int first_byte_timeout_ms = 120000;
    int idle_timeout_ms = 120000;
    int total_timeout_ms = 600000;
    bool active = true;
    bool force_stream_usage = true;           // ask the upstream for usage in streams
    bool merge_consecutive_messages = false;  // message preprocessing (spec 3.5)
    bool auto_sync_models = false;            // the scheduled model sync includes it
    std::shared_ptr<host::Adapter> adapter;   // null when unusable
    std::string adapter_problem;              // why adapter is null
    std::shared_ptr<AsyncSemaphore> limiter;  // lives across snapshots
    std::shared_ptr<KeyPool> keys;            // upstream keys; lives across snapshots
};

struct BindingRuntime {
    int64_t id = 0;
    int64_t provider_id = 0;
    std::string provider_name;
    std::string public_name;     // what /v1/models advertises after "provider/"
    std::string upstream_model;  // models.name, sent upstream
    std::string display_name;    // models.display_name ("" when none)
    bool thinking = false;       // models.thinking_enabled
    bool multimodal = false;
    int max_tokens = 0;
    int context_length = 0;
};

struct KeyRuntime {
    int64_t id = 0;
    std::string name;
    std::string hash;
    bool active = true;
    std::unordered_set<int64_t> allowed_bindings;  // empty: every model
    std::vector<TimeRule> time_rules;

    bool may_use(int64_t binding_id) const {
        return allowed_bindings.empty() || allowed_bindings.count(binding_id) != 0;
    }
};

struct Route {
    const ProviderRuntime* provider = nullptr;
    const BindingRuntime* binding = nullptr;
};

struct Snapshot {
    int64_t version = 0;
    std::string user_agent;  // the gateway's outbound User-Agent (setting or default)
    std::unordered_map<std::string, std::shared_ptr<const ProviderRuntime>>
        providers;                         // by name, active or not
    std::vector<BindingRuntime> bindings;  // active bindings of active providers and models
    // provider name -> alias -> index in bindings
    std::unordered_map<std::string, std::unordered_map<std::string, std::size_t>> aliases;
    // alias without provider prefix -> indexes in bindings
    std::unordered_map<std::string, std::vector<std::size_t>> global_aliases;
    std::unordered_map<std::string, std::shared_ptr<const KeyRuntime>> keys_by_hash;

    // "provider/model" -> provider and binding; a bare model name when exactly
    // one binding the key may use (every binding without a key) has it. An
    // ambiguous name's error lists only what the key may use.
    Result<Route> resolve(std::string_view model, const KeyRuntime* key = nullptr) const;
    const KeyRuntime* find_key(std::string_view hash) const;
    // A key by id, switched on or not (a linear search: not for the hot path).
    const KeyRuntime* find_key_by_id(int64_t id) const;
};

}  // namespace modelgate::core

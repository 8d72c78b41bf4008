// Repository of the configuration tables: providers, models, bindings, API keys,
// their allowlists and time rules. All methods block (worker threads only) and
// return Results; unique-constraint violations come back as ErrorCode::conflict.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "store/database.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

class ConfigStore {
  public:
    explicit ConfigStore(Database& db) : db_(db) {}

    // providers
    Result<std::vector<ProviderRecord>> list_providers();
    Result<std::optional<ProviderRecord>> get_provider(int64_t id);
    Result<int64_t> create_provider(const ProviderRecord& p);
    Status update_provider(const ProviderRecord& p);
    Status delete_provider(int64_t id, bool force);

    // models
    Result<std::vector<ModelRecord>> list_models();
    Result<std::optional<ModelRecord>> get_model(int64_t id);
    Result<std::optional<ModelRecord>> find_model_by_name(const std::string& name);
    Result<int64_t> create_model(const ModelRecord& m);
    Status update_model(const ModelRecord& m);
    Status delete_model(int64_t id);

    // bindings
    Result<std::vector<BindingRecord>> list_bindings(
        std::optional<int64_t> provider_id = std::nullopt);
    Result<std::optional<BindingRecord>> get_binding(int64_t id);
    Result<int64_t> create_binding(const BindingRecord& b);
    Status update_binding(const BindingRecord& b);
    Status delete_binding(int64_t id);

    // API keys
    Result<std::vector<ApiKeyRecord>> list_api_keys();
    Result<std::optional<ApiKeyRecord>> get_api_key(int64_t id);
    Result<int64_t> create_api_key(const ApiKeyRecord& k);
    Status update_api_key(const ApiKeyRecord& k);  // name, is_active, allowlist
    Status delete_api_key(int64_t id);
    Status touch_api_keys(const std::vector<std::pair<int64_t, std::string>>& last_used);

    // time rules
    Result<int64_t> create_time_rule(const TimeRuleRecord& r);
    Status update_time_rule(const TimeRuleRecord& r);
    Status delete_time_rule(int64_t api_key_id, int64_t rule_id);

    // upstream keys of providers
    Result<std::vector<ProviderKeyRecord>> list_provider_keys(
        std::optional<int64_t> provider_id = std::nullopt);
    Result<std::optional<ProviderKeyRecord>> get_provider_key(int64_t id);
    Result<int64_t> create_provider_key(const ProviderKeyRecord& k);
    Status update_provider_key(const ProviderKeyRecord& k);
    Status delete_provider_key(int64_t provider_id, int64_t key_id);
    // Automatic cool-down: until is ISO 8601, nullopt clears it.
    Status set_key_pause(int64_t key_id, const std::optional<std::string>& until,
                         const std::string& reason);
    Status set_provider_pause(int64_t provider_id, const std::optional<std::string>& until,
                              const std::string& reason);
    // Cool-downs of one model on one key.
    Result<std::vector<ModelPauseRecord>> list_model_pauses();
    Status set_model_pause(const ModelPauseRecord& pause);  // insert or replace
    // One model's (or, with an empty model, every model's) of a key.
    Status clear_model_pauses(int64_t provider_id, int64_t key_id, const std::string& model = "");

    // gateway-wide settings
    Result<std::map<std::string, std::string>> settings();
    Status set_setting(const std::string& key, const std::string& value);

    // The configuration version other instances watch.
    Result<int64_t> config_version();
    Status bump_config_version();

  private:
    Status check_binding_ids(soci::session& s, const std::vector<int64_t>& ids);
    Database& db_;
};

// ErrorCode::conflict for unique violations, internal otherwise.
Error classify_store_error(const char* what);

}  // namespace modelgate::core::store

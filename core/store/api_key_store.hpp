// Gateway API keys, their model allowlists and time rules.
// All methods block (worker threads only) and return Results; unique-constraint
// violations come back as ErrorCode::conflict.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "store/database.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

class ApiKeyStore {
  public:
    explicit ApiKeyStore(Database& db) : db_(db) {}

    Result<std::vector<ApiKeyRecord>> list_api_keys();
    Result<std::optional<ApiKeyRecord>> get_api_key(int64_t id);
    Result<int64_t> create_api_key(const ApiKeyRecord& k);
    Status update_api_key(const ApiKeyRecord& k);  // name, is_active, allowlist
    Status delete_api_key(int64_t id);
    Status touch_api_keys(const std::vector<std::pair<int64_t, std::string>>& last_used);

    // The keys whose allowlist names one model binding (the reverse view of the
    // allowlists), replaced as a whole. A key with an empty allowlist may use
    // every model: it is left alone and reported in `unrestricted`. Removing a
    // binding that is the last entry of a key's allowlist would open that key to
    // every model, so it is refused (conflict) instead.
    struct BindingKeys {
        std::vector<int64_t> added, removed, unrestricted;
    };
    Result<BindingKeys> set_binding_keys(int64_t binding_id, const std::vector<int64_t>& key_ids);

    Result<int64_t> create_time_rule(const TimeRuleRecord& r);
    Status update_time_rule(const TimeRuleRecord& r);
    Status delete_time_rule(int64_t api_key_id, int64_t rule_id);

  private:
    Status check_binding_ids(soci::session& s, const std::vector<int64_t>& ids);
    Database& db_;
};

}  // namespace modelgate::core::store

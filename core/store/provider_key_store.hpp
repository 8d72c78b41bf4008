// Upstream keys of providers, and the cool-downs (pauses) of keys, of one model
// on a key, and of keyless providers.
// All methods block (worker threads only) and return Results; unique-constraint
// violations come back as ErrorCode::conflict.
#pragma once

#include <optional>
#include <vector>

#include "store/database.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

class ProviderKeyStore {
  public:
    explicit ProviderKeyStore(Database& db) : db_(db) {}

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

  private:
    Database& db_;
};

}  // namespace modelgate::core::store

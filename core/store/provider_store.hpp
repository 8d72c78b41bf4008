// The providers table.
// All methods block (worker threads only) and return Results; unique-constraint
// violations come back as ErrorCode::conflict.
#pragma once

#include <optional>
#include <vector>

#include "store/database.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

class ProviderStore {
  public:
    explicit ProviderStore(Database& db) : db_(db) {}

    Result<std::vector<ProviderRecord>> list_providers();
    Result<std::optional<ProviderRecord>> get_provider(int64_t id);
    Result<int64_t> create_provider(const ProviderRecord& p);
    Status update_provider(const ProviderRecord& p);
    Status delete_provider(int64_t id, bool force);

  private:
    Database& db_;
};

}  // namespace modelgate::core::store

// Models and their bindings to providers.
// All methods block (worker threads only) and return Results; unique-constraint
// violations come back as ErrorCode::conflict.
#pragma once

#include <optional>
#include <vector>

#include "store/database.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

class ModelStore {
  public:
    explicit ModelStore(Database& db) : db_(db) {}

    Result<std::vector<ModelRecord>> list_models();
    Result<std::optional<ModelRecord>> get_model(int64_t id);
    Result<std::optional<ModelRecord>> find_model_by_name(const std::string& name);
    Result<int64_t> create_model(const ModelRecord& m);
    Status update_model(const ModelRecord& m);
    Status delete_model(int64_t id);

    Result<std::vector<BindingRecord>> list_bindings(
        std::optional<int64_t> provider_id = std::nullopt);
    Result<std::optional<BindingRecord>> get_binding(int64_t id);
    Result<int64_t> create_binding(const BindingRecord& b);
    Status update_binding(const BindingRecord& b);
    Status delete_binding(int64_t id);

  private:
    Database& db_;
};

}  // namespace modelgate::core::store

// Gateway-wide settings, and the configuration version other instances watch.
// All methods block (worker threads only) and return Results; unique-constraint
// violations come back as ErrorCode::conflict.
#pragma once

#include <map>
#include <string>

#include "store/database.hpp"
#include "store/records.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

class SettingsStore {
  public:
    explicit SettingsStore(Database& db) : db_(db) {}

    Result<std::map<std::string, std::string>> settings();
    Status set_setting(const std::string& key, const std::string& value);

    Result<int64_t> config_version();
    Status bump_config_version();

  private:
    Database& db_;
};

}  // namespace modelgate::core::store

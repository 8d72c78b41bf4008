// The configuration tables in one object, for the code that needs several of
// them (the configuration cache, the admin API). Each family of tables has its
// own store: ProviderStore, ModelStore, ApiKeyStore, ProviderKeyStore,
// SettingsStore.
#pragma once

#include "store/api_key_store.hpp"
#include "store/model_store.hpp"
#include "store/provider_key_store.hpp"
#include "store/provider_store.hpp"
#include "store/settings_store.hpp"

namespace modelgate::core::store {

class ConfigStore : public ProviderStore,
                    public ModelStore,
                    public ApiKeyStore,
                    public ProviderKeyStore,
                    public SettingsStore {
  public:
    explicit ConfigStore(Database& db)
        : ProviderStore(db),
          ModelStore(db),
          ApiKeyStore(db),
          ProviderKeyStore(db),
          SettingsStore(db) {}
};

}  // namespace modelgate::core::store

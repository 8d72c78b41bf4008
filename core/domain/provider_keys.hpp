// Upstream keys as stored: sealed with the master key, a masked hint to show,
// and a hash that finds duplicates without opening anything.
#pragma once

#include <string>
#include <string_view>

#include "store/config_store.hpp"
#include "util/crypto.hpp"

namespace modelgate::core {

// Sets the secret of k: sealed form, hint and hash.
void set_provider_key_secret(store::ProviderKeyRecord& k, const crypto::SecretBox& secrets,
                             std::string_view secret);

// Keys stored before fingerprints were keyed (plain SHA-256) or hints were
// shortened get both recomputed. Run at start; cheap when nothing changed.
Status refresh_provider_key_fingerprints(store::ConfigStore& store,
                                         const crypto::SecretBox& secrets);

// Moves the single key kept on a provider row (the first schema) into
// provider_keys as "default", once. Run at start, before the first reload.
Status adopt_legacy_provider_keys(store::ConfigStore& store, const crypto::SecretBox& secrets);

}  // namespace modelgate::core

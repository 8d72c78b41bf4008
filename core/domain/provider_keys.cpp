#include "domain/provider_keys.hpp"

#include "util/log.hpp"

namespace modelgate::core {

void set_provider_key_secret(store::ProviderKeyRecord& k, const crypto::SecretBox& secrets,
                             std::string_view secret) {
    k.api_key_sealed = secrets.seal(secret);
    k.api_key_hint = crypto::mask_secret(secret);
    k.key_hash = secrets.fingerprint(secret);
}

Status refresh_provider_key_fingerprints(store::ConfigStore& store,
                                         const crypto::SecretBox& secrets) {
    auto keys = store.list_provider_keys();
    if (!keys) return keys.error();
    int refreshed = 0;
    for (auto k : keys.value()) {
        auto secret = secrets.open(k.api_key_sealed);
        if (!secret) continue;  // another master key: reported where the key is used
        std::string hash = secrets.fingerprint(*secret);
        std::string hint = crypto::mask_secret(*secret);
        if (hash == k.key_hash && hint == k.api_key_hint) continue;
        k.key_hash = hash;
        k.api_key_hint = hint;
        if (auto st = store.update_provider_key(k); !st) return st.error();
        ++refreshed;
    }
    if (refreshed > 0)
        MG_INFO("app", "refreshed the fingerprint and hint of " << refreshed << " upstream key(s)");
    return Ok{};
}

Status adopt_legacy_provider_keys(store::ConfigStore& store, const crypto::SecretBox& secrets) {
    auto providers = store.list_providers();
    if (!providers) return providers.error();
    for (auto p : providers.value()) {
        if (!p.api_key_sealed || p.api_key_sealed->empty()) continue;
        auto secret = secrets.open(*p.api_key_sealed);
        if (!secret) {
            MG_WARN("app", "the key stored on provider '"
                               << p.name
                               << "' cannot be decrypted with this gateway's master key; "
                                  "leaving it in place");
            continue;
        }
        store::ProviderKeyRecord k;
        k.provider_id = p.id;
        k.label = "default";
        set_provider_key_secret(k, secrets, *secret);
        auto id = store.create_provider_key(k);
        // Another instance may have moved it first: the unique key says so.
        if (!id && id.error().code != ErrorCode::conflict) return id.error();
        p.api_key_sealed.reset();
        p.api_key_hint.clear();
        if (auto st = store.update_provider(p); !st) return st.error();
        MG_INFO("app", "moved the upstream key of provider '" << p.name
                                                              << "' to its key list as 'default'");
    }
    return Ok{};
}

}  // namespace modelgate::core

// Gateway API keys: "sk-" + 48 hex characters (192 random bits). Only the
// SHA-256 of a key is stored, with a short display prefix; a random key this
// long needs no slow hash, and lookups stay O(1) on the hot path.
#pragma once

#include <string>

namespace modelgate::core::auth {

struct NewApiKey {
    std::string secret;  // shown once, never stored
    std::string hash;
    std::string prefix;  // e.g. "sk-3f9a1c"
};

NewApiKey generate_api_key();
std::string hash_api_key(const std::string& secret);

}  // namespace modelgate::core::auth

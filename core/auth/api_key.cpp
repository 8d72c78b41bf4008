#include "auth/api_key.hpp"

#include "util/crypto.hpp"

namespace modelgate::core::auth {

NewApiKey generate_api_key() {
    NewApiKey k;
    k.secret = "sk-" + crypto::random_hex(24);
    k.hash = hash_api_key(k.secret);
    k.prefix = k.secret.substr(0, 9);
    return k;
}

std::string hash_api_key(const std::string& secret) {
    return crypto::sha256_hex(secret);
}

}  // namespace modelgate::core::auth

// Hashing, random tokens, constant-time comparison and the secret box that keeps
// upstream provider keys encrypted at rest (AES-256-GCM), all on OpenSSL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modelgate::core::crypto {

std::string sha256_hex(std::string_view data);
std::string random_hex(std::size_t bytes);
std::string random_base64url(std::size_t bytes);
// Compares in time independent of where the inputs differ (lengths may leak).
bool constant_time_equal(std::string_view a, std::string_view b);
std::string hex_encode(std::string_view bytes);
std::optional<std::string> hex_decode(std::string_view hex);
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// Authenticated encryption of small secrets with one 32-byte master key.
// Sealed form: "v1:" + base64(nonce[12] | ciphertext | tag[16]).
class SecretBox {
  public:
    explicit SecretBox(std::string key32);
    std::string seal(std::string_view plaintext) const;
    // nullopt when the text was not sealed with this key or was altered.
    std::optional<std::string> open(std::string_view sealed) const;
    // 64 hex characters identifying a secret (to find duplicates) that nobody
    // without the master key can test a guess against (HMAC-SHA256).
    std::string fingerprint(std::string_view secret) const;

  private:
    std::string key_;
};

// "sk-a…wxyz" (24+ characters), "sk…yz" (12+), "…" (shorter): enough to
// recognise a secret, never more than a third of it.
std::string mask_secret(std::string_view secret);

}  // namespace modelgate::core::crypto

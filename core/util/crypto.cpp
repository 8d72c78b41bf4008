#include "util/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

namespace modelgate::core::crypto {

std::string sha256_hex(std::string_view data) {
    // OpenSSL 3's one-shot SHA256() looks the algorithm up on every call; fetch
    // it once (this runs for every proxied request).
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned int len = 0;
    if (md == nullptr || EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr) != 1) {
        SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    }
    return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

static std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
    return out;
}

std::string random_hex(std::size_t bytes) {
    return hex_encode(random_bytes(bytes));
}

std::string random_base64url(std::size_t bytes) {
    std::string b = base64_encode(random_bytes(bytes));
    for (char& c : b) {
        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
    }
    while (!b.empty() && b.back() == '=')
        b.pop_back();
    return b;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hex_encode(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    auto val = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = val(hex[i]), lo = val(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out(3 * text.size() / 4, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    std::size_t len = static_cast<std::size_t>(n);
    if (!text.empty() && text.back() == '=') --len;
    if (text.size() > 1 && text[text.size() - 2] == '=') --len;
    out.resize(len);
    return out;
}

SecretBox::SecretBox(std::string key32) : key_(std::move(key32)) {
    if (key_.size() != 32) throw std::invalid_argument("secret box key must be 32 bytes");
}

namespace {
struct CtxDeleter {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;
constexpr std::size_t kNonce = 12, kTag = 16;
}  // namespace

std::string SecretBox::seal(std::string_view plaintext) const {
    std::string nonce = random_bytes(kNonce);
    std::string ct(plaintext.size(), '\0');
    unsigned char tag[kTag];
    CtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    auto k = reinterpret_cast<const unsigned char*>(key_.data());
    auto iv = reinterpret_cast<const unsigned char*>(nonce.data());
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, iv) != 1 ||
        EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(ct.data()), &len,
                          reinterpret_cast<const unsigned char*>(plaintext.data()),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(ct.data()) + len, &len) !=
            1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, tag) != 1) {
        throw std::runtime_error("AES-GCM encryption failed");
    }
    std::string blob = nonce + ct + std::string(reinterpret_cast<const char*>(tag), kTag);
    return "v1:" + base64_encode(blob);
}

std::optional<std::string> SecretBox::open(std::string_view sealed) const {
    if (sealed.substr(0, 3) != "v1:") return std::nullopt;
    auto blob = base64_decode(sealed.substr(3));
    if (!blob || blob->size() < kNonce + kTag) return std::nullopt;
    std::string_view b(*blob);
    std::string_view nonce = b.substr(0, kNonce), ct = b.substr(kNonce, b.size() - kNonce - kTag),
                     tag = b.substr(b.size() - kTag);
    std::string pt(ct.size(), '\0');
    CtxPtr ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    auto k = reinterpret_cast<const unsigned char*>(key_.data());
    auto iv = reinterpret_cast<const unsigned char*>(nonce.data());
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, iv) != 1 ||
        EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(pt.data()), &len,
                          reinterpret_cast<const unsigned char*>(ct.data()),
                          static_cast<int>(ct.size())) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, const_cast<char*>(tag.data())) !=
            1 ||
        EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(pt.data()) + len, &len) !=
            1) {
        return std::nullopt;
    }
    return pt;
}

std::string SecretBox::fingerprint(std::string_view secret) const {
    // A key of its own for fingerprints, derived from the master key, so the
    // same bytes never serve both AES-GCM and HMAC.
    static constexpr std::string_view kLabel = "modelgate fingerprint v1";
    unsigned char derived[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int derived_len = 0, mac_len = 0;
    if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
             reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), derived,
             &derived_len) == nullptr ||
        HMAC(EVP_sha256(), derived, static_cast<int>(derived_len),
             reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), mac,
             &mac_len) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return hex_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::string mask_secret(std::string_view secret) {
    // At most a third of a secret shows, and nothing of a short one.
    if (secret.size() >= 24)
        return std::string(secret.substr(0, 4)) + "…" +
               std::string(secret.substr(secret.size() - 4));
    if (secret.size() >= 12)
        return std::string(secret.substr(0, 2)) + "…" +
               std::string(secret.substr(secret.size() - 2));
    return secret.empty() ? "" : "…";
}

}  // namespace modelgate::core::crypto

#include "domain/provider_secrets.hpp"

#include <array>
#include <cctype>

#include "util/redact.hpp"

namespace modelgate::core {

namespace {

bool is_sealed(const nlohmann::json& v) {
    return v.is_string() && v.get_ref<const std::string&>().rfind(kSealedPrefix, 0) == 0;
}

std::string_view sealed_part(const nlohmann::json& v) {
    return std::string_view(v.get_ref<const std::string&>()).substr(kSealedPrefix.size());
}

nlohmann::json* extra_headers(nlohmann::json& options) {
    if (!options.is_object()) return nullptr;
    auto it = options.find("extra_headers");
    return it != options.end() && it->is_object() ? &*it : nullptr;
}

}  // namespace

bool is_secret_header(std::string_view name) {
    if (is_sensitive_name(name)) return true;
    std::string n;
    for (char c : name)
        n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    static constexpr std::array<std::string_view, 8> kParts = {
        "key", "token", "secret", "auth", "password", "cookie", "credential", "signature"};
    for (auto part : kParts) {
        if (n.find(part) != std::string::npos) return true;
    }
    return false;
}

void seal_extra_headers(nlohmann::json& options, const crypto::SecretBox& secrets,
                        const nlohmann::json& stored_options) {
    auto* headers = extra_headers(options);
    if (headers == nullptr) return;
    const nlohmann::json* stored = nullptr;
    if (stored_options.is_object()) {
        auto it = stored_options.find("extra_headers");
        if (it != stored_options.end() && it->is_object()) stored = &*it;
    }
    for (auto& [name, value] : headers->items()) {
        if (!is_secret_header(name) || !value.is_string() || is_sealed(value)) continue;
        const std::string& given = value.get_ref<const std::string&>();
        if (stored != nullptr) {
            auto old = stored->find(name);
            if (old != stored->end() && is_sealed(*old)) {
                auto plain = secrets.open(sealed_part(*old));
                if (plain && crypto::mask_secret(*plain) == given) {
                    value = *old;  // sent back as it was shown: unchanged
                    continue;
                }
            }
        }
        value = std::string(kSealedPrefix) + secrets.seal(given);
    }
}

std::optional<std::string> open_extra_headers(nlohmann::json& options,
                                              const crypto::SecretBox& secrets) {
    auto* headers = extra_headers(options);
    if (headers == nullptr) return std::nullopt;
    for (auto& [name, value] : headers->items()) {
        if (!is_sealed(value)) continue;
        auto plain = secrets.open(sealed_part(value));
        if (!plain) {
            return "the extra header '" + name +
                   "' cannot be decrypted with this gateway's master key";
        }
        value = *plain;
    }
    return std::nullopt;
}

void mask_extra_headers(nlohmann::json& options, const crypto::SecretBox& secrets) {
    auto* headers = extra_headers(options);
    if (headers == nullptr) return;
    for (auto& [name, value] : headers->items()) {
        if (!is_sealed(value)) continue;
        auto plain = secrets.open(sealed_part(value));
        value = plain ? crypto::mask_secret(*plain) : std::string("…");
    }
}

}  // namespace modelgate::core

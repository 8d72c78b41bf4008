#include "domain/api_key_auth.hpp"

#include <cctype>

#include "auth/api_key.hpp"
#include "domain/time_rules.hpp"

namespace modelgate::core {

std::string_view bearer_token(std::string_view authorization) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
            s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
            s.remove_suffix(1);
        return s;
    };
    std::string_view token = trim(authorization);
    if (token.size() >= 7) {
        bool bearer = true;
        for (std::size_t i = 0; i < 6 && bearer; ++i)
            bearer = std::tolower(static_cast<unsigned char>(token[i])) == "bearer"[i];
        if (bearer && (token[6] == ' ' || token[6] == '\t')) token = trim(token.substr(7));
    }
    return token;
}

Result<const KeyRuntime*> authenticate_api_key(const Snapshot& snapshot,
                                               std::string_view authorization, int64_t now_ms) {
    std::string_view token = bearer_token(authorization);
    if (token.empty()) {
        return make_error(
            ErrorCode::unauthorized,
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
            "missing_api_key");
    }
    const KeyRuntime* key = snapshot.find_key(auth::hash_api_key(std::string(token)));
    if (key == nullptr)
        return make_error(ErrorCode::unauthorized, "Incorrect API key provided.",
                          "invalid_api_key");
    if (!key->active)
        return make_error(ErrorCode::unauthorized, "This API key has been disabled.",
                          "api_key_disabled");
    if (!key->time_rules.empty()) {
        std::string why;
        if (!time_rules_allow(key->time_rules, local_clock(now_ms), &why)) {
            return make_error(ErrorCode::forbidden,
                              "This API key may not be used at this time: " + why + ".",
                              "access_time_restricted");
        }
    }
    return key;
}

}  // namespace modelgate::core

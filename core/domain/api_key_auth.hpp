// The one check of a gateway API key, for /v1 and for plugin routes declared
// for API keys: "Authorization: Bearer <key>" (scheme in any case), the key
// known and switched on, and its time rules allowing this moment. Reads only
// the in-memory snapshot, so it runs on reactor threads.
#pragma once

#include <cstdint>
#include <string_view>

#include "domain/snapshot.hpp"
#include "util/result.hpp"

namespace modelgate::core {

// The token of an Authorization header ("Bearer x" -> "x"), trimmed; the
// header itself when it names no scheme.
std::string_view bearer_token(std::string_view authorization);

// 401 missing_api_key / invalid_api_key / api_key_disabled, or 403
// access_time_restricted; else the key.
Result<const KeyRuntime*> authenticate_api_key(const Snapshot& snapshot,
                                               std::string_view authorization, int64_t now_ms);

}  // namespace modelgate::core

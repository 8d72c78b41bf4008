// MiniMax's error conventions: `base_resp` status codes (also inside HTTP 200
// answers and stream chunks) and HTTP 529 "overloaded", mapped onto the
// gateway's error classes and OpenAI-shaped error objects.
#pragma once

#include <cstdint>
#include <modelgate/sdk.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace modelgate::providers::minimax {

struct BaseRespError {
    int64_t code = 0;
    std::string message;  // status_msg, may be empty
};

// The error a body's `base_resp` reports; nullopt when there is none or its
// status_code is 0 (success).
std::optional<BaseRespError> base_resp_error(const sdk::json& body);

// 1002/1039 rate_limited, 1004/2049 auth, 1008 quota, 2013/1026/1027
// invalid_request, 1000/1001/1013 retryable; nullopt for codes not known here.
std::optional<sdk::ErrorClass> class_of(int64_t code);

// {"message": "<status_msg> (<code>)", "type": ..., "code": "<code>"}
sdk::json error_object(const BaseRespError& e);

// The adapter's classify_error: base_resp first, then HTTP 529 as a rate
// limit, then the SDK's status-based default.
sdk::ErrorInfo classify(int status, std::string_view headers, std::string_view body);

}  // namespace modelgate::providers::minimax

#include "util/result.hpp"

#include <array>

namespace modelgate::core {

namespace {

struct ErrorInfo {
    ErrorCode code;
    int status;
    const char* type;
    const char* default_code;
    CallStatus call = CallStatus::error;
};

// Every error the gateway answers, in ErrorCode order.
constexpr std::array kErrors = {
    ErrorInfo{ErrorCode::invalid_request, 400, "invalid_request_error", "invalid_request"},
    ErrorInfo{ErrorCode::invalid_json, 400, "invalid_request_error", "invalid_json"},
    ErrorInfo{ErrorCode::unauthorized, 401, "authentication_error", "invalid_api_key"},
    ErrorInfo{ErrorCode::forbidden, 403, "permission_error", "forbidden"},
    ErrorInfo{ErrorCode::not_found, 404, "invalid_request_error", "not_found"},
    ErrorInfo{ErrorCode::model_not_found, 404, "invalid_request_error", "model_not_found"},
    ErrorInfo{ErrorCode::method_not_allowed, 405, "invalid_request_error", "method_not_allowed"},
    ErrorInfo{ErrorCode::request_timeout, 408, "invalid_request_error", "request_timeout"},
    ErrorInfo{ErrorCode::conflict, 409, "invalid_request_error", "conflict"},
    ErrorInfo{ErrorCode::body_too_large, 413, "invalid_request_error", "request_too_large"},
    ErrorInfo{ErrorCode::uri_too_long, 414, "invalid_request_error", "uri_too_long"},
    ErrorInfo{ErrorCode::unsupported_media_type, 415, "invalid_request_error",
              "unsupported_media_type"},
    ErrorInfo{ErrorCode::expectation_failed, 417, "invalid_request_error", "expectation_failed"},
    ErrorInfo{ErrorCode::headers_too_large, 431, "invalid_request_error",
              "request_header_too_large"},
    ErrorInfo{ErrorCode::rate_limited, 429, "rate_limit_error", "rate_limited",
              CallStatus::local_rate_limited},
    ErrorInfo{ErrorCode::upstream_rate_limited, 429, "rate_limit_error", "rate_limit_exceeded",
              CallStatus::rate_limited},
    ErrorInfo{ErrorCode::internal, 500, "server_error", "internal_error"},
    ErrorInfo{ErrorCode::not_implemented, 501, "invalid_request_error", "not_implemented"},
    ErrorInfo{ErrorCode::upstream_error, 502, "upstream_error", "upstream_error"},
    ErrorInfo{ErrorCode::unavailable, 503, "server_error", "unavailable"},
    ErrorInfo{ErrorCode::upstream_timeout, 504, "timeout_error", "upstream_timeout",
              CallStatus::timeout},
    ErrorInfo{ErrorCode::http_version, 505, "invalid_request_error", "http_version_not_supported"},
    ErrorInfo{ErrorCode::shutting_down, 503, "server_error", "shutting_down",
              CallStatus::cancelled},
};

constexpr bool table_in_order() {
    for (std::size_t i = 0; i < kErrors.size(); ++i) {
        if (static_cast<std::size_t>(kErrors[i].code) != i) return false;
    }
    return true;
}
static_assert(table_in_order() &&
                  kErrors.size() == static_cast<std::size_t>(ErrorCode::shutting_down) + 1,
              "kErrors must list every ErrorCode in declaration order");

const ErrorInfo& info(ErrorCode code) {
    auto i = static_cast<std::size_t>(code);
    return i < kErrors.size() ? kErrors[i] : kErrors[static_cast<std::size_t>(ErrorCode::internal)];
}

}  // namespace

int http_status(ErrorCode code) {
    return info(code).status;
}

const char* error_type(ErrorCode code) {
    return info(code).type;
}

const char* default_error_code(ErrorCode code) {
    return info(code).default_code;
}

CallStatus call_status(ErrorCode code) {
    return info(code).call;
}

ErrorCode error_code_for_status(int status) {
    for (const auto& e : kErrors) {
        if (e.status == status) return e.code;
    }
    return status >= 500 ? ErrorCode::internal : ErrorCode::invalid_request;
}

}  // namespace modelgate::core

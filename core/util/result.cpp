#include "util/result.hpp"

namespace modelgate::core {

int http_status(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_request:
        case ErrorCode::invalid_json:
            return 400;
        case ErrorCode::unauthorized:
            return 401;
        case ErrorCode::forbidden:
            return 403;
        case ErrorCode::not_found:
        case ErrorCode::model_not_found:
            return 404;
        case ErrorCode::conflict:
            return 409;
        case ErrorCode::body_too_large:
            return 413;
        case ErrorCode::rate_limited:
            return 429;
        case ErrorCode::internal:
            return 500;
        case ErrorCode::upstream_error:
            return 502;
        case ErrorCode::unavailable:
            return 503;
        case ErrorCode::upstream_timeout:
            return 504;
    }
    return 500;
}

const char* error_type(ErrorCode code) {
    switch (code) {
        case ErrorCode::unauthorized:
            return "authentication_error";
        case ErrorCode::forbidden:
            return "permission_error";
        case ErrorCode::rate_limited:
            return "rate_limit_error";
        case ErrorCode::internal:
        case ErrorCode::unavailable:
            return "server_error";
        case ErrorCode::upstream_error:
            return "upstream_error";
        case ErrorCode::upstream_timeout:
            return "timeout_error";
        default:
            return "invalid_request_error";
    }
}

const char* default_error_code(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_request:
            return "invalid_request";
        case ErrorCode::invalid_json:
            return "invalid_json";
        case ErrorCode::unauthorized:
            return "invalid_api_key";
        case ErrorCode::forbidden:
            return "forbidden";
        case ErrorCode::not_found:
            return "not_found";
        case ErrorCode::model_not_found:
            return "model_not_found";
        case ErrorCode::conflict:
            return "conflict";
        case ErrorCode::body_too_large:
            return "request_too_large";
        case ErrorCode::rate_limited:
            return "rate_limited";
        case ErrorCode::internal:
            return "internal_error";
        case ErrorCode::upstream_error:
            return "upstream_error";
        case ErrorCode::unavailable:
            return "unavailable";
        case ErrorCode::upstream_timeout:
            return "upstream_timeout";
    }
    return "internal_error";
}

}  // namespace modelgate::core

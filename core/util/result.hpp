// Result type for the request path: no exceptions cross layers there. An Error
// carries a stable code; one table (result.cpp) maps every code to its HTTP
// status, its OpenAI error "type", its default OpenAI "code" and, for calls,
// the status the request log records.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "util/call_status.hpp"

namespace modelgate::core {

enum class ErrorCode {
    invalid_request,         // 400 invalid_request_error
    invalid_json,            // 400 invalid_request_error
    unauthorized,            // 401 authentication_error
    forbidden,               // 403 permission_error
    not_found,               // 404 invalid_request_error
    model_not_found,         // 404 invalid_request_error
    method_not_allowed,      // 405 invalid_request_error
    request_timeout,         // 408 invalid_request_error
    conflict,                // 409 invalid_request_error
    body_too_large,          // 413 invalid_request_error
    uri_too_long,            // 414 invalid_request_error
    unsupported_media_type,  // 415 invalid_request_error
    expectation_failed,      // 417 invalid_request_error
    headers_too_large,       // 431 invalid_request_error
    rate_limited,            // 429 rate_limit_error (the gateway's own: queue, paused keys)
    upstream_rate_limited,   // 429 rate_limit_error (the upstream refused: rate or quota)
    internal,                // 500 server_error
    not_implemented,         // 501 invalid_request_error
    upstream_error,          // 502 upstream_error
    unavailable,             // 503 server_error
    upstream_timeout,        // 504 timeout_error
    http_version,            // 505 invalid_request_error
    shutting_down,           // 503 server_error (the call was cancelled)
};

struct Error {
    ErrorCode code = ErrorCode::internal;
    std::string message;
    std::string detail_code;  // the OpenAI "code" field; defaults from code when empty
    int retry_after_s = 0;    // > 0: sent as Retry-After
};

int http_status(ErrorCode code);
const char* error_type(ErrorCode code);
const char* default_error_code(ErrorCode code);
// What the request log records for a call that ended with this error.
CallStatus call_status(ErrorCode code);
// The code for an HTTP error status (the HTTP layer's own refusals).
ErrorCode error_code_for_status(int status);

template <class T>
class Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    T* operator->() { return &value(); }
    const Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

inline Error make_error(ErrorCode code, std::string message, std::string detail_code = {}) {
    return Error{code, std::move(message), std::move(detail_code)};
}

}  // namespace modelgate::core

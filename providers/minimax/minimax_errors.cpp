#include "minimax_errors.hpp"

#include <charconv>
#include <modelgate/json_limits.hpp>

namespace modelgate::providers::minimax {

namespace {

using sdk::ErrorClass;
using sdk::json;

constexpr int kOverloaded = 529;

const char* type_of(ErrorClass c) {
    switch (c) {
        case ErrorClass::rate_limited:
            return "rate_limit_error";
        case ErrorClass::auth:
            return "authentication_error";
        case ErrorClass::quota:
            return "insufficient_quota";
        case ErrorClass::invalid_request:
            return "invalid_request_error";
        default:
            return "upstream_error";
    }
}

// Does the body carry an error object the SDK's default keeps as is?
bool has_error_member(const json& body) {
    if (!body.is_object()) return false;
    auto it = body.find("error");
    return it != body.end() && ((it->is_object() && it->contains("message")) || it->is_string());
}

}  // namespace

std::optional<BaseRespError> base_resp_error(const json& body) {
    if (!body.is_object()) return std::nullopt;
    auto br = body.find("base_resp");
    if (br == body.end() || !br->is_object()) return std::nullopt;
    auto sc = br->find("status_code");
    if (sc == br->end()) return std::nullopt;
    int64_t code = 0;
    if (sc->is_number_integer()) {
        code = sc->get<int64_t>();
    } else if (sc->is_string()) {
        const auto& s = sc->get_ref<const std::string&>();
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), code);
        if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    } else {
        return std::nullopt;
    }
    if (code == 0) return std::nullopt;
    BaseRespError e;
    e.code = code;
    if (auto msg = br->find("status_msg"); msg != br->end() && msg->is_string())
        e.message = msg->get<std::string>();
    return e;
}

std::optional<ErrorClass> class_of(int64_t code) {
    switch (code) {
        case 1002:  // rate limit (requests)
        case 1039:  // rate limit (tokens)
            return ErrorClass::rate_limited;
        case 1004:  // authentication failed
        case 2049:  // invalid API key
            return ErrorClass::auth;
        case 1008:  // insufficient balance
            return ErrorClass::quota;
        case 2013:  // invalid parameters
        case 1026:  // input flagged by moderation
        case 1027:  // output flagged by moderation
            return ErrorClass::invalid_request;
        case 1000:  // unknown error
        case 1001:  // timeout
        case 1013:  // internal service error
            return ErrorClass::retryable;
        default:
            return std::nullopt;
    }
}

json error_object(const BaseRespError& e) {
    std::string code = std::to_string(e.code);
    std::string message = e.message.empty() ? "MiniMax error" : e.message;
    return sdk::make_error(message + " (" + code + ")",
                           type_of(class_of(e.code).value_or(ErrorClass::upstream)), code);
}

sdk::ErrorInfo classify(int status, std::string_view headers, std::string_view body) {
    json parsed = modelgate::sdk::parse_json(body);
    if (auto br = base_resp_error(parsed)) {
        // Codes not known here: an HTTP error status still says something;
        // a 2xx says nothing, so the error is the upstream's.
        sdk::ErrorInfo info = status >= 400 ? classify(status, headers, "")
                                            : sdk::default_classify_error(502, headers, "");
        if (status < 400) info.error_class = ErrorClass::upstream;
        info.error_class = class_of(br->code).value_or(info.error_class);
        info.error = error_object(*br);
        return info;
    }
    if (status == kOverloaded) {
        sdk::ErrorInfo info = sdk::default_classify_error(status, headers, body);
        info.error_class = ErrorClass::rate_limited;
        if (!has_error_member(parsed)) {
            std::string msg = "MiniMax is overloaded (HTTP 529); retry later";
            std::string snippet(body.substr(0, 300));
            if (!snippet.empty()) msg += ": " + snippet;
            info.error = sdk::make_error(msg, "rate_limit_error", "overloaded");
        }
        return info;
    }
    return sdk::default_classify_error(status, headers, body);
}

}  // namespace modelgate::providers::minimax

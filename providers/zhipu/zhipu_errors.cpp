#include "zhipu_errors.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <modelgate/json_limits.hpp>

namespace modelgate::providers::zhipu {

namespace {

struct CodeMeaning {
    ErrorClass error_class;
    const char* openai_code;  // nullptr: "zhipu_<code>"
};

// Zhipu's published business codes. Beyond the codes every client meets, the
// table knows the coding-plan limits (1308-1310, whose messages say when the
// limit resets) and the fair-use lock (1313).
std::optional<CodeMeaning> meaning_of(int code) {
    switch (code) {
        case 500:   // internal error
        case 1230:  // API call process error
        case 1234:  // network error
            return CodeMeaning{ErrorClass::retryable, nullptr};
        case 1000:  // authentication failed
        case 1001:  // no Authorization header
        case 1002:  // token invalid
        case 1003:  // token expired
        case 1004:  // token rejected
            return CodeMeaning{ErrorClass::auth, nullptr};
        case 1100:  // account read/write
        case 1110:  // account inactive
        case 1111:  // account does not exist
        case 1112:  // account locked
        case 1120:  // account cannot be accessed
        case 1121:  // account locked for irregular activity
        case 1220:  // no permission for this API
        case 1221:  // API taken offline
        case 1222:  // API does not exist
        case 1313:  // fair-use violation
            return CodeMeaning{ErrorClass::permission, nullptr};
        case 1113:  // account in arrears (no balance)
        case 1304:  // daily call limit
        case 1308:  // usage limit of the plan's window
        case 1309:  // plan expired
        case 1310:  // weekly/monthly limit
            return CodeMeaning{ErrorClass::quota, nullptr};
        case 1200:  // API call error
        case 1210:  // invalid parameters
        case 1212:  // method not supported by the model
        case 1213:  // parameter missing
        case 1214:  // parameter invalid
        case 1215:  // parameters conflict
        case 1231:  // duplicate request
        case 1261:  // prompt too long
        case 1300:  // blocked by policy
            return CodeMeaning{ErrorClass::invalid_request, nullptr};
        case 1211:  // model does not exist
            return CodeMeaning{ErrorClass::not_found, "model_not_found"};
        case 1301:  // unsafe or sensitive content
            return CodeMeaning{ErrorClass::invalid_request, "content_filter"};
        case 1302:  // concurrency too high
        case 1303:  // frequency too high
        case 1305:  // too many requests, busy
            return CodeMeaning{ErrorClass::rate_limited, nullptr};
        default:
            return std::nullopt;
    }
}

const char* openai_type(ErrorClass c) {
    switch (c) {
        case ErrorClass::auth:
            return "authentication_error";
        case ErrorClass::permission:
            return "permission_error";
        case ErrorClass::quota:
            return "insufficient_quota";
        case ErrorClass::invalid_request:
        case ErrorClass::not_found:
            return "invalid_request_error";
        case ErrorClass::rate_limited:
            return "rate_limit_error";
        case ErrorClass::retryable:
            return "server_error";
        default:
            return "upstream_error";
    }
}

// A business code as digits: "1302" or 1302; empty for anything else.
std::string code_text(const json& code) {
    if (code.is_number_integer()) return std::to_string(code.get<int64_t>());
    if (!code.is_string()) return {};
    const auto& s = code.get_ref<const std::string&>();
    if (s.empty() || s.size() > 9 ||
        !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
        return {};
    return s;
}

std::string text_of(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return {};
    return v.dump();
}

}  // namespace

std::optional<BusinessError> read_business_error(const json& body) {
    if (!body.is_object()) return std::nullopt;
    if (auto e = body.find("error"); e != body.end() && !e->is_null()) {
        BusinessError out;
        if (e->is_object()) {
            if (auto c = e->find("code"); c != e->end()) out.code = code_text(*c);
            if (auto m = e->find("message"); m != e->end()) out.message = text_of(*m);
        } else {
            out.message = text_of(*e);
        }
        return out;
    }
    // The older envelope: {"code": 1302, "msg": "...", "success": false}.
    auto c = body.find("code");
    auto m = body.find("msg");
    if (c != body.end() && m != body.end() && !body.contains("choices") && !body.contains("data")) {
        std::string code = code_text(*c);
        if (!code.empty() && code != "200") return BusinessError{code, text_of(*m)};
    }
    return std::nullopt;
}

MappedError map_business_error(const BusinessError& e, ErrorClass fallback) {
    MappedError out{fallback, json::object()};
    const char* openai_code = nullptr;
    int code = 0;
    if (!e.code.empty()) code = std::stoi(e.code);  // digits only, at most 9 of them
    if (auto m = meaning_of(code); m && !e.code.empty()) {
        out.error_class = m->error_class;
        openai_code = m->openai_code;
    }
    std::string message = e.message.empty() ? "Zhipu answered with error " + e.code : e.message;
    json code_field = openai_code != nullptr ? json(openai_code)
                      : e.code.empty()       ? json(openai_type(out.error_class))
                                             : json("zhipu_" + e.code);
    out.error = sdk::make_error(message, openai_type(out.error_class), code_field);
    if (!e.code.empty()) out.error["zhipu_code"] = e.code;
    return out;
}

json map_error_object(const json& error) {
    if (!error.is_object()) return error;
    auto c = error.find("code");
    if (c == error.end()) return error;
    std::string code = code_text(*c);
    if (code.empty()) return error;
    BusinessError e{code, error.contains("message") ? text_of(error["message"]) : std::string()};
    return map_business_error(e, ErrorClass::upstream).error;
}

json network_error() {
    return sdk::make_error(
        "Zhipu stopped generating the answer because of a network error on its side "
        "(finish_reason \"network_error\"); retry the request.",
        "server_error", "zhipu_network_error");
}

bool ended_in_network_error(const json& answer) {
    if (!answer.is_object()) return false;
    auto choices = answer.find("choices");
    if (choices == answer.end() || !choices->is_array()) return false;
    return std::any_of(choices->begin(), choices->end(), [](const json& c) {
        if (!c.is_object()) return false;
        auto fr = c.find("finish_reason");
        return fr != c.end() && fr->is_string() &&
               fr->get_ref<const std::string&>() == "network_error";
    });
}

ErrorInfo classify(int status, std::string_view headers, std::string_view body) {
    ErrorInfo info = sdk::default_classify_error(status, headers, body);
    json parsed = modelgate::sdk::parse_json(body);
    auto business = read_business_error(parsed);
    if (!business || business->code.empty()) {
        // No business code (a proxy's page, an OpenAI-style error): the default
        // classification by status, with the upstream's error object kept.
        if (status >= 200 && status < 300 && ended_in_network_error(parsed)) {
            info.error_class = ErrorClass::retryable;
            info.error = network_error();
        }
        return info;
    }
    MappedError mapped = map_business_error(*business, info.error_class);
    info.error_class = mapped.error_class;
    info.error = std::move(mapped.error);
    if (info.error_class == ErrorClass::quota)
        info.reset_at_unix_ms = reset_time_ms(business->message);
    return info;
}

int64_t reset_time_ms(std::string_view m) {
    auto digits = [&](std::size_t at, std::size_t n, int& out) {
        out = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (m[i] < '0' || m[i] > '9') return false;
            out = out * 10 + (m[i] - '0');
        }
        return true;
    };
    constexpr std::size_t kLen = 19;  // YYYY-MM-DD HH:MM:SS
    for (std::size_t i = 0; i + kLen <= m.size(); ++i) {
        int year, month, day, hour, minute, second;
        if (!digits(i, 4, year) || m[i + 4] != '-' || !digits(i + 5, 2, month) || m[i + 7] != '-' ||
            !digits(i + 8, 2, day) || m[i + 10] != ' ' || !digits(i + 11, 2, hour) ||
            m[i + 13] != ':' || !digits(i + 14, 2, minute) || m[i + 16] != ':' ||
            !digits(i + 17, 2, second))
            continue;
        if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
            second > 60)
            continue;
        std::tm tm{};
        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = minute;
        tm.tm_sec = second;
        constexpr int64_t kChinaOffsetSeconds = 8 * 3600;  // no daylight saving time
        return (static_cast<int64_t>(timegm(&tm)) - kChinaOffsetSeconds) * 1000;
    }
    return 0;
}

}  // namespace modelgate::providers::zhipu

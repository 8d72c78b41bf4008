// Small helpers both halves of plugins/analysis use: times, the caller's
// language, JSON answers.
#pragma once

#include <ctime>
#include <modelgate/sdk.hpp>
#include <optional>
#include <string>

namespace modelgate::analysis {

using modelgate::sdk::json;

// "YYYY-MM-DDTHH:MM:SS.000Z": sorts as it is timed.
inline std::string iso_utc(std::time_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return buf;
}

// "zh" or "en": the body's "language", else ?language=, else Accept-Language.
inline std::string locale_of(const modelgate::sdk::HttpRequest& req,
                             const json& body = json::object()) {
    std::string l = body.is_object() ? body.value("language", "") : "";
    if (l.empty()) l = req.query_param("language").value_or("");
    if (l.empty()) l = std::string(req.header("accept-language")).substr(0, 2);
    return l.rfind("zh", 0) == 0 ? "zh" : "en";
}

// A nullable column as JSON: the value, or null.
template <class T>
json value_or_null(const std::optional<T>& v) {
    return v ? json(*v) : json();
}

inline json error_body(const std::string& message, const std::string& code) {
    return {{"error", {{"message", message}, {"type", "invalid_request_error"}, {"code", code}}}};
}

}  // namespace modelgate::analysis

#include "http/request.hpp"

#include "http/request_util.hpp"
#include "util/text.hpp"

namespace modelgate::core::http {

std::string_view Request::header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
        if (name == lower_name) return value;
    }
    return {};
}

bool Request::has_header(std::string_view lower_name) const {
    for (const auto& h : headers) {
        if (h.first == lower_name) return true;
    }
    return false;
}

std::string Request::cookie(std::string_view name) const {
    for (const auto& [header_name, value] : headers) {
        if (header_name != "cookie") continue;
        std::string v = cookie_value(value, name);
        if (!v.empty()) return v;
    }
    return {};
}

std::unordered_map<std::string, std::string> Request::query_params() const {
    return parse_query(query);
}

std::string Request::media_type() const {
    std::string_view ct = header("content-type");
    std::size_t semi = ct.find(';');
    std::string_view type = ct.substr(0, semi);
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t'))
        type.remove_suffix(1);
    return ascii_lower(type);
}

}  // namespace modelgate::core::http

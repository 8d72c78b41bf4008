// Small helpers over HTTP request data: query strings, cookies, URL decoding.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace modelgate::core::http {

std::string url_decode(std::string_view s);
// Parses "a=1&b=two" (values URL-decoded; the first occurrence wins).
std::unordered_map<std::string, std::string> parse_query(std::string_view query);
// The value of one cookie in a Cookie header, or empty.
std::string cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace modelgate::core::http

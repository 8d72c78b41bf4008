// An HTTP request as the gateway's handlers see it: plain strings, no
// transport types. Built by the server from what the request parser framed;
// handlers may keep or move it (it owns all its data).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace modelgate::core::http {

using PathParams = std::unordered_map<std::string, std::string>;
// Response headers as written: name, value (CR and LF are never allowed).
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
    std::string method;     // "GET", "POST", ... (HEAD is routed as GET)
    std::string target;     // the request-target as received
    std::string path;       // without the base path and the query; "/" at least
    std::string query;      // after '?', not decoded
    int version_minor = 1;  // HTTP/1.<minor>: 0 or 1
    // Header fields in arrival order; names lower-cased, values trimmed.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string peer_ip;    // the socket's peer
    std::string client_ip;  // peer_ip, or what a trusted proxy forwarded
    PathParams params;      // {name} segments of the matched route

    // The first value of a header (name in lower case), or empty.
    std::string_view header(std::string_view lower_name) const;
    bool has_header(std::string_view lower_name) const;
    // The value of one cookie from the Cookie headers, or empty.
    std::string cookie(std::string_view name) const;
    // The query string decoded into a map (first occurrence wins).
    std::unordered_map<std::string, std::string> query_params() const;
    // The media type of Content-Type, lower-cased, without parameters.
    std::string media_type() const;
};

}  // namespace modelgate::core::http

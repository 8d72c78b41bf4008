// A blocking HTTP client for tests (libcurl easy): whole requests, and streamed
// requests whose reader can stop early (which closes the connection, as a
// client that goes away would).
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace modelgate::test {

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // lower-cased names; last one wins
    std::vector<std::string> set_cookies;
    std::string body;
    std::string error;  // transport error, empty when the exchange completed
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

HttpResponse http_request(const std::string& method, const std::string& url,
                          const std::string& body = "", const Headers& headers = {},
                          long timeout_ms = 30000);

// Streams a POST; on_data gets body bytes as they arrive and returns false to
// hang up. The response holds what was received.
HttpResponse http_stream(const std::string& url, const std::string& body, const Headers& headers,
                         const std::function<bool(const std::string& chunk)>& on_data,
                         long timeout_ms = 30000);

// Splits an SSE body into its data payloads.
std::vector<std::string> sse_data(const std::string& body);

}  // namespace modelgate::test

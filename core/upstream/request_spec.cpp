#include "upstream/request_spec.hpp"

#include "http/request_util.hpp"

namespace modelgate::core::upstream {

void fill_request_spec(host::UpstreamRequest&& request, const std::string& user_agent,
                       const std::string& secret, RequestSpec& spec) {
    spec.method = std::move(request.method);
    spec.url = std::move(request.url);
    spec.body = std::move(request.body);
    bool has_user_agent = false;
    std::string_view lines = request.headers;
    while (!lines.empty()) {
        std::size_t nl = lines.find('\n');
        std::string_view line = lines.substr(0, nl);
        lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
        if (line.empty()) continue;
        if (line.size() > 11 && (line[0] == 'U' || line[0] == 'u') &&
            http::lower(line.substr(0, 11)) == "user-agent:")
            has_user_agent = true;
        spec.headers.emplace_back(line);
    }
    if (!has_user_agent && !user_agent.empty()) spec.headers.push_back("User-Agent: " + user_agent);
    if (secret.empty()) return;
    if (request.secret_placement == MG_SECRET_BEARER) {
        spec.headers.push_back("Authorization: Bearer " + secret);
    } else if (request.secret_placement == MG_SECRET_HEADER && !request.secret_header.empty()) {
        spec.headers.push_back(request.secret_header + ": " + secret);
    }
}

}  // namespace modelgate::core::upstream

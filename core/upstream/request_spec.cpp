#include "upstream/request_spec.hpp"

#include "http/request_util.hpp"

namespace modelgate::core::upstream {

void fill_request_spec(host::UpstreamRequest&& request, const std::string& user_agent,
                       const std::string& secret, RequestSpec& spec) {
    spec.method = std::move(request.method);
    spec.url = std::move(request.url);
    spec.body = std::move(request.body);
    // Where the secret would go: Authorization, or the adapter's own header.
    std::string secret_header = request.secret_placement == MG_SECRET_BEARER ? "authorization"
                                : request.secret_placement == MG_SECRET_HEADER
                                    ? http::lower(request.secret_header)
                                    : std::string();
    bool has_user_agent = false, has_secret_header = false;
    std::string_view lines = request.headers;
    while (!lines.empty()) {
        std::size_t nl = lines.find('\n');
        std::string_view line = lines.substr(0, nl);
        lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
        if (line.empty()) continue;
        std::string name = http::lower(line.substr(0, line.find(':')));
        while (!name.empty() && name.back() == ' ')
            name.pop_back();
        if (name == "user-agent") has_user_agent = true;
        if (!secret_header.empty() && name == secret_header) has_secret_header = true;
        spec.headers.emplace_back(line);
    }
    if (!has_user_agent && !user_agent.empty()) spec.headers.push_back("User-Agent: " + user_agent);
    // A credential the provider configured itself (extra_headers) replaces the
    // key; it is never sent beside it.
    if (secret.empty() || secret_header.empty() || has_secret_header) return;
    if (request.secret_placement == MG_SECRET_BEARER) {
        spec.headers.push_back("Authorization: Bearer " + secret);
    } else {
        spec.headers.push_back(request.secret_header + ": " + secret);
    }
}

}  // namespace modelgate::core::upstream

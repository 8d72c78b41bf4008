#include "upstream/request_spec.hpp"

#include "util/text.hpp"

namespace modelgate::core::upstream {

void fill_request_spec(host::UpstreamRequest&& request, const std::string& user_agent,
                       const std::string& secret, RequestSpec& spec) {
    spec.method = std::move(request.method);
    spec.url = std::move(request.url);
    spec.body = std::move(request.body);
    // Where the secret would go: Authorization, or the adapter's own header.
    std::string secret_header = request.secret_placement == MG_SECRET_BEARER ? "authorization"
                                : request.secret_placement == MG_SECRET_HEADER
                                    ? ascii_lower(request.secret_header)
                                    : std::string();
    bool has_user_agent = false, has_secret_header = false;
    for (const auto& [name, value] : request.headers) {
        std::string lower_name = ascii_lower(name);
        if (lower_name == "user-agent") has_user_agent = true;
        if (!secret_header.empty() && lower_name == secret_header) has_secret_header = true;
        spec.headers.push_back(name + ": " + value);
    }
    if (!has_user_agent && !user_agent.empty()) spec.headers.push_back("User-Agent: " + user_agent);
    // A credential the provider configured itself (extra_headers) replaces the
    // key; it is never sent beside it.
    spec.secret_line = -1;
    if (secret.empty() || secret_header.empty() || has_secret_header) return;
    spec.secret_prefix = request.secret_placement == MG_SECRET_BEARER
                             ? std::string("Authorization: Bearer ")
                             : request.secret_header + ": ";
    spec.secret_line = static_cast<int>(spec.headers.size());
    spec.headers.push_back(spec.secret_prefix + secret);
}

void set_secret(RequestSpec& spec, const std::string& secret) {
    if (spec.secret_line < 0 || spec.secret_line >= static_cast<int>(spec.headers.size())) return;
    spec.headers[static_cast<std::size_t>(spec.secret_line)] = spec.secret_prefix + secret;
}

}  // namespace modelgate::core::upstream

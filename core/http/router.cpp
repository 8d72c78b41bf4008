#include "http/router.hpp"

#include <algorithm>

namespace modelgate::core::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        std::size_t slash = path.find('/');
        out.push_back(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    }
    return out;
}

}  // namespace

void Router::add(const std::string& method, const std::string& pattern, Handler handler,
                 RouteOptions options) {
    Route route{std::move(handler), std::move(options)};
    if (pattern.find('{') == std::string::npos) {
        static_[pattern][method] = std::move(route);
        return;
    }
    PatternRoute r;
    r.method = method;
    for (auto seg : split_path(pattern))
        r.segments.emplace_back(seg);
    r.route = std::move(route);
    patterns_.push_back(std::move(r));
}

void Router::add_prefix(const std::string& method, const std::string& prefix, Handler handler,
                        const std::string& owner, RouteOptions options) {
    prefixes_.push_back({method, prefix, Route{std::move(handler), std::move(options)}, owner});
    // Longest prefix first.
    std::stable_sort(prefixes_.begin(), prefixes_.end(),
                     [](const PrefixRoute& a, const PrefixRoute& b) {
                         return a.prefix.size() > b.prefix.size();
                     });
}

void Router::remove_owner(const std::string& owner) {
    prefixes_.erase(std::remove_if(prefixes_.begin(), prefixes_.end(),
                                   [&](const PrefixRoute& r) { return r.owner == owner; }),
                    prefixes_.end());
}

bool Router::has_prefix(const std::string& method, const std::string& prefix) const {
    return std::any_of(prefixes_.begin(), prefixes_.end(), [&](const PrefixRoute& r) {
        return r.prefix == prefix && (r.method == method || r.method == "*");
    });
}

Router::Match Router::match(const std::string& method, std::string_view path, const Route*& route,
                            PathParams& params) const {
    bool path_known = false;
    if (auto it = static_.find(std::string(path)); it != static_.end()) {
        path_known = true;
        if (auto m = it->second.find(method); m != it->second.end()) {
            route = &m->second;
            return Match::found;
        }
    }
    auto segments = split_path(path);
    for (const auto& r : patterns_) {
        if (r.segments.size() != segments.size()) continue;
        PathParams p;
        bool ok = true;
        for (std::size_t i = 0; i < segments.size() && ok; ++i) {
            const std::string& want = r.segments[i];
            if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
                p[want.substr(1, want.size() - 2)] = std::string(segments[i]);
            } else if (want != segments[i]) {
                ok = false;
            }
        }
        if (!ok) continue;
        path_known = true;
        if (r.method != method) continue;
        route = &r.route;
        params = std::move(p);
        return Match::found;
    }
    for (const auto& r : prefixes_) {
        bool under = path == r.prefix || (path.size() > r.prefix.size() &&
                                          path.substr(0, r.prefix.size()) == r.prefix &&
                                          (r.prefix.back() == '/' || path[r.prefix.size()] == '/'));
        if (!under) continue;
        path_known = true;
        if (r.method != method && r.method != "*") continue;
        route = &r.route;
        return Match::found;
    }
    return path_known ? Match::method_not_allowed : Match::not_found;
}

}  // namespace modelgate::core::http

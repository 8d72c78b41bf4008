// Maps (method, path) to a handler. Paths are literal or have {name} segments;
// prefix routes (feature plugins) match everything below a prefix. Static paths
// are a hash lookup, so the proxy routes cost nothing to find.
#pragma once

#include <pistache/http.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace modelgate::core::http {

using PathParams = std::unordered_map<std::string, std::string>;

struct RequestContext {
    const Pistache::Http::Request& request;
    std::string_view path;  // without base path and query
    PathParams params;
    std::string client_ip;
    // Set by a handler that moved the ResponseWriter away (to answer later from
    // another thread); the exception barrier then leaves the answer to it.
    bool writer_moved = false;
};

using Handler = std::function<void(RequestContext& ctx, Pistache::Http::ResponseWriter& writer)>;

class Router {
  public:
    void add(const std::string& method, const std::string& pattern, Handler handler);
    void add_prefix(const std::string& method, const std::string& prefix, Handler handler,
                    const std::string& owner);
    void remove_owner(const std::string& owner);
    bool has_prefix(const std::string& method, const std::string& prefix) const;

    enum class Match { found, not_found, method_not_allowed };
    // On found, handler and params are set.
    Match match(const std::string& method, std::string_view path, const Handler*& handler,
                PathParams& params) const;

  private:
    struct PatternRoute {
        std::string method;
        std::vector<std::string> segments;
        Handler handler;
    };
    struct PrefixRoute {
        std::string method;
        std::string prefix;
        Handler handler;
        std::string owner;
    };
    std::unordered_map<std::string, std::unordered_map<std::string, Handler>>
        static_;  // path -> method -> handler
    std::vector<PatternRoute> patterns_;
    std::vector<PrefixRoute> prefixes_;
};

}  // namespace modelgate::core::http

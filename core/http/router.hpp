// Maps (method, path) to a route. Paths are literal or have {name} segments;
// prefix routes (feature plugins) match everything below a prefix. Static paths
// are a hash lookup, so the proxy routes cost nothing to find. The table is
// filled before the server starts and only read afterwards.
//
// A route says who may send a body and how large: its admit step runs on the
// head alone (before any body byte is stored) and may refuse the request or
// vouch for the caller; anonymous callers get the server's small body bound.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/request.hpp"
#include "http/responder.hpp"
#include "util/result.hpp"

namespace modelgate::core::http {

struct Admission {
    std::optional<Error> refusal;  // answered at once; the body is never read
    HeaderList headers;            // sent with the refusal
    bool authenticated = false;    // the caller proved who it is: the route's body limit applies
};

// Runs on a reactor thread with the request's head (no body): never blocks.
using Admit = std::function<Admission(const Request& head)>;
// Answers now or later through the responder; may move from the request.
using Handler = std::function<void(Request& request, const ResponderPtr& responder)>;

struct RouteOptions {
    Admit admit;               // none: every caller is anonymous
    std::size_t max_body = 0;  // for authenticated callers; 0: the server's limit
};

struct Route {
    Handler handler;
    RouteOptions options;
};

class Router {
  public:
    void add(const std::string& method, const std::string& pattern, Handler handler,
             RouteOptions options = {});
    void add_prefix(const std::string& method, const std::string& prefix, Handler handler,
                    const std::string& owner, RouteOptions options = {});
    void remove_owner(const std::string& owner);
    bool has_prefix(const std::string& method, const std::string& prefix) const;

    enum class Match { found, not_found, method_not_allowed };
    // On found, route and params are set.
    Match match(const std::string& method, std::string_view path, const Route*& route,
                PathParams& params) const;

  private:
    struct PatternRoute {
        std::string method;
        std::vector<std::string> segments;
        Route route;
    };
    struct PrefixRoute {
        std::string method;
        std::string prefix;
        Route route;
        std::string owner;
    };
    std::unordered_map<std::string, std::unordered_map<std::string, Route>>
        static_;  // path -> method -> route
    std::vector<PatternRoute> patterns_;
    std::vector<PrefixRoute> prefixes_;
};

}  // namespace modelgate::core::http

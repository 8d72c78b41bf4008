// One whole upstream exchange for worker threads (model listing and other side
// requests): submitted to an upstream loop like a proxied call, waited for
// here. Never call it from a reactor or upstream thread.
#pragma once

#include <string>

#include "upstream/upstream_loop.hpp"

namespace modelgate::core::upstream {

struct FetchResult {
    Outcome outcome = Outcome::completed;
    std::string detail;  // what went wrong, when not completed
    int status = 0;
    std::string headers;  // "name: value\n", names lower-cased
    std::string body;
};

// The body is cut off (outcome aborted) beyond max_body bytes.
FetchResult fetch(UpstreamLoop& loop, RequestSpec spec, std::size_t max_body = 8u << 20);

}  // namespace modelgate::core::upstream

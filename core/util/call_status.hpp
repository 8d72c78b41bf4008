// How a proxied call ended, as the request log and the metrics record it.
#pragma once

#include <optional>
#include <string_view>

namespace modelgate::core {

enum class CallStatus {
    pending,             // a stream that has not ended yet
    success,             // answered in full
    error,               // refused or failed (the answer's status code says which)
    timeout,             // an upstream timeout, or a row left pending by a stopped instance
    cancelled,           // the client left, or the gateway shut down
    rate_limited,        // the upstream refused: rate limit or quota
    local_rate_limited,  // the gateway refused: its queue, or every upstream key paused
};

const char* call_status_name(CallStatus status);
std::optional<CallStatus> parse_call_status(std::string_view name);

}  // namespace modelgate::core

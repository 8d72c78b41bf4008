#include "util/call_status.hpp"

#include <array>

namespace modelgate::core {

namespace {
constexpr std::array<std::pair<CallStatus, std::string_view>, 7> kNames = {{
    {CallStatus::pending, "pending"},
    {CallStatus::success, "success"},
    {CallStatus::error, "error"},
    {CallStatus::timeout, "timeout"},
    {CallStatus::cancelled, "cancelled"},
    {CallStatus::rate_limited, "rate_limited"},
    {CallStatus::local_rate_limited, "local_rate_limited"},
}};
}  // namespace

const char* call_status_name(CallStatus status) {
    for (const auto& [s, name] : kNames) {
        if (s == status) return name.data();
    }
    return "error";
}

std::optional<CallStatus> parse_call_status(std::string_view name) {
    for (const auto& [s, n] : kNames) {
        if (n == name) return s;
    }
    return std::nullopt;
}

}  // namespace modelgate::core

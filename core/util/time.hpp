// Wall-clock and monotonic time helpers. Stored timestamps are UTC, ISO 8601 with
// milliseconds ("2026-11-26T13:45:00.123Z"), which sort as text in SQLite and
// parse as timestamptz in PostgreSQL.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modelgate::core {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

int64_t unix_ms_now();
std::string iso8601_utc(int64_t unix_ms);
inline std::string iso8601_now() {
    return iso8601_utc(unix_ms_now());
}
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]" and "YYYY-MM-DD HH:MM:SS"; a time
// without zone is UTC.
std::optional<int64_t> parse_iso8601(std::string_view text);

inline double ms_between(SteadyTime from, SteadyTime to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace modelgate::core

// Calendar days in the gateway's time zone (MODELGATE_TIMEZONE, applied to the
// process as TZ at start). Statistics are kept per local day and local hour; a
// day is the span between two local midnights, so it lasts 23 or 25 hours on a
// DST change day, and a midnight that does not exist starts the day at the
// first valid instant after it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modelgate::core {

struct CivilDate {
    int year = 1970, month = 1, day = 1;

    // "YYYY-MM-DD"; nullopt unless a real date between 1970 and 9999.
    static std::optional<CivilDate> parse(std::string_view text);
    std::string text() const;
    int64_t days_since_epoch() const;
    static CivilDate from_days(int64_t days);
    CivilDate plus_days(int64_t n) const { return from_days(days_since_epoch() + n); }
    int weekday() const;  // 0 = Sunday
    auto operator<=>(const CivilDate&) const = default;
};

struct LocalTime {
    CivilDate date;
    int hour = 0, minute = 0;
};

// The local calendar date and time of an instant.
LocalTime local_time(int64_t unix_ms);
inline CivilDate local_date(int64_t unix_ms) {
    return local_time(unix_ms).date;
}
// The first instant of a local day (its midnight, or the first valid time after).
int64_t local_day_start_ms(const CivilDate& date);
// The first instant the local wall clock reaches HH:MM on a day: a time a DST
// change skips resolves to the change itself (02:30 on a 02:00 -> 03:00 night is
// 03:00), a time a change repeats to its first occurrence.
int64_t local_time_ms(const CivilDate& date, int hour, int minute);
// The name of the zone in use ("Asia/Shanghai"), or "local" when TZ is unset.
std::string local_zone_name();

}  // namespace modelgate::core

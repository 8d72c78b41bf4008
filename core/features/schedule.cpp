#include "features/schedule.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "util/local_time.hpp"

namespace modelgate::core {

namespace {

constexpr int64_t kHourS = 3600;
constexpr int64_t kDayMs = 24 * kHourS * 1000;

int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

int64_t local_wall_time_ms(int year, int month, int day, int hour, int minute) {
    return local_time_ms(CivilDate{year, month, day}, hour, minute);
}

Schedule Schedule::every(std::chrono::seconds interval) {
    Schedule s;
    s.kind = Kind::interval;
    s.interval_ms = std::max<int64_t>(1, interval.count()) * 1000;
    return s;
}

std::optional<Schedule> Schedule::daily_at(std::string_view t) {
    if (t.size() != 5 || t[2] != ':') return std::nullopt;
    for (std::size_t i : {0u, 1u, 3u, 4u}) {
        if (t[i] < '0' || t[i] > '9') return std::nullopt;
    }
    int h = (t[0] - '0') * 10 + (t[1] - '0');
    int m = (t[3] - '0') * 10 + (t[4] - '0');
    if (h > 23 || m > 59) return std::nullopt;
    Schedule s;
    s.kind = Kind::daily;
    s.hour = h;
    s.minute = m;
    return s;
}

int64_t Schedule::next_after(int64_t after_ms) const {
    if (kind == Kind::interval) return (floor_div(after_ms, interval_ms) + 1) * interval_ms;
    std::time_t secs = static_cast<std::time_t>(floor_div(after_ms, 1000));
    std::tm today{};
    ::localtime_r(&secs, &today);
    // Today's time if it is still ahead, else the next day's. Two days ahead only
    // when today's time has passed and tomorrow's is somehow not after (never on
    // Earth's zones, but the loop keeps the answer strictly after after_ms).
    for (int ahead = 0; ahead < 3; ++ahead) {
        std::tm date{};
        date.tm_year = today.tm_year;
        date.tm_mon = today.tm_mon;
        date.tm_mday = today.tm_mday + ahead;
        date.tm_hour = 12;
        std::time_t noon = ::timegm(&date);  // normalises the day, month and year
        std::tm d{};
        ::gmtime_r(&noon, &d);
        int64_t due = local_wall_time_ms(d.tm_year + 1900, d.tm_mon + 1, d.tm_mday, hour, minute);
        if (due > after_ms) return due;
    }
    return after_ms + kDayMs;
}

int64_t Schedule::slot_of(int64_t due_ms) const {
    if (kind == Kind::interval) return floor_div(due_ms, interval_ms) * interval_ms;
    return due_ms;
}

std::string Schedule::text() const {
    char buf[32];
    if (kind == Kind::daily) {
        std::snprintf(buf, sizeof buf, "daily %02d:%02d", hour, minute);
    } else if (interval_ms % 3600000 == 0) {
        std::snprintf(buf, sizeof buf, "every %lldh",
                      static_cast<long long>(interval_ms / 3600000));
    } else if (interval_ms % 60000 == 0) {
        std::snprintf(buf, sizeof buf, "every %lldm", static_cast<long long>(interval_ms / 60000));
    } else {
        std::snprintf(buf, sizeof buf, "every %llds",
                      static_cast<long long>(std::max<int64_t>(1, interval_ms / 1000)));
    }
    return buf;
}

}  // namespace modelgate::core

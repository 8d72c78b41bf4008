#include "util/local_time.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace modelgate::core {

namespace {

bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// A local wall-clock reading, to the minute, ordered as time runs on a normal day.
struct Wall {
    int year, month, day, hour, minute;
    auto operator<=>(const Wall&) const = default;
};

Wall wall_at(int64_t unix_s) {
    std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min};
}

// The first instant the local wall clock reaches d hour:minute. mktime() alone
// may land an hour off inside a DST gap or an overlap (glibc gives 03:30 for a
// skipped 02:30, and either of two repeated times). The offset changes by at most
// two hours, so the answer lies within three hours of mktime's guess: walk that
// window minute by minute (offsets and changes fall on whole minutes).
int64_t make_local(const CivilDate& d, int hour, int minute) {
    std::tm tm{};
    tm.tm_year = d.year - 1900;
    tm.tm_mon = d.month - 1;
    tm.tm_mday = d.day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_isdst = -1;
    std::tm copy = tm;
    std::time_t guess = std::mktime(&copy);
    if (guess == static_cast<std::time_t>(-1)) guess = ::timegm(&tm);
    const Wall target{d.year, d.month, d.day, hour, minute};
    int64_t g = static_cast<int64_t>(guess);
    const int64_t from = (g >= 0 ? g / 60 : (g - 59) / 60) * 60 - 3 * 3600;
    for (int64_t t = from; t <= from + 6 * 3600; t += 60) {
        if (wall_at(t) >= target) return t * 1000;
    }
    return g * 1000;
}

}  // namespace

std::optional<CivilDate> CivilDate::parse(std::string_view t) {
    if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
    auto num = [&](std::size_t from, std::size_t len) {
        int v = 0;
        for (std::size_t i = from; i < from + len; ++i) {
            if (t[i] < '0' || t[i] > '9') return -1;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    CivilDate d{num(0, 4), num(5, 2), num(8, 2)};
    if (d.year < 1970 || d.month < 1 || d.month > 12 || d.day < 1 ||
        d.day > days_in_month(d.year, d.month))
        return std::nullopt;
    return d;
}

std::string CivilDate::text() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
    return buf;
}

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t CivilDate::days_since_epoch() const {
    int y = month <= 2 ? year - 1 : year;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

CivilDate CivilDate::from_days(int64_t z) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    int y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
    return {y, m, d};
}

int CivilDate::weekday() const {
    int64_t z = days_since_epoch();
    return static_cast<int>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

LocalTime local_time(int64_t unix_ms) {
    std::time_t secs =
        static_cast<std::time_t>(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
    std::tm tm{};
    ::localtime_r(&secs, &tm);
    return {{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday}, tm.tm_hour, tm.tm_min};
}

int64_t local_day_start_ms(const CivilDate& date) {
    return make_local(date, 0, 0);
}

int64_t local_time_ms(const CivilDate& date, int hour, int minute) {
    return make_local(date, hour, minute);
}

std::string local_zone_name() {
    const char* tz = std::getenv("TZ");
    if (tz == nullptr || *tz == '\0') return "local";
    return *tz == ':' ? tz + 1 : tz;
}

}  // namespace modelgate::core

#include "util/time.hpp"

#include <cstdio>
#include <ctime>

namespace modelgate::core {

int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string iso8601_utc(int64_t unix_ms) {
    std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
    int ms = static_cast<int>(unix_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

std::optional<int64_t> parse_iso8601(std::string_view text) {
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (text.size() < 10) return std::nullopt;
    std::string t(text);
    int consumed = 0;
    if (std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3) return std::nullopt;
    std::size_t pos = static_cast<std::size_t>(consumed);
    int64_t frac_ms = 0;
    int64_t offset_s = 0;
    if (pos < t.size() && (t[pos] == 'T' || t[pos] == ' ')) {
        int c2 = 0;
        if (std::sscanf(t.c_str() + pos + 1, "%2d:%2d%n", &h, &mi, &c2) != 2) return std::nullopt;
        pos += 1 + static_cast<std::size_t>(c2);
        if (pos < t.size() && t[pos] == ':') {
            int c3 = 0;
            if (std::sscanf(t.c_str() + pos + 1, "%2d%n", &s, &c3) != 1) return std::nullopt;
            pos += 1 + static_cast<std::size_t>(c3);
        }
        if (pos < t.size() && t[pos] == '.') {
            ++pos;
            int digits = 0;
            while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
                if (digits < 3) frac_ms = frac_ms * 10 + (t[pos] - '0');
                ++digits;
                ++pos;
            }
            for (int i = digits; i < 3; ++i)
                frac_ms *= 10;
        }
        if (pos < t.size()) {
            if (t[pos] == 'Z' || t[pos] == 'z') {
                ++pos;
            } else if (t[pos] == '+' || t[pos] == '-') {
                int oh = 0, om = 0;
                int sign = t[pos] == '-' ? -1 : 1;
                if (std::sscanf(t.c_str() + pos + 1, "%2d:%2d", &oh, &om) < 1) return std::nullopt;
                offset_s = sign * (oh * 3600 + om * 60);
                pos = t.size();
            }
        }
        if (pos != t.size()) return std::nullopt;
    } else if (pos != t.size()) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_s;
    return secs * 1000 + frac_ms;
}

}  // namespace modelgate::core

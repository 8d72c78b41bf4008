#include "domain/time_rules.hpp"

#include <cstdio>
#include <ctime>

namespace modelgate::core {

namespace {

std::optional<int> parse_time(const std::string& t) {
    int h = -1, m = -1, s = 0;
    char extra = 0;
    int n = std::sscanf(t.c_str(), "%2d:%2d:%2d%c", &h, &m, &s, &extra);
    if (n < 2 || n > 3) return std::nullopt;
    if (t.size() != 5 && t.size() != 8) return std::nullopt;
    if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59) return std::nullopt;
    return h * 3600 + m * 60 + s;
}

std::string format_time(int secs) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", secs / 3600, secs / 60 % 60, secs % 60);
    return buf;
}

bool valid_date(const std::string& d) {
    int y, m, day;
    char extra = 0;
    if (d.size() != 10 || std::sscanf(d.c_str(), "%4d-%2d-%2d%c", &y, &m, &day, &extra) != 3)
        return false;
    if (m < 1 || m > 12 || day < 1) return false;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (day > days[m - 1]) return false;
    if (m == 2 && day == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
    return true;
}

std::optional<uint8_t> parse_weekdays(const std::string& w, std::string* normalized) {
    uint8_t mask = 0;
    for (char c : w) {
        if (c == ',' || c == ' ') continue;
        if (c < '0' || c > '6') return std::nullopt;
        mask = static_cast<uint8_t>(mask | (1u << (c - '0')));
    }
    if (mask == 0) return std::nullopt;
    if (normalized != nullptr) {
        normalized->clear();
        for (int i = 0; i < 7; ++i) {
            if (mask & (1u << i)) {
                if (!normalized->empty()) normalized->push_back(',');
                normalized->push_back(static_cast<char>('0' + i));
            }
        }
    }
    return mask;
}

bool matches(const TimeRule& r, const LocalClock& now) {
    switch (r.type) {
        case TimeRule::Type::time_range:
            if (r.start_seconds <= r.end_seconds)
                return now.seconds_of_day >= r.start_seconds && now.seconds_of_day <= r.end_seconds;
            return now.seconds_of_day >= r.start_seconds ||
                   now.seconds_of_day <= r.end_seconds;  // overnight
        case TimeRule::Type::date_range:
            return now.date >= r.start_date && now.date <= r.end_date;
        case TimeRule::Type::weekday:
            return (r.weekday_mask & (1u << now.weekday)) != 0;
    }
    return false;
}

const char* type_name(TimeRule::Type t) {
    switch (t) {
        case TimeRule::Type::time_range:
            return "time of day";
        case TimeRule::Type::date_range:
            return "date";
        case TimeRule::Type::weekday:
            return "weekday";
    }
    return "";
}

}  // namespace

LocalClock local_clock(int64_t unix_ms) {
    std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    LocalClock c;
    c.seconds_of_day = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    c.date = buf;
    c.weekday = (tm.tm_wday + 6) % 7;
    return c;
}

bool time_rules_allow(const std::vector<TimeRule>& rules, const LocalClock& now,
                      std::string* reason) {
    for (auto type :
         {TimeRule::Type::time_range, TimeRule::Type::date_range, TimeRule::Type::weekday}) {
        bool has_allow = false, allow_matched = false;
        for (const auto& r : rules) {
            if (r.type != type) continue;
            bool m = matches(r, now);
            if (!r.allowed && m) {
                if (reason != nullptr)
                    *reason = std::string("a deny rule on the ") + type_name(type) + " matches now";
                return false;
            }
            if (r.allowed) {
                has_allow = true;
                allow_matched = allow_matched || m;
            }
        }
        if (has_allow && !allow_matched) {
            if (reason != nullptr)
                *reason = std::string("outside every allowed ") + type_name(type) + " window";
            return false;
        }
    }
    return true;
}

Result<store::TimeRuleRecord> normalize_time_rule(store::TimeRuleRecord r) {
    if (r.rule_type == "time_range") {
        if (!r.start_time || !r.end_time) {
            return make_error(ErrorCode::invalid_request,
                              "a time_range rule needs start_time and end_time (HH:MM[:SS])");
        }
        auto s = parse_time(*r.start_time), e = parse_time(*r.end_time);
        if (!s || !e)
            return make_error(ErrorCode::invalid_request,
                              "times must be HH:MM or HH:MM:SS within a day");
        r.start_time = format_time(*s);
        r.end_time = format_time(*e);
    } else if (r.rule_type == "date_range") {
        if (!r.start_date || !r.end_date) {
            return make_error(ErrorCode::invalid_request,
                              "a date_range rule needs start_date and end_date (YYYY-MM-DD)");
        }
        if (!valid_date(*r.start_date) || !valid_date(*r.end_date)) {
            return make_error(ErrorCode::invalid_request, "dates must be valid YYYY-MM-DD dates");
        }
        if (*r.start_date > *r.end_date)
            return make_error(ErrorCode::invalid_request, "start_date is after end_date");
    } else if (r.rule_type == "weekday") {
        std::string normalized;
        if (!r.weekdays || !parse_weekdays(*r.weekdays, &normalized)) {
            return make_error(ErrorCode::invalid_request,
                              "weekdays must list days 0-6 (0 = Monday), e.g. \"0,1,2,3,4\"");
        }
        r.weekdays = normalized;
    } else {
        return make_error(ErrorCode::invalid_request,
                          "rule_type must be time_range, date_range or weekday");
    }
    return r;
}

Result<TimeRule> compile_time_rule(const store::TimeRuleRecord& record) {
    auto n = normalize_time_rule(record);
    if (!n) return n.error();
    const auto& r = n.value();
    TimeRule t;
    t.allowed = r.allowed;
    if (r.rule_type == "time_range") {
        t.type = TimeRule::Type::time_range;
        t.start_seconds = *parse_time(*r.start_time);
        t.end_seconds = *parse_time(*r.end_time);
    } else if (r.rule_type == "date_range") {
        t.type = TimeRule::Type::date_range;
        t.start_date = *r.start_date;
        t.end_date = *r.end_date;
    } else {
        t.type = TimeRule::Type::weekday;
        t.weekday_mask = *parse_weekdays(*r.weekdays, nullptr);
    }
    return t;
}

}  // namespace modelgate::core

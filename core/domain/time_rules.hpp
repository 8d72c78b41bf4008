// API key time rules: time-of-day windows (overnight ones too), date ranges and
// weekdays, each allowing or denying. Semantics, per rule type: a matching deny
// rule denies; when allow rules of that type exist, one of them must match.
// Types combine with AND. Evaluated in the configured time zone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/records.hpp"
#include "util/result.hpp"

namespace modelgate::core {

struct TimeRule {
    enum class Type { time_range, date_range, weekday };
    Type type = Type::time_range;
    bool allowed = true;
    int start_seconds = -1, end_seconds = -1;  // seconds since midnight
    std::string start_date, end_date;          // YYYY-MM-DD
    uint8_t weekday_mask = 0;                  // bit 0 = Monday ... bit 6 = Sunday
};

struct LocalClock {
    int seconds_of_day = 0;
    std::string date;  // YYYY-MM-DD
    int weekday = 0;   // 0 = Monday
};

LocalClock local_clock(int64_t unix_ms);
// True when the key may be used now; reason says which rule type refused.
bool time_rules_allow(const std::vector<TimeRule>& rules, const LocalClock& now,
                      std::string* reason = nullptr);

// Validates and normalizes a stored rule (times HH:MM[:SS] -> HH:MM:SS, dates,
// weekday lists "0,1,...6"), for the admin API and for loading.
Result<store::TimeRuleRecord> normalize_time_rule(store::TimeRuleRecord record);
Result<TimeRule> compile_time_rule(const store::TimeRuleRecord& record);

}  // namespace modelgate::core

// When a scheduled job is due: every N seconds, or daily at HH:MM local time
// (the process's TZ, which App sets from MODELGATE_TIMEZONE at start).
// Interval slots are aligned to the Unix epoch (multiples of the interval), so
// every instance computes the same slots and the history table's unique
// (task, slot) key lets exactly one of them run each. Pure functions of the
// time given: the unit tests need no clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modelgate::core {

struct Schedule {
    enum class Kind { interval, daily };
    Kind kind = Kind::interval;
    int64_t interval_ms = 60000;  // Kind::interval
    int hour = 0, minute = 0;     // Kind::daily

    // At least one second.
    static Schedule every(std::chrono::seconds interval);
    // "HH:MM", 00:00 to 23:59; nullopt when malformed.
    static std::optional<Schedule> daily_at(std::string_view hh_mm);

    // The first due instant strictly after after_ms (Unix milliseconds).
    int64_t next_after(int64_t after_ms) const;
    // The slot a run due at due_ms belongs to: the start of its interval, or
    // for a daily job the due instant itself.
    int64_t slot_of(int64_t due_ms) const;
    // For people and the task list: "every 10m", "every 90s", "daily 00:05".
    std::string text() const;
};

// The instant the local wall clock first reaches year-month-day hour:minute.
// A time that a DST change skips resolves to the first valid instant after it
// (the change itself: 02:30 on a 02:00 -> 03:00 day is 03:00); a time that a
// change repeats resolves to its first occurrence, so a daily job runs once.
int64_t local_wall_time_ms(int year, int month, int day, int hour, int minute);

}  // namespace modelgate::core

// When scheduled jobs are due: interval slots aligned to the epoch, daily HH:MM
// in the process's time zone, and the two DST change days of Europe/Berlin in
// 2026 (29 March 02:00 CET -> 03:00 CEST, 25 October 03:00 CEST -> 02:00 CET).
#include "features/schedule.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <set>
#include <string>

#include "util/time.hpp"

namespace modelgate::core {
namespace {

int64_t utc(const char* text) {
    auto t = parse_iso8601(text);
    EXPECT_TRUE(t.has_value()) << text;
    return t.value_or(0);
}

std::string local_hh_mm(int64_t ms) {
    std::time_t s = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    ::localtime_r(&s, &tm);
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", tm.tm_hour, tm.tm_min);
    return buf;
}

TEST(ScheduleTest, DailyTimesAreHHMM) {
    for (const char* good : {"00:00", "00:05", "12:30", "23:59"})
        EXPECT_TRUE(Schedule::daily_at(good).has_value()) << good;
    for (const char* bad :
         {"", "24:00", "12:60", "7:05", "07:5", "0705", "ab:cd", "07:05 ", "-1:00"})
        EXPECT_FALSE(Schedule::daily_at(bad).has_value()) << bad;
    auto s = Schedule::daily_at("00:05");
    EXPECT_EQ(s->hour, 0);
    EXPECT_EQ(s->minute, 5);
}

TEST(ScheduleTest, TextNamesTheSchedule) {
    EXPECT_EQ(Schedule::daily_at("00:20")->text(), "daily 00:20");
    EXPECT_EQ(Schedule::every(std::chrono::minutes(10)).text(), "every 10m");
    EXPECT_EQ(Schedule::every(std::chrono::hours(6)).text(), "every 6h");
    EXPECT_EQ(Schedule::every(std::chrono::seconds(90)).text(), "every 90s");
    EXPECT_EQ(Schedule::every(std::chrono::seconds(0)).text(), "every 1s");
}

TEST(ScheduleTest, IntervalSlotsAreAlignedToTheEpoch) {
    auto every10 = Schedule::every(std::chrono::minutes(10));
    int64_t t = utc("2026-05-04T10:03:27.500Z");
    EXPECT_EQ(every10.next_after(t), utc("2026-05-04T10:10:00Z"));
    EXPECT_EQ(every10.slot_of(t), utc("2026-05-04T10:00:00Z"));
    // Exactly on a boundary: that boundary is its own slot, the next one is due next.
    int64_t boundary = utc("2026-05-04T10:10:00Z");
    EXPECT_EQ(every10.slot_of(boundary), boundary);
    EXPECT_EQ(every10.next_after(boundary), utc("2026-05-04T10:20:00Z"));
    // Two instances started at different times agree on the slots.
    EXPECT_EQ(every10.slot_of(utc("2026-05-04T10:00:00.001Z")),
              every10.slot_of(utc("2026-05-04T10:09:59.999Z")));
    // The time zone plays no part.
    ::setenv("TZ", "Asia/Kolkata", 1);
    ::tzset();
    EXPECT_EQ(every10.next_after(t), utc("2026-05-04T10:10:00Z"));
    ::unsetenv("TZ");
    ::tzset();
}

class ScheduleBerlinTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* tz = std::getenv("TZ");
        saved_ = tz ? std::optional<std::string>(tz) : std::nullopt;
        ::setenv("TZ", "Europe/Berlin", 1);
        ::tzset();
    }
    void TearDown() override {
        if (saved_)
            ::setenv("TZ", saved_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    std::optional<std::string> saved_;
};

TEST_F(ScheduleBerlinTest, DailyRunsAtLocalTimeOnAnOrdinaryDay) {
    auto s = *Schedule::daily_at("00:05");
    // 00:05 CET is 23:05 UTC the day before.
    EXPECT_EQ(s.next_after(utc("2026-03-27T12:00:00Z")), utc("2026-03-27T23:05:00Z"));
    // Due now means due tomorrow: strictly after.
    EXPECT_EQ(s.next_after(utc("2026-03-27T23:05:00Z")), utc("2026-03-28T23:05:00Z"));
    EXPECT_EQ(s.next_after(utc("2026-03-27T23:04:59.999Z")), utc("2026-03-27T23:05:00Z"));
    EXPECT_EQ(s.slot_of(utc("2026-03-27T23:05:00Z")), utc("2026-03-27T23:05:00Z"));
    // In summer time 00:05 CEST is 22:05 UTC: the day across the change has 23 hours.
    EXPECT_EQ(s.next_after(utc("2026-03-28T23:05:00Z")), utc("2026-03-29T22:05:00Z"));
}

TEST_F(ScheduleBerlinTest, ATimeTheSpringChangeSkipsRunsAtTheChange) {
    auto s = *Schedule::daily_at("02:30");
    // 29 March has no 02:00-02:59: the first valid instant after 02:30 is 03:00
    // CEST = 01:00 UTC (mktime alone answers 03:30).
    int64_t due = s.next_after(utc("2026-03-28T12:00:00Z"));
    EXPECT_EQ(due, utc("2026-03-29T01:00:00Z"));
    EXPECT_EQ(local_hh_mm(due), "03:00");
    // The next day is back to 02:30, now CEST.
    EXPECT_EQ(s.next_after(due), utc("2026-03-30T00:30:00Z"));
    EXPECT_EQ(local_wall_time_ms(2026, 3, 29, 2, 0), utc("2026-03-29T01:00:00Z"));
    EXPECT_EQ(local_wall_time_ms(2026, 3, 29, 3, 0), utc("2026-03-29T01:00:00Z"));
    EXPECT_EQ(local_wall_time_ms(2026, 3, 29, 3, 1), utc("2026-03-29T01:01:00Z"));
    EXPECT_EQ(local_wall_time_ms(2026, 3, 29, 1, 59), utc("2026-03-29T00:59:00Z"));
}

TEST_F(ScheduleBerlinTest, ATimeTheAutumnChangeRepeatsRunsOnce) {
    auto s = *Schedule::daily_at("02:30");
    // 02:30 happens twice on 25 October: at 00:30 UTC (CEST) and 01:30 UTC (CET).
    // The job runs at the first and not again at the second (glibc's mktime
    // picks the second).
    int64_t first = s.next_after(utc("2026-10-24T12:00:00Z"));
    EXPECT_EQ(first, utc("2026-10-25T00:30:00Z"));
    int64_t next = s.next_after(first);
    EXPECT_EQ(next, utc("2026-10-26T01:30:00Z"));
    // Even when asked between the two occurrences.
    EXPECT_EQ(s.next_after(utc("2026-10-25T01:00:00Z")), utc("2026-10-26T01:30:00Z"));
    // After the repeated hour, the day goes on in CET.
    EXPECT_EQ(Schedule::daily_at("03:00")->next_after(utc("2026-10-24T12:00:00Z")),
              utc("2026-10-25T02:00:00Z"));
    EXPECT_EQ(Schedule::daily_at("00:05")->next_after(utc("2026-10-24T12:00:00Z")),
              utc("2026-10-24T22:05:00Z"));
}

TEST_F(ScheduleBerlinTest, AYearOfDailyRunsIsOnePerDay) {
    for (const char* when : {"00:05", "02:30", "03:00", "23:59"}) {
        auto s = *Schedule::daily_at(when);
        std::set<std::string> days;
        int64_t t = utc("2025-12-31T23:30:00Z");  // 00:30 local on 1 January 2026
        int runs = 0;
        while (true) {
            int64_t due = s.next_after(t);
            ASSERT_GT(due, t);
            std::time_t secs = static_cast<std::time_t>(due / 1000);
            std::tm tm{};
            ::localtime_r(&secs, &tm);
            if (tm.tm_year + 1900 != 2026) break;
            char day[16];
            std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
            EXPECT_TRUE(days.insert(day).second) << when << " twice on " << day;
            bool spring_gap = std::string(when) == "02:30" && std::string(day) == "2026-03-29";
            EXPECT_EQ(local_hh_mm(due), spring_gap ? "03:00" : when) << day;
            t = due;
            ++runs;
        }
        // 00:05 on 1 January is before the first 00:30 start: not counted.
        EXPECT_EQ(runs, std::string(when) == "00:05" ? 364 : 365) << when;
    }
}

}  // namespace
}  // namespace modelgate::core

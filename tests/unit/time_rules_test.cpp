#include "domain/time_rules.hpp"

#include <gtest/gtest.h>

using namespace modelgate::core;

namespace {
TimeRule rule(store::TimeRuleRecord r) {
    auto c = compile_time_rule(r);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.value();
}
store::TimeRuleRecord time_range(const char* a, const char* b, bool allowed = true) {
    store::TimeRuleRecord r;
    r.rule_type = "time_range";
    r.start_time = a;
    r.end_time = b;
    r.allowed = allowed;
    return r;
}
store::TimeRuleRecord weekdays(const char* w, bool allowed = true) {
    store::TimeRuleRecord r;
    r.rule_type = "weekday";
    r.weekdays = w;
    r.allowed = allowed;
    return r;
}
LocalClock at(int h, int m, const char* date = "2026-11-26", int weekday = 3) {
    return {h * 3600 + m * 60, date, weekday};
}
}  // namespace

TEST(TimeRules, NoRulesAllow) {
    EXPECT_TRUE(time_rules_allow({}, at(3, 0)));
}

TEST(TimeRules, DaytimeWindowIsInclusive) {
    std::vector<TimeRule> r = {rule(time_range("09:00", "18:00"))};
    EXPECT_TRUE(time_rules_allow(r, at(9, 0)));
    EXPECT_TRUE(time_rules_allow(r, at(18, 0)));
    EXPECT_FALSE(time_rules_allow(r, at(18, 1)));
    EXPECT_FALSE(time_rules_allow(r, at(8, 59)));
}

TEST(TimeRules, OvernightWindowWraps) {
    std::vector<TimeRule> r = {rule(time_range("22:00", "06:00"))};
    EXPECT_TRUE(time_rules_allow(r, at(23, 30)));
    EXPECT_TRUE(time_rules_allow(r, at(2, 0)));
    EXPECT_FALSE(time_rules_allow(r, at(12, 0)));
}

TEST(TimeRules, DenyWinsAndTypesCombineWithAnd) {
    std::vector<TimeRule> r = {rule(time_range("00:00", "23:59:59")),
                               rule(time_range("12:00", "13:00", false)),
                               rule(weekdays("0,1,2,3,4"))};
    std::string why;
    EXPECT_TRUE(time_rules_allow(r, at(10, 0)));
    EXPECT_FALSE(time_rules_allow(r, at(12, 30), &why));
    EXPECT_NE(why.find("deny"), std::string::npos);
    EXPECT_FALSE(time_rules_allow(r, at(10, 0, "2026-11-29", 6), &why));  // Sunday
    EXPECT_NE(why.find("weekday"), std::string::npos);
}

TEST(TimeRules, DateRanges) {
    store::TimeRuleRecord d;
    d.rule_type = "date_range";
    d.start_date = "2026-11-01";
    d.end_date = "2026-11-30";
    std::vector<TimeRule> r = {rule(d)};
    EXPECT_TRUE(time_rules_allow(r, at(1, 0, "2026-11-30")));
    EXPECT_FALSE(time_rules_allow(r, at(1, 0, "2026-12-01")));
}

TEST(TimeRules, ValidationNormalizes) {
    auto ok = normalize_time_rule(time_range("7:5", "9:00"));
    EXPECT_FALSE(ok.ok());
    auto t = normalize_time_rule(time_range("07:05", "09:00:30"));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(*t->start_time, "07:05:00");
    auto w = normalize_time_rule(weekdays(" 4, 0 ,4"));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(*w->weekdays, "0,4");
    EXPECT_FALSE(normalize_time_rule(weekdays("")).ok());
    store::TimeRuleRecord bad;
    bad.rule_type = "date_range";
    bad.start_date = "2026-12-01";
    bad.end_date = "2026-11-01";
    EXPECT_FALSE(normalize_time_rule(bad).ok());
    bad.rule_type = "lunar";
    EXPECT_FALSE(normalize_time_rule(bad).ok());
}

TEST(TimeRules, LocalClockFollowsTheTimeZone) {
    ::setenv("TZ", "Asia/Shanghai", 1);
    ::tzset();
    // 2026-11-26T16:30:00Z is 00:30 on Friday the 27th in Shanghai.
    auto c = local_clock(1795710600000LL);
    EXPECT_EQ(c.date, "2026-11-27");
    EXPECT_EQ(c.seconds_of_day, 30 * 60);
    EXPECT_EQ(c.weekday, 4);
    ::unsetenv("TZ");
    ::tzset();
}

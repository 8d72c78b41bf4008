// The calendar and counting rules behind the statistics: local days across DST
// changes, period buckets, histogram percentiles and regrouping.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "stats/stats_service.hpp"
#include "store/stats_store.hpp"
#include "util/local_time.hpp"
#include "util/time.hpp"

namespace modelgate::core {
namespace {

// Sets the process zone for one test and restores it.
class ZoneGuard {
  public:
    explicit ZoneGuard(const char* zone) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        ::setenv("TZ", zone, 1);
        ::tzset();
    }
    ~ZoneGuard() {
        if (old_)
            ::setenv("TZ", old_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }

  private:
    std::optional<std::string> old_;
};

int64_t utc(const char* text) {
    return parse_iso8601(text).value();
}

CivilDate date(const char* text) {
    return CivilDate::parse(text).value();
}

store::StatKey at(const std::string& day, int hour = -1) {
    store::StatKey k;
    k.date = day;
    k.hour = hour;
    return k;
}

store::StatKey row_key(const char* day, int hour, const char* provider, const char* model,
                       long long key_id, const char* key_name) {
    store::StatKey k = at(day, hour);
    k.provider = provider;
    k.model = model;
    k.api_key_id = key_id;
    k.api_key_name = key_name;
    return k;
}

TEST(CivilDateTest, ParsesOnlyRealDatesAndCountsDays) {
    EXPECT_FALSE(CivilDate::parse("2026-02-29"));
    EXPECT_TRUE(CivilDate::parse("2028-02-29"));
    EXPECT_FALSE(CivilDate::parse("2026-13-01"));
    EXPECT_FALSE(CivilDate::parse("2026-1-01"));
    EXPECT_FALSE(CivilDate::parse("1969-12-31"));
    EXPECT_EQ(date("1970-01-01").days_since_epoch(), 0);
    EXPECT_EQ(date("2026-12-31").plus_days(1).text(), "2027-01-01");
    EXPECT_EQ(date("2028-03-01").plus_days(-1).text(), "2028-02-29");
    EXPECT_EQ(date("2026-12-02").weekday(), 3);  // a Wednesday
}

TEST(LocalTimeTest, DaysFollowTheConfiguredZone) {
    ZoneGuard zone("Asia/Shanghai");
    // 16:00 UTC is midnight in Shanghai (UTC+8): the local day changes there.
    EXPECT_EQ(local_date(utc("2026-11-30T15:59:59Z")).text(), "2026-11-30");
    EXPECT_EQ(local_date(utc("2026-11-30T16:00:00Z")).text(), "2026-12-01");
    EXPECT_EQ(local_day_start_ms(date("2026-12-01")), utc("2026-11-30T16:00:00Z"));
}

TEST(LocalTimeTest, ADstChangeDayLasts23Or25Hours) {
    ZoneGuard zone("Europe/Berlin");
    auto hours = [](const char* d) {
        CivilDate day = date(d);
        return (local_day_start_ms(day.plus_days(1)) - local_day_start_ms(day)) / 3600000;
    };
    EXPECT_EQ(hours("2026-03-29"), 23);
    EXPECT_EQ(hours("2026-10-25"), 25);
    EXPECT_EQ(hours("2026-06-01"), 24);
    // 02:30 does not exist on 2026-03-29: the change itself (03:00 CEST).
    EXPECT_EQ(local_time_ms(date("2026-03-29"), 2, 30), utc("2026-03-29T01:00:00Z"));
    // 02:30 happens twice on 2026-10-25: the first one (CEST).
    EXPECT_EQ(local_time_ms(date("2026-10-25"), 2, 30), utc("2026-10-25T00:30:00Z"));
}

TEST(LocalTimeTest, AMidnightThatDoesNotExistStartsTheDayAtOneOClock) {
    // Chile moves its clocks from 00:00 to 01:00 (2026-09-06).
    ZoneGuard zone("America/Santiago");
    int64_t start = local_day_start_ms(date("2026-09-06"));
    EXPECT_EQ(local_date(start).text(), "2026-09-06");
    EXPECT_EQ(local_time(start).hour, 1);
    EXPECT_EQ(local_date(start - 1).text(), "2026-09-05");
}

TEST(PeriodSpanTest, BucketsAndLabelsOfEveryPeriod) {
    ZoneGuard zone("UTC");
    int64_t now = utc("2026-12-02T10:30:00Z");
    auto day = stats::period_span(stats::Period::day, now);
    EXPECT_EQ(day.buckets, 24);
    EXPECT_EQ(day.label(9), "09:00");
    EXPECT_EQ(day.bucket_of(at("2026-12-02", 9)), 9);
    EXPECT_EQ(day.bucket_of(at("2026-12-01", 9)), -1);

    auto week = stats::period_span(stats::Period::week, now);
    EXPECT_EQ(week.first.text(), "2026-11-26");
    EXPECT_EQ(week.buckets, 42);
    EXPECT_EQ(week.bucket_of(at("2026-11-26", 0)), 0);
    EXPECT_EQ(week.bucket_of(at("2026-12-02", 23)), 41);
    EXPECT_EQ(week.label(41), "12/02 20:00");

    auto month = stats::period_span(stats::Period::month, now);
    EXPECT_EQ(month.first.text(), "2026-11-02");  // 31 days with today
    EXPECT_EQ(month.bucket_of(at("2026-12-02")), 30);
    EXPECT_EQ(month.label(0), "11/02");

    auto year = stats::period_span(stats::Period::year, now);
    EXPECT_EQ(year.buckets, 52);
    EXPECT_EQ(year.bucket_of(at("2026-12-02")), 51);
    EXPECT_EQ(year.bucket_of(at(year.first.text())), 0);
    EXPECT_EQ(year.bucket_of(at(year.first.plus_days(-1).text())), -1);
}

TEST(StatCountersTest, PercentilesComeFromTheHistogramWithinTheExtremes) {
    store::StatCounters c;
    // 90 calls at 400 ms (bucket 250..500), 10 at 9000 ms (bucket 8000..12000).
    c.latency_hist[static_cast<std::size_t>(store::latency_bucket(400))] = 90;
    c.latency_hist[static_cast<std::size_t>(store::latency_bucket(9000))] = 10;
    c.latency_count = 100;
    c.latency_sum_ms = 90 * 400 + 10 * 9000;
    c.latency_min_ms = 400;
    c.latency_max_ms = 9000;
    auto p50 = c.latency_percentile(0.5);
    ASSERT_TRUE(p50);
    EXPECT_GE(*p50, 400);
    EXPECT_LE(*p50, 500);
    auto p95 = c.latency_percentile(0.95);
    ASSERT_TRUE(p95);
    EXPECT_GE(*p95, 8000);
    EXPECT_LE(*p95, 9000);
    EXPECT_DOUBLE_EQ(*c.average_latency(), 1260);
    EXPECT_FALSE(store::StatCounters{}.latency_percentile(0.95));
}

TEST(StatCountersTest, MergingKeepsSumsAndExtremes) {
    store::StatCounters a, b;
    a.requests = 3;
    a.errors = 1;
    a.latency_min_ms = 100;
    a.latency_max_ms = 200;
    b.requests = 2;
    b.rate_limited = 4;
    b.latency_min_ms = 50;
    a.merge(b);
    EXPECT_EQ(a.requests, 5);
    EXPECT_EQ(a.rate_limited, 4);
    EXPECT_EQ(*a.latency_min_ms, 50);
    EXPECT_EQ(*a.latency_max_ms, 200);
}

TEST(StatRowsTest, RegroupingSumsRowsAndKeepsTheNewestKeyName) {
    store::StatRows rows;
    store::StatCounters one;
    one.requests = 1;
    rows.emplace_back(row_key("2026-12-01", 1, "acme", "m1", 7, "old name"), one);
    rows.emplace_back(row_key("2026-12-01", 2, "acme", "m2", 7, "new name"), one);
    rows.emplace_back(row_key("2026-12-01", 2, "zeta", "m1", 8, "bob"), one);
    auto by_key = store::regroup(rows, store::kApiKey);
    ASSERT_EQ(by_key.size(), 2u);
    EXPECT_EQ(by_key[0].first.api_key_id, 7);
    EXPECT_EQ(by_key[0].first.api_key_name, "new name");
    EXPECT_EQ(by_key[0].second.requests, 2);
    EXPECT_EQ(by_key[0].first.hour, -1);
    auto by_provider = store::regroup(rows, store::kProvider);
    ASSERT_EQ(by_provider.size(), 2u);
    EXPECT_EQ(by_provider[0].second.requests, 2);
}

}  // namespace
}  // namespace modelgate::core

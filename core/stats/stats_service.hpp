// Statistics for the dashboard, the portal and the landing page. Past days come
// from the aggregate tables (store/stats_store.hpp); today comes from the live
// request_logs rows of today, summed in SQL and cached for a moment, so no answer
// ever scans all the logs. The Aggregator keeps the tables: the daily job, the
// start-up back-fill, the re-aggregation of days that had calls still pending,
// and re-aggregation on demand. Every call may block (database): worker threads
// only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "store/stats_store.hpp"
#include "util/local_time.hpp"
#include "util/result.hpp"

namespace modelgate::core::stats {

using store::StatCounters;
using store::StatKey;
using store::StatRows;

enum class Period { day, week, month, year };
std::optional<Period> parse_period(std::string_view text);
const char* period_name(Period p);

// The buckets of a period that ends today: day = 24 hours, week = 42 four-hour
// buckets over 7 days, month = 31 days, year = 52 weeks. Day and week come from
// hourly rows, month and year from daily rows.
struct PeriodSpan {
    Period period = Period::day;
    CivilDate first, today;
    int64_t start_ms = 0;  // the first day's local midnight
    bool hourly = true;
    int buckets = 24;

    int bucket_of(const StatKey& key) const;  // -1 outside the period
    std::string label(int bucket) const;
};
PeriodSpan period_span(Period p, int64_t now_ms);

// A dimension the statistics can be split by.
enum class Dimension { provider, api_key, model };
std::optional<Dimension> parse_dimension(std::string_view text);
const char* dimension_name(Dimension d);
unsigned dimension_fields(Dimension d);
// The display name of a row in a dimension ("Deleted key #7" for a key with no name).
std::string dimension_value(Dimension d, const StatKey& key);

class StatsService {
  public:
    // live_ttl_ms: how long one sum of today's rows serves every answer.
    explicit StatsService(store::StatsStore& store, int live_ttl_ms = 2000)
        : store_(store), live_ttl_ms_(live_ttl_ms) {}

    // Rows of a period summed per date (and hour for hourly periods) and `group`,
    // the stored days plus today's live rows.
    Result<StatRows> load(const PeriodSpan& span, unsigned group,
                          const store::StatsStore::Filter& filter = {});
    // Every day from `from` to `to` (inclusive) summed per `group`, and per date
    // unless !with_date (then past days come as one row per group and today as
    // another).
    Result<StatRows> load_days(const CivilDate& from, const CivilDate& to, unsigned group,
                               const store::StatsStore::Filter& filter = {}, bool with_date = true);
    // Today's rows at the finest grain. One sum serves every caller for
    // live_ttl_ms; while one caller sums again, the others get the previous sum.
    // The hours before the current one are summed again at most once a minute.
    using Rows = std::shared_ptr<const StatRows>;
    Result<Rows> live_today();
    // All-time totals and today's (for /stats and /api/public/stats).
    struct Totals {
        StatCounters all, today;
    };
    Result<Totals> totals();

    // The answers of the admin statistics routes (docs/admin-api.md).
    Result<nlohmann::json> period_summary(Period p);
    Result<nlohmann::json> composition(Dimension d, Period p);
    Result<nlohmann::json> trend(Period p, std::optional<Dimension> d, const std::string& name);
    Result<nlohmann::json> error_trend(int days);
    Result<nlohmann::json> monitor_details(Period p);
    Result<nlohmann::json> key_summary(int64_t key_id);

  private:
    // A read of past days' aggregate rows, kept while the tables' generation
    // stays the same (checked at most once a second, at once after a local write).
    Result<Rows> read_past(store::StatTable table, const CivilDate& from, const CivilDate& to,
                           unsigned group, bool with_date, const store::StatsStore::Filter& f);
    Result<std::string> generation();

    store::StatsStore& store_;
    int live_ttl_ms_;

    std::mutex live_mu_;
    std::condition_variable live_cv_;
    Rows live_;  // today: the earlier hours' rows, then the current hour's
    std::string live_date_;
    int64_t live_at_ms_ = 0;
    bool live_refreshing_ = false;
    static constexpr int64_t kEarlierHoursTtlMs = 60000;
    Rows live_earlier_;  // today before live_earlier_until_ms_ (an hour's start)
    std::string live_earlier_date_;
    int64_t live_earlier_until_ms_ = 0, live_earlier_at_ms_ = 0;

    std::mutex past_mu_;
    std::string generation_;  // as last read from the store
    int64_t generation_at_ms_ = 0;
    uint64_t generation_writes_ = 0;
    std::string past_generation_;  // the one the entries below were read under
    std::map<std::string, Rows> past_;
    std::deque<std::string> past_order_;  // oldest first, for eviction
    std::size_t past_rows_ = 0;
};

// Writes the aggregate tables.
class Aggregator {
  public:
    // raw_days: how long raw rows are kept at all (history retention; 0: for
    // ever). Older days are never summed again: their rows are gone.
    explicit Aggregator(store::StatsStore& store, int raw_days = 0)
        : store_(store), raw_days_(raw_days) {}
    // The oldest day whose raw rows are all still kept (nullopt: every day).
    std::optional<CivilDate> oldest_complete_day(int64_t now_ms) const;
    // Sums one local day from the raw rows and replaces its aggregate rows.
    Result<int64_t> aggregate_day(const CivilDate& day);
    // Days from `from` to `to`; returns the number of days written. A range
    // reaching before oldest_complete_day() is refused (invalid_request).
    Result<int> aggregate_range(const CivilDate& from, const CivilDate& to);
    // Aggregates every day from the first log's day (at most max_days back) to
    // yesterday that has no aggregate, was aggregated before it ended, in another
    // time zone, or while some of its calls were still pending.
    struct CatchUp {
        int days = 0;
        long long rows = 0;  // request-log rows read
    };
    Result<CatchUp> catch_up(int64_t now_ms, int max_days = 400);

  private:
    store::StatsStore& store_;
    int raw_days_;
};

}  // namespace modelgate::core::stats

// The statistics tables (migration 0004_stats.sql): sums of request_logs_all
// rows per local day and hour, provider, model and API key. StatsStore scans the
// raw rows of a time range into those sums (grouped in SQL, never row by row in
// memory), writes a day idempotently, and reads any grouping of a table back.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "store/database.hpp"
#include "util/local_time.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

// Upper bounds (ms) of the latency histogram's buckets; the last bucket is open.
inline constexpr int kLatencyBuckets = 16;
inline constexpr std::array<double, kLatencyBuckets - 1> kLatencyBounds = {
    250,   500,   1000,  1500,  2000,   3000,   5000,  8000,
    12000, 20000, 30000, 60000, 120000, 300000, 600000};
int latency_bucket(double ms);

struct StatCounters {
    long long requests = 0;  // every call but the rate-limited ones
    long long successes = 0, errors = 0, timeouts = 0, cancelled = 0, pending = 0;
    long long rate_limited = 0;  // upstream or gateway refusals (no tokens)
    long long tokens = 0, prompt_tokens = 0, completion_tokens = 0;
    long long latency_count = 0;  // successful calls with a latency
    double latency_sum_ms = 0;
    std::optional<double> latency_min_ms, latency_max_ms;
    long long ttft_count = 0;
    double ttft_sum_ms = 0;
    std::array<long long, kLatencyBuckets> latency_hist{};

    void merge(const StatCounters& o);
    bool empty() const { return requests == 0 && rate_limited == 0; }
    std::optional<double> average_latency() const;
    // Estimated from the histogram (linear within a bucket, clamped to the
    // extremes); nullopt without samples. p in [0, 1].
    std::optional<double> latency_percentile(double p) const;
    // {requests, tokens, errors, timeouts, rate_limited}: the original's bucket,
    // plus successes, cancelled, pending, prompt/completion tokens, avg latency
    // and time to first token.
    nlohmann::json json() const;
};

// Which dimensions a row or a grouping has. date is always there.
enum StatField : unsigned {
    kHour = 1,
    kProvider = 2,
    kModel = 4,
    kApiKey = 8,
};

struct StatKey {
    std::string date;  // YYYY-MM-DD, local
    int hour = -1;     // 0..23 when kHour
    std::string provider, model;
    long long api_key_id = 0;
    std::string api_key_name;  // the newest name of the key in the group

    // The key with only the fields of `fields` kept (the rest reset).
    StatKey project(unsigned fields) const;
    auto tie() const { return std::tie(date, hour, provider, model, api_key_id); }
    bool operator<(const StatKey& o) const { return tie() < o.tie(); }
};

using StatRows = std::vector<std::pair<StatKey, StatCounters>>;

// Sums rows that share their projection onto `fields` (api_key_name kept).
StatRows regroup(const StatRows& rows, unsigned fields);

// The stored tables and the fields of their rows.
enum class StatTable { hourly, provider, api_key, model, api_key_model };
unsigned table_fields(StatTable t);
const char* table_name(StatTable t);

struct DayInfo {
    std::string date, time_zone, aggregated_at;
    long long source_rows = 0, pending_rows = 0;
};

class StatsStore {
  public:
    explicit StatsStore(Database& db) : db_(db) {}

    // Sums request_logs_all rows created in [from_ms, to_ms), which lie on the
    // local day `date`, per local hour, provider, model and API key.
    Result<StatRows> scan(const CivilDate& date, int64_t from_ms, int64_t to_ms);
    // Replaces a day's rows in every table with `hourly` (and the daily sums
    // derived from it) in one transaction, and records the day in stats_days.
    Status write_day(const CivilDate& date, const StatRows& hourly);
    // Reads `table` for dates in [from, to], summed per `group` (a subset of the
    // table's fields; the date is kept when with_date). filter_* narrow the rows.
    struct Filter {
        std::optional<std::string> provider, model;
        std::optional<long long> api_key_id;
    };
    Result<StatRows> read(StatTable table, const CivilDate& from, const CivilDate& to,
                          unsigned group, bool with_date, const Filter& filter = {});

    Result<std::vector<DayInfo>> days(const CivilDate& from, const CivilDate& to);
    // Days with rows still pending when they were aggregated.
    Result<std::vector<std::string>> provisional_days();
    // The creation time of the oldest request-log row (live or archived).
    Result<std::optional<int64_t>> first_log_ms();

    // Changes whenever any instance writes a day: the number of aggregated days
    // and the newest aggregation time. Readers keep what they read of past days
    // while it stays the same.
    Result<std::string> generation();
    // Days written by this process (moves before generation() can tell).
    uint64_t local_writes() const { return local_writes_.load(); }

  private:
    Database& db_;
    std::atomic<uint64_t> local_writes_{0};
};

}  // namespace modelgate::core::store

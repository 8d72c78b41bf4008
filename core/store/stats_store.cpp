#include "store/stats_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/time.hpp"

namespace modelgate::core::store {

namespace {

constexpr const char* kRateLimited = "('rate_limited', 'local_rate_limited')";

std::string hist_column(int i) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "lat_b%02d", i);
    return buf;
}

// Every metric column with the member that holds it, in table order. f is
// called as f(column, member, how) with how "sum", "min" or "max".
template <class Counters, class F>
void for_each_metric(Counters& c, F&& f) {
    f("requests", c.requests, "sum");
    f("successes", c.successes, "sum");
    f("errors", c.errors, "sum");
    f("timeouts", c.timeouts, "sum");
    f("cancelled", c.cancelled, "sum");
    f("rate_limited", c.rate_limited, "sum");
    f("pending", c.pending, "sum");
    f("tokens", c.tokens, "sum");
    f("prompt_tokens", c.prompt_tokens, "sum");
    f("completion_tokens", c.completion_tokens, "sum");
    f("latency_count", c.latency_count, "sum");
    f("latency_sum_ms", c.latency_sum_ms, "sum");
    f("latency_min_ms", c.latency_min_ms, "min");
    f("latency_max_ms", c.latency_max_ms, "max");
    f("ttft_count", c.ttft_count, "sum");
    f("ttft_sum_ms", c.ttft_sum_ms, "sum");
    for (int i = 0; i < kLatencyBuckets; ++i)
        f(hist_column(i), c.latency_hist[static_cast<std::size_t>(i)], "sum");
}

// The key columns of a grouping, as selected and as grouped by.
struct GroupColumns {
    std::string select, group_by;
};

GroupColumns group_columns(unsigned fields, bool with_date) {
    std::vector<std::string> sel, grp;
    auto both = [&](const char* c) {
        sel.emplace_back(c);
        grp.emplace_back(c);
    };
    if (with_date) both("date");
    if (fields & kHour) both("hour");
    if (fields & kProvider) both("provider_name");
    if (fields & kModel) both("model_name");
    if (fields & kApiKey) {
        both("api_key_id");
        sel.emplace_back("MAX(api_key_name)");
    }
    auto join = [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& s : v)
            out += (out.empty() ? "" : ", ") + s;
        return out;
    };
    return {join(sel), join(grp)};
}

// SUM / MIN / MAX of every metric column; integer sums cast back to BIGINT
// (PostgreSQL sums BIGINT as NUMERIC).
std::string metric_aggregates() {
    std::string out;
    StatCounters dummy;
    for_each_metric(dummy, [&](const std::string& col, auto& member, const char* how) {
        using T = std::decay_t<decltype(member)>;
        std::string how_s = how;
        std::string expr;
        if (how_s == "min" || how_s == "max") {
            expr = (how_s == "min" ? "MIN(" : "MAX(") + col + ")";
        } else if constexpr (std::is_same_v<T, long long>) {
            expr = "CAST(COALESCE(SUM(" + col + "), 0) AS BIGINT)";
        } else {
            expr = "COALESCE(SUM(" + col + "), 0)";
        }
        out += ", " + expr;
    });
    return out;
}

// Binds the outputs of a grouped select: key columns, then the metrics.
struct RowTarget {
    StatKey key;
    StatCounters c;
    soci::indicator name_ind = soci::i_ok;

    void bind(soci::statement& st, unsigned fields, bool with_date) {
        if (with_date) st.exchange(soci::into(key.date));
        if (fields & kHour) st.exchange(soci::into(key.hour));
        if (fields & kProvider) st.exchange(soci::into(key.provider));
        if (fields & kModel) st.exchange(soci::into(key.model));
        if (fields & kApiKey) {
            st.exchange(soci::into(key.api_key_id));
            st.exchange(soci::into(key.api_key_name, name_ind));
        }
        for_each_metric(c, [&](const std::string&, auto& member, const char*) {
            st.exchange(soci::into(member));
        });
    }
    void reset() {
        key = StatKey{};
        c = StatCounters{};
    }
};

// The columns a table is keyed by (after date).
std::vector<std::string> key_columns(unsigned fields) {
    std::vector<std::string> out;
    if (fields & kHour) out.emplace_back("hour");
    if (fields & kProvider) out.emplace_back("provider_name");
    if (fields & kModel) out.emplace_back("model_name");
    if (fields & kApiKey) {
        out.emplace_back("api_key_id");
        out.emplace_back("api_key_name");
    }
    return out;
}

// Inserts rows into one table with a statement prepared once.
void insert_rows(soci::session& s, StatTable table, const std::string& date, const StatRows& rows) {
    if (rows.empty()) return;
    unsigned fields = table_fields(table);
    RowTarget v;
    v.key.date = date;
    std::string cols = "date", vals = ":date";
    for (const auto& c : key_columns(fields)) {
        cols += ", " + c;
        vals += ", :" + c;
    }
    for_each_metric(v.c, [&](const std::string& col, auto&, const char*) {
        cols += ", " + col;
        vals += ", :" + col;
    });
    soci::statement st(s);
    st.exchange(soci::use(v.key.date, "date"));
    if (fields & kHour) st.exchange(soci::use(v.key.hour, "hour"));
    if (fields & kProvider) st.exchange(soci::use(v.key.provider, "provider_name"));
    if (fields & kModel) st.exchange(soci::use(v.key.model, "model_name"));
    if (fields & kApiKey) {
        st.exchange(soci::use(v.key.api_key_id, "api_key_id"));
        st.exchange(soci::use(v.key.api_key_name, "api_key_name"));
    }
    for_each_metric(v.c, [&](const std::string& col, auto& member, const char*) {
        st.exchange(soci::use(member, col));
    });
    st.alloc();
    st.prepare(std::string("INSERT INTO ") + table_name(table) + " (" + cols + ") VALUES (" + vals +
               ")");
    st.define_and_bind();
    for (const auto& [key, counters] : rows) {
        v.key.hour = key.hour;
        v.key.provider = key.provider;
        v.key.model = key.model;
        v.key.api_key_id = key.api_key_id;
        v.key.api_key_name = key.api_key_name;
        v.c = counters;
        st.execute(true);
    }
}

// Runs a prepared grouped select and collects its rows.
StatRows fetch_rows(soci::statement& st, RowTarget& target) {
    StatRows out;
    st.execute(false);
    while (st.fetch()) {
        if (target.name_ind != soci::i_ok) target.key.api_key_name.clear();
        out.emplace_back(target.key, target.c);
        target.reset();
    }
    return out;
}

}  // namespace

int latency_bucket(double ms) {
    auto it = std::upper_bound(kLatencyBounds.begin(), kLatencyBounds.end(), ms);
    return static_cast<int>(it - kLatencyBounds.begin());
}

void StatCounters::merge(const StatCounters& o) {
    requests += o.requests;
    successes += o.successes;
    errors += o.errors;
    timeouts += o.timeouts;
    cancelled += o.cancelled;
    pending += o.pending;
    rate_limited += o.rate_limited;
    tokens += o.tokens;
    prompt_tokens += o.prompt_tokens;
    completion_tokens += o.completion_tokens;
    latency_count += o.latency_count;
    latency_sum_ms += o.latency_sum_ms;
    if (o.latency_min_ms && (!latency_min_ms || *o.latency_min_ms < *latency_min_ms))
        latency_min_ms = o.latency_min_ms;
    if (o.latency_max_ms && (!latency_max_ms || *o.latency_max_ms > *latency_max_ms))
        latency_max_ms = o.latency_max_ms;
    ttft_count += o.ttft_count;
    ttft_sum_ms += o.ttft_sum_ms;
    for (std::size_t i = 0; i < latency_hist.size(); ++i)
        latency_hist[i] += o.latency_hist[i];
}

std::optional<double> StatCounters::average_latency() const {
    if (latency_count == 0) return std::nullopt;
    return latency_sum_ms / static_cast<double>(latency_count);
}

std::optional<double> StatCounters::latency_percentile(double p) const {
    long long n = 0;
    for (auto v : latency_hist)
        n += v;
    if (n == 0) return std::nullopt;
    double rank = std::clamp(p, 0.0, 1.0) * static_cast<double>(n);
    double lo_clamp = latency_min_ms.value_or(0), hi_clamp = latency_max_ms.value_or(lo_clamp);
    long long seen = 0;
    for (int i = 0; i < kLatencyBuckets; ++i) {
        long long in = latency_hist[static_cast<std::size_t>(i)];
        if (in == 0) continue;
        if (static_cast<double>(seen + in) >= rank) {
            double lo = i == 0 ? 0 : kLatencyBounds[static_cast<std::size_t>(i - 1)];
            double hi = i < kLatencyBuckets - 1 ? kLatencyBounds[static_cast<std::size_t>(i)]
                                                : std::max(hi_clamp, lo);
            lo = std::max(lo, lo_clamp);
            hi = std::min(hi, hi_clamp);
            if (hi < lo) hi = lo;
            double frac = (rank - static_cast<double>(seen)) / static_cast<double>(in);
            return lo + (hi - lo) * std::clamp(frac, 0.0, 1.0);
        }
        seen += in;
    }
    return latency_max_ms;
}

nlohmann::json StatCounters::json() const {
    auto avg = average_latency();
    nlohmann::json j = {{"requests", requests},
                        {"tokens", tokens},
                        {"errors", errors},
                        {"timeouts", timeouts},
                        {"rate_limited", rate_limited},
                        {"successes", successes},
                        {"cancelled", cancelled},
                        {"pending", pending},
                        {"prompt_tokens", prompt_tokens},
                        {"completion_tokens", completion_tokens}};
    j["avg_latency_ms"] = avg ? nlohmann::json(std::round(*avg * 10) / 10) : nlohmann::json();
    j["avg_ttft_ms"] = ttft_count > 0
                           ? nlohmann::json(std::round(ttft_sum_ms / ttft_count * 10) / 10)
                           : nlohmann::json();
    return j;
}

StatKey StatKey::project(unsigned fields) const {
    StatKey k;
    k.date = date;
    if (fields & kHour) k.hour = hour;
    if (fields & kProvider) k.provider = provider;
    if (fields & kModel) k.model = model;
    if (fields & kApiKey) {
        k.api_key_id = api_key_id;
        k.api_key_name = api_key_name;
    }
    return k;
}

StatRows regroup(const StatRows& rows, unsigned fields) {
    struct Sum {
        StatCounters c;
        std::string key_name;  // the last non-empty name seen
    };
    std::map<StatKey, Sum> sums;
    for (const auto& [key, c] : rows) {
        Sum& sum = sums[key.project(fields)];
        sum.c.merge(c);
        if ((fields & kApiKey) && !key.api_key_name.empty()) sum.key_name = key.api_key_name;
    }
    StatRows out;
    out.reserve(sums.size());
    for (auto& [key, sum] : sums) {
        out.emplace_back(key, std::move(sum.c));
        out.back().first.api_key_name = std::move(sum.key_name);
    }
    return out;
}

unsigned table_fields(StatTable t) {
    switch (t) {
        case StatTable::hourly:
            return kHour | kProvider | kModel | kApiKey;
        case StatTable::provider:
            return kProvider;
        case StatTable::api_key:
            return kApiKey;
        case StatTable::model:
            return kModel | kProvider;
        case StatTable::api_key_model:
            return kApiKey | kModel;
    }
    return 0;
}

const char* table_name(StatTable t) {
    switch (t) {
        case StatTable::hourly:
            return "hourly_stats";
        case StatTable::provider:
            return "provider_daily_stats";
        case StatTable::api_key:
            return "api_key_daily_stats";
        case StatTable::model:
            return "model_daily_stats";
        case StatTable::api_key_model:
            return "api_key_model_daily_stats";
    }
    return "";
}

Result<StatRows> StatsStore::scan(const CivilDate& date, int64_t from_ms, int64_t to_ms) {
    // Per row: the local hour's index from the start of the range, and the
    // row's contribution to every metric; then the same sums as read().
    std::string hour_expr =
        db_.dialect() == Dialect::postgresql
            ? "CAST(FLOOR((EXTRACT(EPOCH FROM created_at) - :start_s) / 3600) AS INTEGER)"
            : "((CAST(strftime('%s', created_at) AS INTEGER) - :start_s) / 3600)";
    std::string ok = "status = 'success'";
    std::string timed = ok + " AND latency_ms IS NOT NULL";
    std::string rl = std::string("status IN ") + kRateLimited;
    std::string row_metrics =
        "CASE WHEN " + rl + " THEN 0 ELSE 1 END AS requests, " +  //
        "CASE WHEN " + ok + " THEN 1 ELSE 0 END AS successes, " +
        "CASE WHEN status = 'error' THEN 1 ELSE 0 END AS errors, " +
        "CASE WHEN status = 'timeout' THEN 1 ELSE 0 END AS timeouts, " +
        "CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END AS cancelled, " + "CASE WHEN " + rl +
        " THEN 1 ELSE 0 END AS rate_limited, " +
        "CASE WHEN status = 'pending' THEN 1 ELSE 0 END AS pending, " + "CASE WHEN " + rl +
        " THEN 0 ELSE COALESCE(total_tokens, 0) END AS tokens, " + "CASE WHEN " + rl +
        " THEN 0 ELSE COALESCE(prompt_tokens, 0) END AS prompt_tokens, " + "CASE WHEN " + rl +
        " THEN 0 ELSE COALESCE(completion_tokens, 0) END AS completion_tokens, " + "CASE WHEN " +
        timed + " THEN 1 ELSE 0 END AS latency_count, " + "CASE WHEN " + timed +
        " THEN latency_ms ELSE 0 END AS latency_sum_ms, " + "CASE WHEN " + timed +
        " THEN latency_ms END AS latency_min_ms, " + "CASE WHEN " + timed +
        " THEN latency_ms END AS latency_max_ms, " + "CASE WHEN " + ok +
        " AND ttft_ms IS NOT NULL THEN 1 ELSE 0 END AS ttft_count, " + "CASE WHEN " + ok +
        " AND ttft_ms IS NOT NULL THEN ttft_ms ELSE 0 END AS ttft_sum_ms";
    for (int i = 0; i < kLatencyBuckets; ++i) {
        std::string cond = timed;
        char bound[32];
        if (i > 0) {
            std::snprintf(bound, sizeof bound, "%.0f",
                          kLatencyBounds[static_cast<std::size_t>(i - 1)]);
            cond += std::string(" AND latency_ms >= ") + bound;
        }
        if (i < kLatencyBuckets - 1) {
            std::snprintf(bound, sizeof bound, "%.0f", kLatencyBounds[static_cast<std::size_t>(i)]);
            cond += std::string(" AND latency_ms < ") + bound;
        }
        row_metrics += ", CASE WHEN " + cond + " THEN 1 ELSE 0 END AS " + hist_column(i);
    }
    unsigned fields = table_fields(StatTable::hourly);
    auto cols = group_columns(fields, false);
    std::string sql = "SELECT " + cols.select + metric_aggregates() + " FROM (SELECT " + hour_expr +
                      " AS hour, COALESCE(provider_name, '') AS provider_name, model AS "
                      "model_name, COALESCE(api_key_id, 0) AS api_key_id, "
                      "COALESCE(api_key_name, '') AS api_key_name, " +
                      row_metrics +
                      " FROM request_logs_all WHERE created_at >= :from_ts AND created_at < "
                      ":to_ts) r GROUP BY " +
                      cols.group_by;
    try {
        StatRows raw;
        db_.with_session([&](soci::session& s) {
            long long start_s = from_ms / 1000;
            std::string from_ts = iso8601_utc(from_ms), to_ts = iso8601_utc(to_ms);
            RowTarget target;
            soci::statement st(s);
            target.bind(st, fields, false);
            st.exchange(soci::use(start_s, "start_s"));
            st.exchange(soci::use(from_ts, "from_ts"));
            st.exchange(soci::use(to_ts, "to_ts"));
            st.alloc();
            st.prepare(sql);
            st.define_and_bind();
            raw = fetch_rows(st, target);
        });
        // Hour indexes to local hours: on a 25-hour day two indexes share an hour.
        std::string day = date.text();
        for (auto& [key, c] : raw) {
            key.date = day;
            int64_t at = from_ms + static_cast<int64_t>(std::max(key.hour, 0)) * 3600000;
            key.hour = local_time(std::min(at, to_ms - 1)).hour;
        }
        return regroup(raw, fields);
    } catch (...) {
        return database_error("summing request logs");
    }
}

Status StatsStore::write_day(const CivilDate& date, const StatRows& hourly) {
    std::string day = date.text();
    StatCounters total;
    for (const auto& [k, c] : hourly)
        total.merge(c);
    try {
        db_.with_session([&](soci::session& s) {
            WriteTransaction tx(s);
            for (auto t : {StatTable::hourly, StatTable::provider, StatTable::api_key,
                           StatTable::model, StatTable::api_key_model}) {
                s << std::string("DELETE FROM ") + table_name(t) + " WHERE date = :d",
                    soci::use(day, "d");
            }
            s << "DELETE FROM stats_days WHERE date = :d", soci::use(day, "d");
            insert_rows(s, StatTable::hourly, day, hourly);
            for (auto t : {StatTable::provider, StatTable::api_key, StatTable::model,
                           StatTable::api_key_model}) {
                insert_rows(s, t, day, regroup(hourly, table_fields(t)));
            }
            std::string zone = local_zone_name(), now = iso8601_now();
            long long source = total.requests + total.rate_limited, pending = total.pending;
            s << "INSERT INTO stats_days (date, time_zone, aggregated_at, source_rows, "
                 "pending_rows) VALUES (:d, :z, :a, :s, :p)",
                soci::use(day, "d"), soci::use(zone, "z"), soci::use(now, "a"),
                soci::use(source, "s"), soci::use(pending, "p");
            tx.commit();
        });
        ++local_writes_;
        return Ok{};
    } catch (...) {
        return database_error("writing daily statistics");
    }
}

Result<StatRows> StatsStore::read(StatTable table, const CivilDate& from, const CivilDate& to,
                                  unsigned group, bool with_date, const Filter& filter) {
    group &= table_fields(table);
    auto cols = group_columns(group, with_date);
    std::string where = " WHERE date >= :f AND date <= :t";
    if (filter.provider) where += " AND provider_name = :fp";
    if (filter.model) where += " AND model_name = :fm";
    if (filter.api_key_id) where += " AND api_key_id = :fk";
    std::string sums = metric_aggregates();
    std::string sql = "SELECT " + (cols.select.empty() ? sums.substr(2) : cols.select + sums) +
                      " FROM " + table_name(table) + where;
    if (!cols.group_by.empty()) sql += " GROUP BY " + cols.group_by;
    try {
        StatRows out;
        db_.with_session([&](soci::session& s) {
            std::string f = from.text(), t = to.text();
            std::string fp = filter.provider.value_or(""), fm = filter.model.value_or("");
            long long fk = filter.api_key_id.value_or(0);
            RowTarget target;
            soci::statement st(s);
            target.bind(st, group, with_date);
            st.exchange(soci::use(f, "f"));
            st.exchange(soci::use(t, "t"));
            if (filter.provider) st.exchange(soci::use(fp, "fp"));
            if (filter.model) st.exchange(soci::use(fm, "fm"));
            if (filter.api_key_id) st.exchange(soci::use(fk, "fk"));
            st.alloc();
            st.prepare(sql);
            st.define_and_bind();
            out = fetch_rows(st, target);
        });
        // A grouping without rows still answers one row of zeros; drop it.
        out.erase(
            std::remove_if(out.begin(), out.end(), [](const auto& r) { return r.second.empty(); }),
            out.end());
        return out;
    } catch (...) {
        return database_error("reading statistics");
    }
}

Result<std::string> StatsStore::generation() {
    try {
        std::string out;
        db_.with_session([&](soci::session& s) {
            long long days = 0;
            std::string newest;
            soci::indicator ind = soci::i_null;
            s << "SELECT COUNT(*), " + db_.ts("MAX(aggregated_at)") + " FROM stats_days",
                soci::into(days), soci::into(newest, ind);
            out = std::to_string(days) + "@" + (ind == soci::i_ok ? newest : "");
        });
        return out;
    } catch (...) {
        return database_error("reading the statistics generation");
    }
}

Result<std::vector<DayInfo>> StatsStore::days(const CivilDate& from, const CivilDate& to) {
    try {
        std::vector<DayInfo> out;
        db_.with_session([&](soci::session& s) {
            std::string f = from.text(), t = to.text();
            DayInfo d;
            soci::statement st =
                (s.prepare << "SELECT date, time_zone, " + db_.ts("aggregated_at") +
                                  ", source_rows, pending_rows FROM stats_days WHERE date >= :f "
                                  "AND date <= :t ORDER BY date",
                 soci::use(f, "f"), soci::use(t, "t"), soci::into(d.date), soci::into(d.time_zone),
                 soci::into(d.aggregated_at), soci::into(d.source_rows),
                 soci::into(d.pending_rows));
            st.execute(false);
            while (st.fetch())
                out.push_back(d);
        });
        return out;
    } catch (...) {
        return database_error("listing aggregated days");
    }
}

Result<std::vector<std::string>> StatsStore::provisional_days() {
    try {
        std::vector<std::string> out;
        db_.with_session([&](soci::session& s) {
            std::string d;
            soci::statement st =
                (s.prepare << "SELECT date FROM stats_days WHERE pending_rows > 0 ORDER BY date",
                 soci::into(d));
            st.execute(false);
            while (st.fetch())
                out.push_back(d);
        });
        return out;
    } catch (...) {
        return database_error("listing provisional days");
    }
}

Result<std::optional<int64_t>> StatsStore::first_log_ms() {
    try {
        std::optional<std::string> first;
        db_.with_session([&](soci::session& s) {
            // One MIN per table: each is an index lookup, which a MIN over the
            // view might not be.
            std::optional<std::string> live, archived;
            s << "SELECT " + db_.ts("MIN(created_at)") + " FROM request_logs", soci::into(live);
            s << "SELECT " + db_.ts("MIN(created_at)") + " FROM request_logs_history",
                soci::into(archived);
            first = live;
            if (archived && (!first || *archived < *first)) first = archived;
        });
        if (!first) return std::optional<int64_t>{};
        return parse_iso8601(*first);
    } catch (...) {
        return database_error("finding the first request log");
    }
}

}  // namespace modelgate::core::store

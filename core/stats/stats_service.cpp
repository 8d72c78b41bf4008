#include "stats/stats_service.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "util/time.hpp"

namespace modelgate::core::stats {

using store::kApiKey;
using store::kHour;
using store::kModel;
using store::kProvider;
using store::StatTable;

namespace {

double round_to(double v, int digits) {
    double f = std::pow(10.0, digits);
    return std::round(v * f) / f;
}

nlohmann::json optional_ms(const std::optional<double>& v) {
    return v ? nlohmann::json(round_to(*v, 1)) : nlohmann::json();
}

unsigned filter_fields(const store::StatsStore::Filter& f) {
    return (f.provider ? kProvider : 0u) | (f.model ? kModel : 0u) | (f.api_key_id ? kApiKey : 0u);
}

bool matches(const StatKey& k, const store::StatsStore::Filter& f) {
    return (!f.provider || k.provider == *f.provider) && (!f.model || k.model == *f.model) &&
           (!f.api_key_id || k.api_key_id == *f.api_key_id);
}

// The smallest daily table that holds every field in `needed`.
StatTable daily_table_for(unsigned needed) {
    if ((needed & ~kProvider) == 0) return StatTable::provider;
    if ((needed & ~kApiKey) == 0) return StatTable::api_key;
    if ((needed & ~(kModel | kProvider)) == 0) return StatTable::model;
    if ((needed & ~(kApiKey | kModel)) == 0) return StatTable::api_key_model;
    return StatTable::hourly;
}

std::string month_day(const CivilDate& d) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d/%02d", d.month, d.day);
    return buf;
}

StatCounters sum_all(const StatRows& rows) {
    StatCounters total;
    for (const auto& [k, c] : rows)
        total.merge(c);
    return total;
}

void put_totals(nlohmann::json& j, const StatCounters& c) {
    j["total_requests"] = c.requests;
    j["total_tokens"] = c.tokens;
    j["total_errors"] = c.errors;
    j["total_timeouts"] = c.timeouts;
    j["total_rate_limited"] = c.rate_limited;
    j["total_successes"] = c.successes;
}

// Names rows the way answers show them: a dimension's display name, with the
// id added for keys that share a name with another key.
class Namer {
  public:
    Namer(const StatRows& rows, Dimension d) : d_(d) {
        if (d != Dimension::api_key) return;
        for (const auto& [k, c] : rows)
            ids_[dimension_value(d, k)].insert(k.api_key_id);
    }
    std::string operator()(const StatKey& k) const {
        std::string name = dimension_value(d_, k);
        auto it = ids_.find(name);
        if (it != ids_.end() && it->second.size() > 1) name += " #" + std::to_string(k.api_key_id);
        return name;
    }

  private:
    Dimension d_;
    std::map<std::string, std::set<long long>> ids_;
};

// Sums rows per display name of a dimension, dates and hours dropped.
std::map<std::string, StatCounters> by_name(const StatRows& rows, Dimension d) {
    Namer name(rows, d);
    std::map<std::string, StatCounters> out;
    for (const auto& [k, c] : rows)
        out[name(k)].merge(c);
    return out;
}

}  // namespace

std::optional<Period> parse_period(std::string_view t) {
    if (t == "day") return Period::day;
    if (t == "week") return Period::week;
    if (t == "month") return Period::month;
    if (t == "year") return Period::year;
    return std::nullopt;
}

const char* period_name(Period p) {
    switch (p) {
        case Period::day:
            return "day";
        case Period::week:
            return "week";
        case Period::month:
            return "month";
        case Period::year:
            return "year";
    }
    return "";
}

PeriodSpan period_span(Period p, int64_t now_ms) {
    PeriodSpan s;
    s.period = p;
    s.today = local_date(now_ms);
    switch (p) {
        case Period::day:
            s.first = s.today;
            s.hourly = true;
            s.buckets = 24;
            break;
        case Period::week:
            s.first = s.today.plus_days(-6);
            s.hourly = true;
            s.buckets = 42;
            break;
        case Period::month:
            s.first = s.today.plus_days(-30);
            s.hourly = false;
            s.buckets = 31;
            break;
        case Period::year:
            s.first = s.today.plus_days(-363);
            s.hourly = false;
            s.buckets = 52;
            break;
    }
    s.start_ms = local_day_start_ms(s.first);
    return s;
}

int PeriodSpan::bucket_of(const StatKey& key) const {
    auto d = CivilDate::parse(key.date);
    if (!d) return -1;
    int64_t day = d->days_since_epoch() - first.days_since_epoch();
    if (day < 0 || *d > today) return -1;
    int64_t b = -1;
    switch (period) {
        case Period::day:
            b = key.hour;
            break;
        case Period::week:
            b = day * 6 + std::max(key.hour, 0) / 4;
            break;
        case Period::month:
            b = day;
            break;
        case Period::year:
            b = day / 7;
            break;
    }
    return b >= 0 && b < buckets ? static_cast<int>(b) : -1;
}

std::string PeriodSpan::label(int bucket) const {
    char buf[16];
    switch (period) {
        case Period::day:
            std::snprintf(buf, sizeof buf, "%02d:00", bucket);
            return buf;
        case Period::week:
            std::snprintf(buf, sizeof buf, " %02d:00", (bucket % 6) * 4);
            return month_day(first.plus_days(bucket / 6)) + buf;
        case Period::month:
            return month_day(first.plus_days(bucket));
        case Period::year:
            return month_day(first.plus_days(int64_t{bucket} * 7));
    }
    return "";
}

std::optional<Dimension> parse_dimension(std::string_view t) {
    if (t == "provider") return Dimension::provider;
    if (t == "api_key" || t == "key") return Dimension::api_key;
    if (t == "model") return Dimension::model;
    return std::nullopt;
}

const char* dimension_name(Dimension d) {
    switch (d) {
        case Dimension::provider:
            return "provider";
        case Dimension::api_key:
            return "api_key";
        case Dimension::model:
            return "model";
    }
    return "";
}

unsigned dimension_fields(Dimension d) {
    switch (d) {
        case Dimension::provider:
            return kProvider;
        case Dimension::api_key:
            return kApiKey;
        case Dimension::model:
            return kModel;
    }
    return 0;
}

std::string dimension_value(Dimension d, const StatKey& k) {
    switch (d) {
        case Dimension::provider:
            return k.provider.empty() ? "(none)" : k.provider;
        case Dimension::model:
            return k.model;
        case Dimension::api_key:
            if (k.api_key_id == 0) return "(no key)";
            return k.api_key_name.empty() ? "Deleted key #" + std::to_string(k.api_key_id)
                                          : k.api_key_name;
    }
    return "";
}

Result<StatsService::Rows> StatsService::live_today() {
    std::unique_lock lock(live_mu_);
    for (;;) {
        int64_t now = unix_ms_now();
        CivilDate today = local_date(now);
        bool usable = live_ && live_date_ == today.text();
        if (usable && now - live_at_ms_ < live_ttl_ms_) return live_;
        if (live_refreshing_) {
            // Another caller is summing: its previous sum of today serves.
            if (usable) return live_;
            live_cv_.wait(lock, [&] { return !live_refreshing_; });
            continue;  // its sum is now fresh, or it failed and this caller tries
        }
        live_refreshing_ = true;
        // Today's earlier hours are summed again once a minute (their pending
        // calls end), the current hour every time: on a busy day that is a
        // small part of the rows.
        int64_t day_start = local_day_start_ms(today);
        int64_t hour_start = now - (now - day_start) % 3600000;
        Rows earlier = live_earlier_;
        bool earlier_fresh = earlier && live_earlier_date_ == today.text() &&
                             live_earlier_until_ms_ == hour_start &&
                             now - live_earlier_at_ms_ < kEarlierHoursTtlMs;
        lock.unlock();
        Result<StatRows> current = StatRows{};
        if (!earlier_fresh && hour_start == day_start) {
            earlier = std::make_shared<const StatRows>();
        } else if (!earlier_fresh) {
            auto rows = store_.scan(today, day_start, hour_start);
            if (rows)
                earlier = std::make_shared<const StatRows>(std::move(rows.value()));
            else
                current = rows.error();
        }
        if (current)
            current = store_.scan(today, hour_start, local_day_start_ms(today.plus_days(1)));
        lock.lock();
        live_refreshing_ = false;
        live_cv_.notify_all();
        if (!current) return current.error();
        if (!earlier_fresh) {
            live_earlier_ = earlier;
            live_earlier_date_ = today.text();
            live_earlier_until_ms_ = hour_start;
            live_earlier_at_ms_ = now;
        }
        auto all = std::make_shared<StatRows>(*earlier);
        for (auto& r : current.value())
            all->push_back(std::move(r));
        live_ = std::move(all);
        live_date_ = today.text();
        live_at_ms_ = now;
        return live_;
    }
}

Result<std::string> StatsService::generation() {
    int64_t now = unix_ms_now();
    uint64_t writes = store_.local_writes();
    {
        std::lock_guard lock(past_mu_);
        if (!generation_.empty() && writes == generation_writes_ && now - generation_at_ms_ < 1000)
            return generation_;
    }
    auto g = store_.generation();
    if (!g) return g.error();
    std::lock_guard lock(past_mu_);
    generation_ = g.value() + "/" + std::to_string(writes);
    generation_at_ms_ = now;
    generation_writes_ = writes;
    return generation_;
}

Result<StatsService::Rows> StatsService::read_past(StatTable table, const CivilDate& from,
                                                   const CivilDate& to, unsigned group,
                                                   bool with_date,
                                                   const store::StatsStore::Filter& f) {
    // Bounds of what is kept: entries, rows in all, rows of one entry.
    constexpr std::size_t kMaxEntries = 128, kMaxRows = 400000, kMaxEntryRows = 100000;
    auto gen = generation();
    if (!gen) return gen.error();
    std::string key = std::string(table_name(table)) + "|" + from.text() + "|" + to.text() + "|" +
                      std::to_string(group) + "|" + (with_date ? "d" : "-") + "|" +
                      (f.provider ? "p" + *f.provider : "") + "|" +
                      (f.model ? "m" + *f.model : "") + "|" +
                      (f.api_key_id ? std::to_string(*f.api_key_id) : "");
    {
        std::lock_guard lock(past_mu_);
        if (past_generation_ != gen.value()) {
            past_.clear();
            past_order_.clear();
            past_rows_ = 0;
            past_generation_ = gen.value();
        }
        if (auto it = past_.find(key); it != past_.end()) return it->second;
    }
    auto rows = store_.read(table, from, to, group, with_date, f);
    if (!rows) return rows.error();
    auto kept = std::make_shared<const StatRows>(std::move(rows.value()));
    if (kept->size() > kMaxEntryRows) return kept;
    std::lock_guard lock(past_mu_);
    if (past_generation_ != gen.value() || past_.count(key)) return kept;
    while (!past_order_.empty() &&
           (past_.size() >= kMaxEntries || past_rows_ + kept->size() > kMaxRows)) {
        auto oldest = past_.find(past_order_.front());
        past_rows_ -= oldest->second->size();
        past_.erase(oldest);
        past_order_.pop_front();
    }
    past_.emplace(key, kept);
    past_order_.push_back(key);
    past_rows_ += kept->size();
    return kept;
}

Result<StatRows> StatsService::load_days(const CivilDate& from, const CivilDate& to, unsigned group,
                                         const store::StatsStore::Filter& f, bool with_date) {
    StatRows rows;
    CivilDate today = local_date(unix_ms_now());
    CivilDate last_stored = std::min(to, today.plus_days(-1));
    bool hourly = (group & kHour) != 0;
    if (from <= last_stored) {
        StatTable table = hourly ? StatTable::hourly : daily_table_for(group | filter_fields(f));
        auto past = read_past(table, from, last_stored, group, with_date, f);
        if (!past) return past.error();
        rows = *past.value();
    }
    if (from <= today && today <= to) {
        auto live = live_today();
        if (!live) return live.error();
        StatRows kept;
        for (const auto& r : *live.value()) {
            if (matches(r.first, f)) kept.push_back(r);
        }
        for (auto& r : store::regroup(kept, group)) {
            if (!with_date) r.first.date.clear();
            rows.push_back(std::move(r));
        }
    }
    return rows;
}

Result<StatRows> StatsService::load(const PeriodSpan& span, unsigned group,
                                    const store::StatsStore::Filter& f) {
    return load_days(span.first, span.today, group | (span.hourly ? kHour : 0u), f);
}

Result<StatsService::Totals> StatsService::totals() {
    Totals t;
    CivilDate today = local_date(unix_ms_now());
    auto past = read_past(StatTable::provider, CivilDate{}, today.plus_days(-1), 0, false, {});
    if (!past) return past.error();
    auto live = live_today();
    if (!live) return live.error();
    t.today = sum_all(*live.value());
    t.all = sum_all(*past.value());
    t.all.merge(t.today);
    return t;
}

Result<nlohmann::json> StatsService::period_summary(Period p) {
    PeriodSpan span = period_span(p, unix_ms_now());
    auto by_provider_model = load(span, kProvider | kModel);
    if (!by_provider_model) return by_provider_model.error();
    auto by_key_model = load(span, kApiKey | kModel);
    if (!by_key_model) return by_key_model.error();

    nlohmann::json j = {{"period", period_name(p)}, {"start", iso8601_utc(span.start_ms)}};
    put_totals(j, sum_all(by_provider_model.value()));
    auto nest = [](const StatRows& rows, Dimension outer) {
        nlohmann::json out = nlohmann::json::object();
        auto outer_sums = by_name(rows, outer);
        for (const auto& [name, c] : outer_sums) {
            out[name] = c.json();
            out[name]["models"] = nlohmann::json::object();
        }
        // Rows per (outer, model), named the way by_name() did.
        std::map<std::string, std::map<std::string, StatCounters>> inner;
        Namer namer(rows, outer);
        for (const auto& [k, c] : rows) {
            std::string name = namer(k);
            inner[name][k.model].merge(c);
            if (outer == Dimension::api_key) out[name]["api_key_id"] = k.api_key_id;
        }
        for (const auto& [name, models] : inner) {
            for (const auto& [model, c] : models)
                out[name]["models"][model] = c.json();
        }
        return out;
    };
    j["providers"] = nest(by_provider_model.value(), Dimension::provider);
    j["api_keys"] = nest(by_key_model.value(), Dimension::api_key);
    nlohmann::json models = nlohmann::json::object();
    for (const auto& [name, c] : by_name(by_provider_model.value(), Dimension::model))
        models[name] = c.json();
    j["models"] = std::move(models);
    j["active_keys"] = j["api_keys"].size();
    return j;
}

Result<nlohmann::json> StatsService::composition(Dimension d, Period p) {
    PeriodSpan span = period_span(p, unix_ms_now());
    auto rows = load(span, dimension_fields(d));
    if (!rows) return rows.error();
    nlohmann::json j = {{"dimension", dimension_name(d)},
                        {"period", period_name(p)},
                        {"start", iso8601_utc(span.start_ms)}};
    put_totals(j, sum_all(rows.value()));
    nlohmann::json data = nlohmann::json::object();
    for (const auto& [name, c] : by_name(rows.value(), d))
        data[name] = c.json();
    j["data"] = std::move(data);
    return j;
}

Result<nlohmann::json> StatsService::trend(Period p, std::optional<Dimension> d,
                                           const std::string& name) {
    PeriodSpan span = period_span(p, unix_ms_now());
    store::StatsStore::Filter filter;
    unsigned group = 0;
    if (d && !name.empty()) {
        if (*d == Dimension::provider) filter.provider = name;
        if (*d == Dimension::model) filter.model = name;
        if (*d == Dimension::api_key) group = kApiKey;  // matched by name or id below
    }
    auto rows = load(span, group, filter);
    if (!rows) return rows.error();
    std::vector<StatCounters> buckets(static_cast<std::size_t>(span.buckets));
    for (const auto& [k, c] : rows.value()) {
        if (group == kApiKey && dimension_value(Dimension::api_key, k) != name &&
            std::to_string(k.api_key_id) != name)
            continue;
        int b = span.bucket_of(k);
        if (b >= 0) buckets[static_cast<std::size_t>(b)].merge(c);
    }
    nlohmann::json intervals = nlohmann::json::array(), points = nlohmann::json::array(),
                   data = nlohmann::json::object();
    for (int i = 0; i < span.buckets; ++i) {
        std::string label = span.label(i);
        intervals.push_back(label);
        points.push_back(buckets[static_cast<std::size_t>(i)].json());
        data[label] = points.back();
    }
    nlohmann::json j = {{"period", period_name(p)},
                        {"start", iso8601_utc(span.start_ms)},
                        {"intervals", std::move(intervals)},
                        {"points", std::move(points)},
                        {"data", std::move(data)}};
    if (d) j["dimension"] = dimension_name(*d);
    if (!name.empty()) j["name"] = name;
    return j;
}

Result<nlohmann::json> StatsService::error_trend(int days) {
    CivilDate today = local_date(unix_ms_now());
    CivilDate first = today.plus_days(-(days - 1));
    auto rows = load_days(first, today, 0);
    if (!rows) return rows.error();
    std::map<std::string, StatCounters> per_day;
    for (const auto& [k, c] : rows.value())
        per_day[k.date].merge(c);
    nlohmann::json out = nlohmann::json::array();
    for (int i = 0; i < days; ++i) {
        std::string date = first.plus_days(i).text();
        const StatCounters& c = per_day[date];
        out.push_back({{"date", date},
                       {"requests", c.requests},
                       {"errors", c.errors},
                       {"timeouts", c.timeouts},
                       {"rate_limited", c.rate_limited}});
    }
    return nlohmann::json{{"days", std::move(out)}};
}

Result<nlohmann::json> StatsService::monitor_details(Period p) {
    PeriodSpan span = period_span(p, unix_ms_now());
    auto trend_json = trend(p, std::nullopt, "");
    if (!trend_json) return trend_json.error();
    nlohmann::json j = {{"period", period_name(p)}, {"start", iso8601_utc(span.start_ms)}};
    j["trend"] = {{"intervals", (*trend_json)["intervals"]}, {"points", (*trend_json)["points"]}};

    // Hotspots: providers, keys and models with the worst error and timeout rates.
    nlohmann::json candidates = nlohmann::json::array();
    StatCounters total;
    for (Dimension d : {Dimension::provider, Dimension::api_key, Dimension::model}) {
        auto rows = load_days(span.first, span.today, dimension_fields(d), {}, false);
        if (!rows) return rows.error();
        if (d == Dimension::provider) total = sum_all(rows.value());
        for (const auto& [name, c] : by_name(rows.value(), d)) {
            long long all = c.requests + c.rate_limited;
            if (all == 0) continue;
            double n = static_cast<double>(all);
            candidates.push_back({{"scope", dimension_name(d)},
                                  {"name", name},
                                  {"masked", d == Dimension::api_key},
                                  {"requests", all},
                                  {"errors", c.errors},
                                  {"timeouts", c.timeouts},
                                  {"rate_limited", c.rate_limited},
                                  {"error_rate", round_to(c.errors / n, 4)},
                                  {"timeout_rate", round_to(c.timeouts / n, 4)},
                                  {"rate_limited_rate", round_to(c.rate_limited / n, 4)}});
        }
    }
    put_totals(j, total);
    auto top = [&](const char* count, const char* rate, bool rate_first) {
        std::vector<nlohmann::json> picked;
        for (const auto& c : candidates) {
            if (c["requests"].get<long long>() >= 3 && c[count].get<long long>() > 0)
                picked.push_back(c);
        }
        std::sort(picked.begin(), picked.end(), [&](const auto& a, const auto& b) {
            auto key = [&](const nlohmann::json& x) {
                double r = x[rate].get<double>();
                double n = static_cast<double>(x[count].get<long long>());
                return std::make_tuple(rate_first ? r : n, rate_first ? n : r,
                                       x["requests"].get<long long>());
            };
            return key(a) > key(b);
        });
        if (picked.size() > 6) picked.resize(6);
        return nlohmann::json(picked);
    };
    j["error_hotspots"] = top("errors", "error_rate", true);
    j["timeout_hotspots"] = top("timeouts", "timeout_rate", false);

    // Response times per hour of day for the 8 busiest models (successful calls).
    // Month and year read hourly rows of the last 31 days only.
    CivilDate from = span.hourly ? span.first : span.today.plus_days(-30);
    auto hourly = load_days(std::max(from, span.first), span.today, kModel | kHour, {}, false);
    if (!hourly) return hourly.error();
    std::map<std::string, std::array<StatCounters, 24>> per_model;
    std::map<std::string, long long> samples;
    for (const auto& [k, c] : hourly.value()) {
        if (k.hour < 0 || k.hour > 23 || c.latency_count == 0) continue;
        per_model[k.model][static_cast<std::size_t>(k.hour)].merge(c);
        samples[k.model] += c.latency_count;
    }
    std::vector<std::pair<long long, std::string>> busiest;
    for (const auto& [model, n] : samples)
        busiest.emplace_back(n, model);
    std::sort(busiest.begin(), busiest.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    if (busiest.size() > 8) busiest.resize(8);
    nlohmann::json latency = nlohmann::json::array();
    for (const auto& [n, model] : busiest) {
        nlohmann::json hours = nlohmann::json::array();
        for (int h = 0; h < 24; ++h) {
            const StatCounters& c = per_model[model][static_cast<std::size_t>(h)];
            hours.push_back({{"hour", h},
                             {"count", c.latency_count},
                             {"avg_ms", optional_ms(c.average_latency())},
                             {"p95_ms", optional_ms(c.latency_percentile(0.95))},
                             {"min_ms", optional_ms(c.latency_min_ms)},
                             {"max_ms", optional_ms(c.latency_max_ms)}});
        }
        latency.push_back({{"model", model}, {"samples", n}, {"hours", std::move(hours)}});
    }
    j["latency"] = std::move(latency);
    j["latency_window_start"] = std::max(from, span.first).text();
    return j;
}

Result<nlohmann::json> StatsService::key_summary(int64_t key_id) {
    CivilDate today = local_date(unix_ms_now());
    store::StatsStore::Filter filter;
    filter.api_key_id = key_id;
    auto rows = load_days(CivilDate{}, today, kApiKey | kModel, filter);
    if (!rows) return rows.error();
    StatCounters total, today_sum;
    std::string name;
    std::map<std::string, StatCounters> models;
    for (const auto& [k, c] : rows.value()) {
        total.merge(c);
        if (k.date == today.text()) today_sum.merge(c);
        models[k.model].merge(c);
        if (!k.api_key_name.empty()) name = k.api_key_name;
    }
    nlohmann::json j = {{"api_key_id", key_id}, {"name", name}};
    put_totals(j, total);
    j["today"] = today_sum.json();
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [model, c] : models)
        m[model] = c.json();
    j["models"] = std::move(m);
    return j;
}

Result<int64_t> Aggregator::aggregate_day(const CivilDate& day) {
    int64_t from = local_day_start_ms(day), to = local_day_start_ms(day.plus_days(1));
    auto rows = store_.scan(day, from, to);
    if (!rows) return rows.error();
    if (auto st = store_.write_day(day, rows.value()); !st) return st.error();
    StatCounters total = sum_all(rows.value());
    return total.requests + total.rate_limited;
}

std::optional<CivilDate> Aggregator::oldest_complete_day(int64_t now_ms) const {
    if (raw_days_ <= 0) return std::nullopt;
    // Rows older than raw_days are purged: the day after the cut-off is whole.
    return local_date(now_ms - int64_t{raw_days_} * 86400000).plus_days(1);
}

Result<int> Aggregator::aggregate_range(const CivilDate& from, const CivilDate& to) {
    if (auto oldest = oldest_complete_day(unix_ms_now()); oldest && from < *oldest) {
        return make_error(ErrorCode::invalid_request,
                          "request logs before " + oldest->text() +
                              " were deleted (MODELGATE_HISTORY_RETENTION_DAYS): their "
                              "statistics can no longer be recomputed",
                          "raw_logs_deleted");
    }
    int days = 0;
    for (CivilDate d = from; d <= to; d = d.plus_days(1)) {
        auto n = aggregate_day(d);
        if (!n) return n.error();
        ++days;
    }
    return days;
}

Result<Aggregator::CatchUp> Aggregator::catch_up(int64_t now_ms, int max_days) {
    CatchUp done;
    CivilDate yesterday = local_date(now_ms).plus_days(-1);
    auto first = store_.first_log_ms();
    if (!first) return first.error();
    if (!first.value()) return done;
    CivilDate start = std::max(local_date(*first.value()), yesterday.plus_days(-(max_days - 1)));
    if (auto oldest = oldest_complete_day(now_ms)) start = std::max(start, *oldest);
    if (yesterday < start) return done;
    auto known = store_.days(start, yesterday);
    if (!known) return known.error();
    std::map<std::string, store::DayInfo> info;
    for (auto& d : known.value())
        info[d.date] = d;
    std::string zone = local_zone_name();
    for (CivilDate d = start; d <= yesterday; d = d.plus_days(1)) {
        auto it = info.find(d.text());
        bool stale = it == info.end() || it->second.pending_rows > 0 ||
                     it->second.time_zone != zone ||
                     parse_iso8601(it->second.aggregated_at).value_or(0) <
                         local_day_start_ms(d.plus_days(1));
        if (!stale) continue;
        auto n = aggregate_day(d);
        if (!n) return n.error();
        ++done.days;
        done.rows += n.value();
    }
    return done;
}

}  // namespace modelgate::core::stats

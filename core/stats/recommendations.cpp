#include "stats/recommendations.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "util/time.hpp"

namespace modelgate::core::stats {

namespace {

double round4(double v) {
    return std::round(v * 10000) / 10000;
}

nlohmann::json latency_json(const std::optional<double>& ms) {
    return ms ? nlohmann::json(std::round(*ms * 100) / 100) : nlohmann::json();
}

double error_rate(const ModelFigures& f) {
    return f.requests > 0 ? round4(double(f.errors) / double(f.requests)) : 0;
}

ModelFigures figures_of(const store::StatCounters& c) {
    return {c.requests - c.pending, c.errors + c.timeouts, c.average_latency()};
}

}  // namespace

double model_score(const ModelFigures& f) {
    double reliability = std::max(0.0, 1 - 1.5 * error_rate(f));
    double latency = f.avg_latency_ms ? 1 / (1 + *f.avg_latency_ms / 2500) : 0;
    double sample = std::min(double(f.requests) / 20, 1.0);
    return round4(0.55 * reliability + 0.30 * latency + 0.15 * sample);
}

void rank(std::vector<Recommendation>& items) {
    constexpr double kNone = std::numeric_limits<double>::infinity();
    std::sort(items.begin(), items.end(), [&](const Recommendation& a, const Recommendation& b) {
        if (a.score != b.score) return a.score > b.score;
        if (a.error_rate != b.error_rate) return a.error_rate < b.error_rate;
        double la = a.figures.avg_latency_ms.value_or(kNone),
               lb = b.figures.avg_latency_ms.value_or(kNone);
        if (la != lb) return la < lb;
        if (a.figures.requests != b.figures.requests)
            return a.figures.requests > b.figures.requests;
        return std::tie(a.candidate->provider, a.candidate->public_name) <
               std::tie(b.candidate->provider, b.candidate->public_name);
    });
}

Result<nlohmann::json> key_recommendations(StatsService& stats, int64_t key_id, Period period,
                                           const std::vector<Candidate>& candidates,
                                           std::size_t top) {
    PeriodSpan span = period_span(period, unix_ms_now());
    store::StatsStore::Filter filter;
    filter.api_key_id = key_id;
    auto rows = stats.load_days(span.first, span.today,
                                store::kProvider | store::kModel | store::kHour, filter, false);
    if (!rows) return rows.error();

    std::map<std::pair<std::string, std::string>, store::StatCounters> per_model;
    std::map<int, store::StatCounters> per_hour;
    for (const auto& [k, c] : rows.value()) {
        per_model[std::make_pair(k.provider, k.model)].merge(c);
        if (k.hour >= 0) per_hour[k.hour].merge(c);
    }

    std::vector<Recommendation> items;
    for (const auto& cand : candidates) {
        auto it = per_model.find({cand.provider, cand.upstream_model});
        if (it == per_model.end()) continue;
        Recommendation r{&cand, figures_of(it->second)};
        if (r.figures.requests <= 0) continue;
        r.error_rate = error_rate(r.figures);
        r.score = model_score(r.figures);
        items.push_back(r);
    }
    rank(items);
    if (items.size() > top) items.resize(top);

    nlohmann::json out_items = nlohmann::json::array();
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& r = items[i];
        const Candidate& c = *r.candidate;
        out_items.push_back(
            {{"rank", i + 1},
             {"model", c.provider + "/" + c.public_name},
             {"display_name", c.display_name.empty() ? c.public_name : c.display_name},
             {"provider", c.provider},
             {"actual_model_name", c.upstream_model},
             {"requests", r.figures.requests},
             {"errors", r.figures.errors},
             {"error_rate", r.error_rate},
             {"avg_latency_ms", latency_json(r.figures.avg_latency_ms)},
             {"score", r.score},
             {"max_tokens", c.max_tokens},
             {"thinking", c.thinking}});
    }
    nlohmann::json hours = nlohmann::json::array();
    for (const auto& [hour, c] : per_hour) {
        ModelFigures f = figures_of(c);
        if (f.requests <= 0) continue;
        hours.push_back({{"hour", hour},
                         {"requests", f.requests},
                         {"errors", f.errors},
                         {"error_rate", error_rate(f)},
                         {"avg_latency_ms", latency_json(f.avg_latency_ms)}});
    }
    return nlohmann::json{{"api_key_id", key_id},
                          {"period", period_name(period)},
                          {"start", iso8601_utc(span.start_ms)},
                          {"generated_at", iso8601_utc(unix_ms_now())},
                          {"items", std::move(out_items)},
                          {"hourly_stats", std::move(hours)}};
}

}  // namespace modelgate::core::stats

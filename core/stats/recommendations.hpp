// Model recommendations for one API key (spec 8.5): every model the key may
// use that it called in the period, scored from its own calls, ranked, and its
// calls by hour of day. Deterministic: the same rows give the same answer.
// plugins/analysis adds texts written by a model on top (docs/admin-api.md).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "stats/stats_service.hpp"

namespace modelgate::core::stats {

// A (provider, model) over a window: calls that ended (pending ones are not
// counted), of which failed (error or timeout), and the mean latency of the
// successful ones.
struct ModelFigures {
    int64_t requests = 0, errors = 0;
    std::optional<double> avg_latency_ms;
};
// 0.55 x reliability (1 - 1.5 x error rate, at least 0) + 0.30 x latency
// (1 / (1 + ms / 2500), 0 without one) + 0.15 x sample (requests / 20, at most
// 1), to 4 decimals.
double model_score(const ModelFigures& f);

// A model the key may use.
struct Candidate {
    std::string provider, public_name, upstream_model, display_name;
    int max_tokens = 0;
    bool thinking = false;
};

struct Recommendation {
    const Candidate* candidate = nullptr;
    ModelFigures figures;
    double error_rate = 0, score = 0;
};
// Sorted by score (descending), then error rate, latency (ascending), requests
// (descending) and name.
void rank(std::vector<Recommendation>& items);

// {api_key_id, period, start, generated_at, items: [{rank, model, display_name,
// provider, actual_model_name, requests, errors, error_rate, avg_latency_ms,
// score, max_tokens, thinking}] (the best `top`), hourly_stats: [{hour,
// requests, errors, error_rate, avg_latency_ms}] (hours with calls, over all the
// key's models)}. period: day, week or month.
Result<nlohmann::json> key_recommendations(StatsService& stats, int64_t key_id, Period period,
                                           const std::vector<Candidate>& candidates,
                                           std::size_t top);

}  // namespace modelgate::core::stats

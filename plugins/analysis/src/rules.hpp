// The deterministic half of plugins/analysis (spec 8.5, 9.1): what is computed
// in code before any model is asked, and what answers when no model can be.
// Pure functions of their inputs: the unit tests need no gateway.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace modelgate::analysis {

using json = nlohmann::json;

// One request-log row as the analysis reads it.
struct CallRow {
    int64_t id = 0;
    std::string provider, model, key_name, status;  // status: success, error, timeout, ...
    std::optional<int> upstream_code, downstream_code;
    std::optional<double> latency_ms;
    int64_t context_tokens = 0;  // the prompt's tokens
    int64_t tokens = 0;
    std::string error, created_at;
};

bool is_failure(const CallRow& r);  // error or timeout

// Input A: {total_logs, total_errors, total_timeouts, top_providers, top_models,
// top_status_codes (upstream; the top 5 each as [name, count]), avg_context_tokens,
// max_context_tokens, avg_timeout_context_tokens}. `rows` are a day's ended rows.
json failure_summary(const std::vector<CallRow>& rows);

// Context buckets in tokens (k = 1024): 0-8k, 8k-16k, 16k-32k, 32k-64k,
// 64k-96k, 96k-128k, 128k+.
inline constexpr int kBuckets = 7;
int bucket_of(int64_t context_tokens);
const char* bucket_label(int bucket);

struct BucketFigures {
    int64_t requests = 0;
    double avg_latency_ms = 0, p95_latency_ms = 0;  // of the rows with a latency
    double timeout_rate = 0, error_rate = 0;
};

struct ModelRisk {
    std::string model;  // provider/model
    int64_t requests = 0;
    std::map<int, BucketFigures> buckets;  // only buckets with rows
    // The first bucket (ascending) with at least 5 requests over each threshold:
    // p95 >= 20 s (slow), timeout rate >= 5 %, error rate >= 8 %.
    std::optional<int> slow_from, timeout_from, error_from;
    json to_json() const;
};

// Input B, per model, sorted: models with a timeout threshold first, then an
// error threshold, then a slow one, then by requests (descending) and name.
std::vector<ModelRisk> context_risk(const std::vector<CallRow>& rows);

// The rule-based report (Markdown) in "en" or "zh": findings for timeouts, the
// top status code (429 / 5xx), contexts of 80,000 tokens and more, the top
// failing provider, and OpenCode limit suggestions per model.
std::string rule_based_report(const json& summary, const std::vector<ModelRisk>& risks,
                              const std::string& locale, const std::string& date);
// OpenCode limits for a model's thresholds: {context, output}.
std::pair<int, int> opencode_limits(const ModelRisk& risk);

// Spec 8.5: a (provider, model) over a window, as the gateway's
// /admin/api/keys/{id}/recommendations scored it.
struct ModelFigures {
    std::string model;                 // provider/model
    int64_t requests = 0, errors = 0;  // ended calls; errors: error + timeout
    std::optional<double> avg_latency_ms;
};
// The rule-based reason for one model ("" when no rule fits), in "en" or "zh":
// no errors, fast and >= 10 calls; <= 2 % errors and >= 10 calls; <= 2500 ms;
// >= 15 calls.
std::string rule_based_reason(const ModelFigures& f, const std::string& locale);

struct HourFigures {
    int hour = 0;
    int64_t requests = 0, errors = 0;
    std::optional<double> avg_latency_ms;
};
// The best hours as at most two ranges "HH:00-HH:00", or nullopt when the hours
// hold fewer than 10 requests in all.
std::optional<std::string> rule_based_timing(const std::vector<HourFigures>& hours,
                                             const std::string& locale);

// Text from a model: code fences removed; when any of the first five lines is a
// numbered bold chain-of-thought item ("1. **"), such items and their
// sub-bullets are dropped; empty text falls back to reasoning_content.
std::string answer_text(const json& chat_completion);
std::string strip_code_fences(const std::string& text);
// "provider/model => reason" lines (bullets, numbering and backticks removed;
// ':' when there is no "=>"), kept for the candidates only.
std::map<std::string, std::string> parse_reasons(const std::string& text,
                                                 const std::vector<std::string>& candidates);

}  // namespace modelgate::analysis

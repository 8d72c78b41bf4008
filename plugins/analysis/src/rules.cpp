#include "rules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <regex>
#include <sstream>

namespace modelgate::analysis {

namespace {

bool zh(const std::string& locale) {
    return locale.rfind("zh", 0) == 0;
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

double round_to(double v, int decimals) {
    double f = std::pow(10.0, decimals);
    return std::round(v * f) / f;
}

// The top `n` names by count (ties by name) as [[name, count], ...].
json top(const std::map<std::string, int64_t>& counts, std::size_t n) {
    std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    json out = json::array();
    for (std::size_t i = 0; i < v.size() && i < n; ++i)
        out.push_back(json::array({v[i].first, v[i].second}));
    return out;
}

// Nearest-rank percentile of sorted values.
double nearest_rank(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line))
        out.push_back(line);
    return out;
}

}  // namespace

bool is_failure(const CallRow& r) {
    return r.status == "error" || r.status == "timeout";
}

json failure_summary(const std::vector<CallRow>& rows) {
    int64_t errors = 0, timeouts = 0, context_sum = 0, context_max = 0, timeout_context = 0;
    std::map<std::string, int64_t> providers, models, codes;
    for (const auto& r : rows) {
        if (!is_failure(r)) continue;
        (r.status == "timeout" ? timeouts : errors) += 1;
        if (r.status == "timeout") timeout_context += r.context_tokens;
        context_sum += r.context_tokens;
        context_max = std::max(context_max, r.context_tokens);
        providers[r.provider.empty() ? "(none)" : r.provider] += 1;
        models[r.model] += 1;
        if (r.upstream_code) codes[std::to_string(*r.upstream_code)] += 1;
    }
    int64_t failures = errors + timeouts;
    auto avg = [](int64_t sum, int64_t n) { return n == 0 ? 0.0 : round_to(double(sum) / n, 1); };
    return {{"total_logs", static_cast<int64_t>(rows.size())},
            {"total_errors", errors},
            {"total_timeouts", timeouts},
            {"top_providers", top(providers, 5)},
            {"top_models", top(models, 5)},
            {"top_status_codes", top(codes, 5)},
            {"avg_context_tokens", avg(context_sum, failures)},
            {"max_context_tokens", context_max},
            {"avg_timeout_context_tokens", avg(timeout_context, timeouts)}};
}

int bucket_of(int64_t tokens) {
    static const int64_t kBounds[kBuckets - 1] = {8, 16, 32, 64, 96, 128};
    for (int i = 0; i < kBuckets - 1; ++i) {
        if (tokens < kBounds[i] * 1024) return i;
    }
    return kBuckets - 1;
}

const char* bucket_label(int bucket) {
    static const char* kLabels[kBuckets] = {"0-8k",    "8k-16k",   "16k-32k", "32k-64k",
                                            "64k-96k", "96k-128k", "128k+"};
    return bucket >= 0 && bucket < kBuckets ? kLabels[bucket] : "?";
}

json ModelRisk::to_json() const {
    json b = json::array();
    for (const auto& [i, f] : buckets) {
        b.push_back({{"bucket", bucket_label(i)},
                     {"requests", f.requests},
                     {"avg_latency_ms", round_to(f.avg_latency_ms, 1)},
                     {"p95_latency_ms", round_to(f.p95_latency_ms, 1)},
                     {"timeout_rate", round_to(f.timeout_rate, 4)},
                     {"error_rate", round_to(f.error_rate, 4)}});
    }
    auto label = [](const std::optional<int>& t) {
        return t ? json(bucket_label(*t)) : json(nullptr);
    };
    return {{"model", model},
            {"requests", requests},
            {"buckets", b},
            {"slow_threshold", label(slow_from)},
            {"timeout_threshold", label(timeout_from)},
            {"error_threshold", label(error_from)}};
}

std::vector<ModelRisk> context_risk(const std::vector<CallRow>& rows) {
    struct Acc {
        int64_t requests = 0, timeouts = 0, errors = 0;
        std::vector<double> latencies;
    };
    std::map<std::string, std::map<int, Acc>> acc;
    for (const auto& r : rows) {
        if (r.status == "pending") continue;
        Acc& a = acc[r.provider.empty() ? r.model : r.provider + "/" + r.model]
                    [bucket_of(r.context_tokens)];
        ++a.requests;
        if (r.status == "timeout") ++a.timeouts;
        if (r.status == "error") ++a.errors;
        if (r.latency_ms) a.latencies.push_back(*r.latency_ms);
    }
    std::vector<ModelRisk> out;
    for (auto& [model, buckets] : acc) {
        ModelRisk m;
        m.model = model;
        for (auto& [i, a] : buckets) {
            BucketFigures f;
            f.requests = a.requests;
            std::sort(a.latencies.begin(), a.latencies.end());
            if (!a.latencies.empty()) {
                double sum = 0;
                for (double l : a.latencies)
                    sum += l;
                f.avg_latency_ms = sum / static_cast<double>(a.latencies.size());
                f.p95_latency_ms = nearest_rank(a.latencies, 0.95);
            }
            f.timeout_rate = double(a.timeouts) / double(a.requests);
            f.error_rate = double(a.errors) / double(a.requests);
            m.requests += a.requests;
            if (a.requests >= 5) {
                if (!m.slow_from && f.p95_latency_ms >= 20000) m.slow_from = i;
                if (!m.timeout_from && f.timeout_rate >= 0.05) m.timeout_from = i;
                if (!m.error_from && f.error_rate >= 0.08) m.error_from = i;
            }
            m.buckets[i] = f;
        }
        out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const ModelRisk& a, const ModelRisk& b) {
        auto key = [](const ModelRisk& m) {
            return std::make_tuple(!m.timeout_from.has_value(), !m.error_from.has_value(),
                                   !m.slow_from.has_value(), -m.requests);
        };
        if (key(a) != key(b)) return key(a) < key(b);
        return a.model < b.model;
    });
    return out;
}

std::pair<int, int> opencode_limits(const ModelRisk& r) {
    if (r.timeout_from && *r.timeout_from == 3) return {32768, 4096};  // 32k-64k
    if (r.timeout_from && *r.timeout_from >= 4) return {65536, 4096};  // 64k and more
    if (r.error_from && (*r.error_from == 3 || *r.error_from == 4)) return {32768, 6144};
    if (r.slow_from) return {65536, 6144};
    return {131072, 8192};
}

std::string rule_based_report(const json& summary, const std::vector<ModelRisk>& risks,
                              const std::string& locale, const std::string& date) {
    bool z = zh(locale);
    std::ostringstream md;
    int64_t errors = summary.value("total_errors", int64_t{0}),
            timeouts = summary.value("total_timeouts", int64_t{0}),
            total = summary.value("total_logs", int64_t{0});
    md << (z ? "# 每日错误分析报告（规则生成）\n\n"
             : "# Daily Error Analysis Report (rule-based)\n\n");
    md << (z ? "日期：" : "Date: ") << date << "\n\n";
    md << (z ? "## 摘要\n\n" : "## Executive Summary\n\n");
    if (z)
        md << "共 " << total << " 次调用，其中错误 " << errors << " 次、超时 " << timeouts
           << " 次。本报告由规则生成：没有可用的分析模型。\n\n";
    else
        md << total << " calls, " << errors << " errors and " << timeouts
           << " timeouts. This report was written by rules: no analysis model was available.\n\n";

    md << (z ? "## 主要发现\n\n" : "## Key Findings\n\n");
    int findings = 0;
    if (timeouts > 0) {
        ++findings;
        md << "- "
           << (z ? "超时 " + std::to_string(timeouts) + " 次，平均上下文 " +
                       fixed(summary.value("avg_timeout_context_tokens", 0.0), 0) + " tokens。"
                 : std::to_string(timeouts) + " calls timed out, with " +
                       fixed(summary.value("avg_timeout_context_tokens", 0.0), 0) +
                       " context tokens on average.")
           << "\n";
    }
    const json& codes = summary.value("top_status_codes", json::array());
    if (!codes.empty()) {
        std::string code = codes[0][0].get<std::string>();
        int64_t n = codes[0][1].get<int64_t>();
        if (code == "429") {
            ++findings;
            md << "- "
               << (z ? "最常见的上游状态码是 429（限流，" + std::to_string(n) +
                           " 次）：降低并发或增加上游密钥。"
                     : "The most frequent upstream status is 429 (rate limited, " +
                           std::to_string(n) +
                           " times): lower the concurrency or add upstream keys.")
               << "\n";
        } else if (code.size() == 3 && code[0] == '5') {
            ++findings;
            md << "- "
               << (z ? "最常见的上游状态码是 " + code + "（" + std::to_string(n) +
                           " 次）：上游服务不稳定。"
                     : "The most frequent upstream status is " + code + " (" + std::to_string(n) +
                           " times): the upstream is unstable.")
               << "\n";
        }
    }
    if (summary.value("max_context_tokens", int64_t{0}) >= 80000) {
        ++findings;
        md << "- "
           << (z ? "失败调用的最大上下文达到 " +
                       std::to_string(summary.value("max_context_tokens", int64_t{0})) +
                       " tokens：长上下文是风险。"
                 : "Failed calls reached " +
                       std::to_string(summary.value("max_context_tokens", int64_t{0})) +
                       " context tokens: long contexts are a risk.")
           << "\n";
    }
    const json& providers = summary.value("top_providers", json::array());
    if (!providers.empty()) {
        ++findings;
        md << "- "
           << (z ? "失败最多的提供商：" + providers[0][0].get<std::string>() + "（" +
                       std::to_string(providers[0][1].get<int64_t>()) + " 次）。"
                 : "The provider with the most failures: " + providers[0][0].get<std::string>() +
                       " (" + std::to_string(providers[0][1].get<int64_t>()) + ").")
           << "\n";
    }
    if (findings == 0) md << (z ? "- 今天没有失败的调用。\n" : "- No call failed today.\n");

    md << (z ? "\n## 模型上下文风险\n\n" : "\n## Model Context Risk Analysis\n\n");
    md << (z ? "| 模型 | 调用 | 超时阈值 | 错误阈值 | 慢速阈值 |\n|---|---|---|---|---|\n"
             : "| Model | Calls | Timeout from | Errors from | Slow from "
               "|\n|---|---|---|---|---|\n");
    auto cell = [](const std::optional<int>& t) { return t ? bucket_label(*t) : "-"; };
    for (const auto& r : risks) {
        md << "| " << r.model << " | " << r.requests << " | " << cell(r.timeout_from) << " | "
           << cell(r.error_from) << " | " << cell(r.slow_from) << " |\n";
    }
    md << (z ? "\n## OpenCode 配置建议\n\n" : "\n## OpenCode Configuration Suggestions\n\n");
    for (const auto& r : risks) {
        auto [context, output] = opencode_limits(r);
        md << "- `" << r.model << "`: `limit.context` " << context << ", `limit.output` " << output
           << "\n";
    }
    if (risks.empty()) md << (z ? "- 没有数据。\n" : "- No data.\n");
    md << (z ? "\n## 建议操作\n\n- 为超时阈值以上的上下文选择更短的历史或更大的模型。\n"
             : "\n## Recommended Actions\n\n- Keep contexts below each model's timeout "
               "threshold, or send such requests to a model with a larger window.\n");
    return md.str();
}

std::string rule_based_reason(const ModelFigures& f, const std::string& locale) {
    bool z = zh(locale);
    double error_rate = f.requests > 0 ? double(f.errors) / double(f.requests) : 0;
    std::string n = std::to_string(f.requests);
    std::string ms = f.avg_latency_ms ? fixed(*f.avg_latency_ms, 0) : "";
    bool fast = f.avg_latency_ms && *f.avg_latency_ms <= 2500;
    if (f.errors == 0 && fast && f.requests >= 10)
        return z ? n + " 次调用零错误，平均响应 " + ms + " 毫秒"
                 : "No errors in " + n + " calls, " + ms + " ms on average";
    if (error_rate <= 0.02 && f.requests >= 10)
        return z ? "可靠：" + n + " 次调用错误率 " + fixed(error_rate * 100, 1) + "%"
                 : "Reliable: " + fixed(error_rate * 100, 1) + "% errors in " + n + " calls";
    if (fast) return z ? "响应快：平均 " + ms + " 毫秒" : "Fast: " + ms + " ms on average";
    if (f.requests >= 15) return z ? "使用较多：" + n + " 次调用" : "Well used: " + n + " calls";
    return "";
}

std::optional<std::string> rule_based_timing(const std::vector<HourFigures>& hours,
                                             const std::string& locale) {
    int64_t total = 0;
    for (const auto& h : hours)
        total += h.requests;
    if (total < 10) return std::nullopt;
    // Each part from 0 (bad) to 1 (good) between its bounds.
    auto higher = [](double x, double lo, double hi) {
        return std::clamp((x - lo) / (hi - lo), 0.0, 1.0);
    };
    auto lower = [&](double x, double lo, double hi) { return 1 - higher(x, lo, hi); };
    std::vector<std::pair<double, int>> scored;
    for (const auto& h : hours) {
        if (h.requests == 0) continue;
        double er = double(h.errors) / double(h.requests);
        double latency = h.avg_latency_ms ? lower(*h.avg_latency_ms, 1800, 12000) : 0.7;
        scored.push_back({0.35 * higher(double(h.requests), 6, 60) + 0.40 * lower(er, 0.01, 0.18) +
                              0.25 * latency,
                          h.hour});
    }
    std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::vector<int> best;
    for (std::size_t i = 0; i < scored.size() && i < 3; ++i)
        best.push_back(scored[i].second);
    std::sort(best.begin(), best.end());
    std::vector<std::pair<int, int>> ranges;  // [start, end)
    for (int h : best) {
        if (!ranges.empty() && ranges.back().second == h)
            ranges.back().second = h + 1;
        else
            ranges.push_back({h, h + 1});
    }
    if (ranges.size() > 2) ranges.resize(2);
    std::string text;
    for (const auto& [from, to] : ranges) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%02d:00-%02d:00", from, to);
        text += (text.empty() ? "" : (zh(locale) ? "、" : ", ")) + std::string(buf);
    }
    return zh(locale) ? "建议在 " + text + " 调用：这些时段错误少、响应快。"
                      : "The best hours to call: " + text + " (fewest errors, fastest answers).";
}

std::string strip_code_fences(const std::string& text) {
    std::string out;
    for (const auto& line : lines_of(text)) {
        if (trim(line).rfind("```", 0) == 0) continue;
        out += line + "\n";
    }
    return trim(out);
}

std::string answer_text(const json& completion) {
    if (!completion.is_object() || !completion.contains("choices") ||
        !completion["choices"].is_array() || completion["choices"].empty())
        return "";
    const json& message = completion["choices"][0].value("message", json::object());
    std::string content = message.contains("content") && message["content"].is_string()
                              ? message["content"].get<std::string>()
                              : "";
    static const std::regex kThought(R"(^\s*\d+\.\s+\*\*)");
    auto lines = lines_of(content);
    bool thinking = false;
    for (std::size_t i = 0; i < lines.size() && i < 5; ++i)
        thinking = thinking || std::regex_search(lines[i], kThought);
    if (thinking) {
        std::string kept;
        bool in_item = false;
        for (const auto& line : lines) {
            if (std::regex_search(line, kThought)) {
                in_item = true;
                continue;
            }
            std::string t = trim(line);
            bool sub_bullet = !line.empty() && (line[0] == ' ' || line[0] == '\t') &&
                              (t.rfind("- ", 0) == 0 || t.rfind("* ", 0) == 0);
            if (in_item && (sub_bullet || t.empty())) continue;
            in_item = false;
            kept += line + "\n";
        }
        content = kept;
    }
    content = strip_code_fences(content);
    if (content.empty() && message.contains("reasoning_content") &&
        message["reasoning_content"].is_string())
        content = strip_code_fences(message["reasoning_content"].get<std::string>());
    return content;
}

std::map<std::string, std::string> parse_reasons(const std::string& text,
                                                 const std::vector<std::string>& candidates) {
    static const std::regex kLead(R"(^\s*(?:[-*]+|•|\d+[.)])\s*)");
    std::map<std::string, std::string> out;
    for (const auto& raw : lines_of(text)) {
        std::string line =
            std::regex_replace(raw, kLead, "", std::regex_constants::format_first_only);
        std::size_t at = line.find("=>");
        std::size_t skip = 2;
        if (at == std::string::npos) {
            at = line.find(':');
            skip = 1;
        }
        if (at == std::string::npos) continue;
        std::string model = line.substr(0, at);
        model.erase(std::remove(model.begin(), model.end(), '`'), model.end());
        model.erase(std::remove(model.begin(), model.end(), '*'), model.end());
        model = trim(model);
        std::string reason = trim(line.substr(at + skip));
        if (reason.empty()) continue;
        if (std::find(candidates.begin(), candidates.end(), model) != candidates.end() &&
            !out.count(model))
            out[model] = reason;
    }
    return out;
}

}  // namespace modelgate::analysis

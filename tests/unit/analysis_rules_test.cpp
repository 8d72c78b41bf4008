// The deterministic rules of plugins/analysis (spec 8.5 and 9.1): the failure
// summary, context-risk buckets and thresholds, the rule-based report and
// OpenCode limits, recommendation scores and ranking, the rule-based reasons
// and timing advice, and reading a model's answer.
#include <gtest/gtest.h>

#include "rules.hpp"

namespace modelgate::analysis {
namespace {

CallRow call(const std::string& model, const std::string& status, int64_t context,
             std::optional<double> latency = 1000, std::optional<int> upstream = std::nullopt,
             const std::string& provider = "acme") {
    CallRow r;
    r.provider = provider;
    r.model = model;
    r.status = status;
    r.context_tokens = context;
    r.latency_ms = latency;
    r.upstream_code = upstream;
    return r;
}

TEST(AnalysisRules, BucketsAreKibiTokens) {
    EXPECT_EQ(bucket_of(0), 0);
    EXPECT_EQ(bucket_of(8191), 0);
    EXPECT_EQ(bucket_of(8192), 1);
    EXPECT_EQ(bucket_of(32 * 1024), 3);
    EXPECT_EQ(bucket_of(131071), 5);
    EXPECT_EQ(bucket_of(131072), 6);
    EXPECT_STREQ(bucket_label(3), "32k-64k");
}

TEST(AnalysisRules, TheFailureSummaryCountsFailuresOnly) {
    std::vector<CallRow> rows = {
        call("m1", "success", 100),
        call("m1", "error", 2000, 500, 429),
        call("m1", "error", 4000, 500, 429),
        call("m2", "timeout", 90000, std::nullopt, std::nullopt, "beta"),
        call("m2", "error", 6000, 500, 500, "beta"),
    };
    json s = failure_summary(rows);
    EXPECT_EQ(s["total_logs"], 5);
    EXPECT_EQ(s["total_errors"], 3);
    EXPECT_EQ(s["total_timeouts"], 1);
    EXPECT_EQ(s["top_status_codes"], json::parse(R"([["429",2],["500",1]])"));
    EXPECT_EQ(s["top_providers"], json::parse(R"([["acme",2],["beta",2]])"));
    EXPECT_EQ(s["avg_context_tokens"], 25500.0);  // (2000 + 4000 + 90000 + 6000) / 4
    EXPECT_EQ(s["max_context_tokens"], 90000);
    EXPECT_EQ(s["avg_timeout_context_tokens"], 90000.0);
}

TEST(AnalysisRules, ThresholdsNeedFiveCallsInABucket) {
    std::vector<CallRow> rows;
    // 0-8k: four calls, all timeouts: too few to name a threshold.
    for (int i = 0; i < 4; ++i)
        rows.push_back(call("long", "timeout", 1000, std::nullopt));
    // 32k-64k: 10 calls, one timeout (10 %), one error (10 %), slow p95.
    for (int i = 0; i < 8; ++i)
        rows.push_back(call("long", "success", 40000, 1000.0 * (i + 1)));
    rows.push_back(call("long", "timeout", 40000, 30000));
    rows.push_back(call("long", "error", 40000, 25000));
    // A calm model with more calls.
    for (int i = 0; i < 20; ++i)
        rows.push_back(call("calm", "success", 500, 800));
    rows.push_back(call("calm", "pending", 500, std::nullopt));  // never counted

    auto risks = context_risk(rows);
    ASSERT_EQ(risks.size(), 2u);
    EXPECT_EQ(risks[0].model, "acme/long");  // a timeout threshold sorts first
    EXPECT_EQ(risks[0].requests, 14);
    EXPECT_EQ(risks[0].timeout_from, 3);
    EXPECT_EQ(risks[0].error_from, 3);
    EXPECT_EQ(risks[0].slow_from, 3);
    const auto& b = risks[0].buckets.at(3);
    EXPECT_EQ(b.requests, 10);
    EXPECT_DOUBLE_EQ(b.p95_latency_ms, 30000);  // nearest rank: the 10th of 10
    EXPECT_DOUBLE_EQ(b.timeout_rate, 0.1);
    EXPECT_EQ(risks[1].model, "acme/calm");
    EXPECT_EQ(risks[1].requests, 20);
    EXPECT_FALSE(risks[1].timeout_from || risks[1].error_from || risks[1].slow_from);
    EXPECT_EQ(risks[0].to_json()["timeout_threshold"], "32k-64k");

    EXPECT_EQ(opencode_limits(risks[0]), std::make_pair(32768, 4096));
    EXPECT_EQ(opencode_limits(risks[1]), std::make_pair(131072, 8192));
    ModelRisk far;
    far.timeout_from = 5;
    EXPECT_EQ(opencode_limits(far), std::make_pair(65536, 4096));
    ModelRisk erring;
    erring.error_from = 4;
    EXPECT_EQ(opencode_limits(erring), std::make_pair(32768, 6144));
    ModelRisk slow;
    slow.slow_from = 1;
    EXPECT_EQ(opencode_limits(slow), std::make_pair(65536, 6144));
}

TEST(AnalysisRules, TheRuleBasedReportInEnglishAndChinese) {
    std::vector<CallRow> rows;
    for (int i = 0; i < 6; ++i)
        rows.push_back(call("m", i < 3 ? "timeout" : "error", 85000, 1000, 429));
    json summary = failure_summary(rows);
    auto risks = context_risk(rows);
    std::string en = rule_based_report(summary, risks, "en", "2026-12-03");
    EXPECT_NE(en.find("# Daily Error Analysis Report"), std::string::npos);
    EXPECT_NE(en.find("3 calls timed out"), std::string::npos);
    EXPECT_NE(en.find("429"), std::string::npos);
    EXPECT_NE(en.find("85000 context tokens"), std::string::npos);
    EXPECT_NE(en.find("`acme/m`: `limit.context` 65536, `limit.output` 4096"), std::string::npos)
        << en;
    std::string zh = rule_based_report(summary, risks, "zh-CN", "2026-12-03");
    EXPECT_NE(zh.find("每日错误分析报告"), std::string::npos);
    EXPECT_NE(zh.find("OpenCode 配置建议"), std::string::npos);
    std::string empty = rule_based_report(failure_summary({}), {}, "en", "2026-12-03");
    EXPECT_NE(empty.find("No call failed today"), std::string::npos);
}

TEST(AnalysisRules, RuleBasedReasonsFollowTheThresholds) {
    auto reason = [](ModelFigures f, const char* locale = "en") {
        return rule_based_reason(f, locale);
    };
    EXPECT_EQ(reason({"p/m", 12, 0, 900.0}), "No errors in 12 calls, 900 ms on average");
    EXPECT_EQ(reason({"p/m", 100, 2, 9000.0}), "Reliable: 2.0% errors in 100 calls");
    EXPECT_EQ(reason({"p/m", 5, 1, 2000.0}), "Fast: 2000 ms on average");
    EXPECT_EQ(reason({"p/m", 20, 5, 9000.0}), "Well used: 20 calls");
    EXPECT_EQ(reason({"p/m", 3, 1, 9000.0}), "");
    EXPECT_EQ(reason({"p/m", 12, 0, 900.0}, "zh"), "12 次调用零错误，平均响应 900 毫秒");
}

TEST(AnalysisRules, TimingAdviceMergesTheBestHours) {
    EXPECT_FALSE(rule_based_timing({{9, 5, 0, 900.0}}, "en"));  // fewer than 10 calls
    std::vector<HourFigures> hours = {{9, 60, 0, 900.0},
                                      {10, 60, 0, 900.0},
                                      {15, 60, 0, 1000.0},
                                      {20, 60, 20, 15000.0},
                                      {3, 2, 1, 20000.0}};
    auto advice = rule_based_timing(hours, "en");
    ASSERT_TRUE(advice);
    EXPECT_NE(advice->find("09:00-11:00, 15:00-16:00"), std::string::npos) << *advice;
    auto zh = rule_based_timing(hours, "zh");
    EXPECT_NE(zh->find("09:00-11:00、15:00-16:00"), std::string::npos) << *zh;
}

TEST(AnalysisRules, AnswersLoseChainOfThoughtAndFences) {
    json thinking = {{"choices",
                      {{{"message",
                         {{"content",
                           "1. **Look at the data**\n   - rows\n2. **Decide**\n"
                           "acme/m => steady and fast\n"}}}}}}};
    EXPECT_EQ(answer_text(thinking), "acme/m => steady and fast");
    json fenced = {{"choices", {{{"message", {{"content", "```json\n{\"a\":1}\n```"}}}}}}};
    EXPECT_EQ(answer_text(fenced), "{\"a\":1}");
    json reasoning = {
        {"choices", {{{"message", {{"content", ""}, {"reasoning_content", "from reasoning"}}}}}}};
    EXPECT_EQ(answer_text(reasoning), "from reasoning");
    EXPECT_EQ(answer_text(json::object()), "");
}

TEST(AnalysisRules, ReasonsAreReadLineByLineForTheCandidatesOnly) {
    std::string text =
        "Here you go:\n"
        "1. `acme/m1` => fast and steady\n"
        "- acme/m2: few errors\n"
        "* other/x => not a candidate\n"
        "acme/m1 => a second line is ignored\n";
    auto r = parse_reasons(text, {"acme/m1", "acme/m2"});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r["acme/m1"], "fast and steady");
    EXPECT_EQ(r["acme/m2"], "few errors");
}

}  // namespace
}  // namespace modelgate::analysis

// plugins/analysis end to end on SQLite and PostgreSQL: the bundled plugin in a
// real gateway, today's failures written into request_logs, the report written
// by a fake upstream model that answers, fails, times out, answers malformed
// JSON or thinks aloud first; the empty day, the rule-based fallback, one
// report per day and language at a time, English and Chinese.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include "integration/fixture.hpp"
#include "util/time.hpp"

namespace modelgate::test {
namespace {

using nlohmann::json;

enum class Mode { answer, fail, malformed, thinking, slow };

class AnalysisTest : public GatewayTest {
  protected:
    void SetUp() override {
        ::setenv("MODELGATE_PLUGIN_CONFIG_ANALYSIS", R"({"chunk_timeout_ms": 3000})", 1);
        GatewayTest::SetUp();
        upstream->set_script([this](const FakeRequest& req, FakeExchange& ex) {
            json body = req.json();
            std::string system = body["messages"][0].value("content", "");
            bool chunk = system.find("strict JSON") != std::string::npos;
            if (chunk) chunk_calls.fetch_add(1);
            Mode m = mode.load();
            if (m == Mode::fail) {
                ex.respond_json(503,
                                {{"error", {{"message", "overloaded"}, {"type", "server_error"}}}});
                return;
            }
            if (m == Mode::slow) upstream->wait_release(std::chrono::seconds(10));
            std::string text;
            if (chunk) {
                json analysis = {{"chunk_summary", "timeouts on long contexts"},
                                 {"risk_points", {"acme/gpt-4o-mini over 64k"}},
                                 {"configuration_hints", {"limit.context 65536"}}};
                text = m == Mode::malformed ? "Sure! The chunk shows timeouts."
                       : m == Mode::thinking
                           ? "1. **Reading the chunk**\n   - ten rows\n2. **Answer**\n```json\n" +
                                 analysis.dump() + "\n```"
                           : analysis.dump();
            } else {
                text = "# Daily Error Analysis Report\n\n## Executive Summary\n\nAI wrote this.";
            }
            ex.respond_json(200, FakeUpstream::chat_completion(body.value("model", ""), text));
        });
    }
    void TearDown() override {
        upstream->release();
        GatewayTest::TearDown();
        ::unsetenv("MODELGATE_PLUGIN_CONFIG_ANALYSIS");
    }
    void tweak(core::Config& c) override { c.timezone = "UTC"; }

    void fail_calls(int n) {
        gw->app().database().with_session([&](soci::session& s) {
            for (int i = 0; i < n; ++i) {
                std::string rid = "failed-" + std::to_string(i) + "-" + std::to_string(rand());
                std::string at = core::iso8601_utc(core::unix_ms_now() - 1000);
                std::string status = i % 2 == 0 ? "timeout" : "error";
                long long context = 70000 + i;
                s << "INSERT INTO request_logs (request_id, api_key_name, provider_name, model, "
                     "status, upstream_status_code, prompt_tokens, latency_ms, error, created_at, "
                     "updated_at) VALUES (:r, 'alice', 'acme', 'gpt-4o-mini', :s, 502, :c, "
                     "30000, 'upstream failed', :a, :b)",
                    soci::use(rid), soci::use(status), soci::use(context), soci::use(at),
                    soci::use(at);
            }
        });
    }
    json analyze(const json& body = json::object()) {
        auto r = gw->admin("POST", "/admin/api/logs/errors/analyze", body);
        EXPECT_LT(r.status, 300) << r.body;
        return r.json();
    }
    // Today's report once it is no longer pending.
    json settled(const std::string& language = "en") {
        json latest;
        eventually(
            [&] {
                latest =
                    gw->admin("GET", "/admin/api/logs/errors/analyze?language=" + language).json();
                return latest.value("source", "") != "pending";
            },
            std::chrono::seconds(20));
        return latest;
    }

    std::atomic<Mode> mode{Mode::answer};
    std::atomic<int> chunk_calls{0};
};

TEST_P(AnalysisTest, AnEmptyDayGivesTheEmptyReportAtOnceInTheAdminsLanguage) {
    auto en = analyze();
    EXPECT_EQ(en["report"]["source"], "empty");
    EXPECT_NE(en["report"]["markdown"].get<std::string>().find("no call failed today"),
              std::string::npos);
    auto zh = analyze({{"language", "zh"}});
    EXPECT_NE(zh["report"]["markdown"].get<std::string>().find("今天没有失败的调用"),
              std::string::npos);
    EXPECT_EQ(chunk_calls.load(), 0);
    EXPECT_EQ(upstream->request_count(), 0u);
}

TEST_P(AnalysisTest, AModelWritesTheReportInChunksAndAMerge) {
    fail_calls(30);  // two chunks of 25 failures
    auto started = analyze({{"model", "acme/gpt-4o-mini"}});
    EXPECT_EQ(started["report"]["source"], "pending");
    EXPECT_EQ(started["summary"]["total_timeouts"], 15);
    auto report = settled();
    ASSERT_EQ(report["source"], "ai") << report.dump();
    EXPECT_EQ(report["status"], "success");
    EXPECT_NE(report["markdown"].get<std::string>().find("AI wrote this"), std::string::npos);
    EXPECT_NE(report["model_used"].get<std::string>().find("gpt-4o-mini"), std::string::npos);
    EXPECT_EQ(chunk_calls.load(), 2);
    // Every call went through the pipeline and is logged as the plugin's.
    EXPECT_TRUE(eventually([&] { return gw->logs("key_name=internal:analysis").size() == 3u; }))
        << gw->logs("key_name=internal:analysis").dump();

    auto list = gw->admin("GET", "/admin/api/logs/errors/reports").json();
    ASSERT_EQ(list["reports"].size(), 1u);
    auto one = gw->admin("GET", "/admin/api/logs/errors/reports/" +
                                    std::to_string(list["reports"][0]["id"].get<int64_t>()));
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(one.json()["markdown"], report["markdown"]);
    EXPECT_EQ(gw->admin("GET", "/admin/api/logs/errors/reports/999999").status, 404);
    EXPECT_EQ(gw->admin("GET", "/admin/api/logs/errors/reports/x").status, 404);
    EXPECT_EQ(http_request("GET", gw->url("/admin/api/logs/errors/reports")).status, 401);
}

TEST_P(AnalysisTest, ChainOfThoughtAndFencesAreStrippedFromTheChunks) {
    fail_calls(4);
    mode = Mode::thinking;
    analyze({{"model", "acme/gpt-4o-mini"}});
    auto report = settled();
    EXPECT_EQ(report["source"], "ai") << report.dump();
}

TEST_P(AnalysisTest, AMalformedOrFailingModelLeavesAFailedReportAndTheRuleBasedOne) {
    fail_calls(4);
    mode = Mode::malformed;
    analyze({{"model", "acme/gpt-4o-mini"}});
    auto malformed = settled();
    EXPECT_EQ(malformed["status"], "failed");
    EXPECT_NE(malformed["error"].get<std::string>().find("did not answer the JSON"),
              std::string::npos)
        << malformed.dump();

    mode = Mode::fail;
    analyze({{"model", "acme/gpt-4o-mini"}});
    auto failed = settled();
    EXPECT_EQ(failed["seq"], 2);
    EXPECT_EQ(failed["source"], "unavailable") << failed.dump();
    EXPECT_EQ(failed["status"], "failed");
    EXPECT_NE(failed["error"].get<std::string>().find("acme/gpt-4o-mini: HTTP 5"),
              std::string::npos)
        << failed.dump();
    EXPECT_TRUE(failed["markdown"].is_null()) << "never a half-written report";
    EXPECT_NE(failed["fallback_markdown"].get<std::string>().find("rule-based"), std::string::npos);
    EXPECT_NE(failed["fallback_markdown"].get<std::string>().find("`acme/gpt-4o-mini`"),
              std::string::npos);
}

TEST_P(AnalysisTest, OneReportPerDayAndLanguageRunsAndASlowModelTimesOut) {
    fail_calls(4);
    mode = Mode::slow;
    auto first = analyze({{"model", "acme/gpt-4o-mini"}});
    auto second = analyze({{"model", "acme/gpt-4o-mini"}});
    EXPECT_EQ(second["report"]["id"], first["report"]["id"]);
    auto report = settled();
    EXPECT_EQ(report["status"], "failed");
    EXPECT_NE(report["error"].get<std::string>().find("no answer within"), std::string::npos)
        << report.dump();
    upstream->release();
    // The slot of the cancelled call came back: a new report succeeds.
    mode = Mode::answer;
    analyze({{"model", "acme/gpt-4o-mini"}});
    EXPECT_EQ(settled()["source"], "ai");
}

TEST_P(AnalysisTest, ModelsAreListedAndBadInputIsRefused) {
    auto models = gw->admin("GET", "/admin/api/analysis/models").json();
    ASSERT_FALSE(models["models"].empty());
    EXPECT_EQ(models["default"], "acme/gpt-4o-mini");  // no preferred provider: the first bound
    EXPECT_EQ(gw->admin("POST", "/admin/api/logs/errors/analyze", {{"model", "no-slash"}}).status,
              400);
    EXPECT_EQ(gw->admin("POST", "/admin/api/logs/errors/analyze", {{"model", 7}}).status, 400);
    EXPECT_EQ(gw->admin("POST", "/admin/api/logs/errors/analyze", json::array()).status, 400);
    auto none = gw->admin("GET", "/admin/api/logs/errors/analyze").json();
    EXPECT_EQ(none["source"], "unavailable");
    EXPECT_NE(none["fallback_markdown"].get<std::string>().find("No call failed today"),
              std::string::npos);
}

TEST_P(AnalysisTest, AReportWhoseInstanceStoppedReadsAsFailed) {
    fail_calls(4);
    mode = Mode::slow;
    auto started = analyze({{"model", "acme/gpt-4o-mini"}});
    int64_t task = started["report"]["task_id"];
    // As if the instance writing it had died: its task is abandoned.
    gw->app().database().with_session([&](soci::session& s) {
        s << "UPDATE plugin_tasks SET status = 'abandoned', error = 'the gateway instance "
             "running it stopped' WHERE id = :id",
            soci::use(task);
    });
    auto report = gw->admin("GET", "/admin/api/logs/errors/analyze").json();
    EXPECT_EQ(report["status"], "failed") << report.dump();
    EXPECT_EQ(report["source"], "unavailable");
    EXPECT_NE(report["error"].get<std::string>().find("stopped"), std::string::npos);
    EXPECT_TRUE(report.contains("fallback_markdown"));
}

TEST_P(AnalysisTest, SwitchedOffOrAbsentTheRoutesAre404) {
    gw->stop();
    ::setenv("MODELGATE_PLUGIN_CONFIG_ANALYSIS", R"({"enabled": false})", 1);
    Gateway off(GetParam());
    EXPECT_EQ(off.admin("GET", "/admin/api/logs/errors/reports").status, 404);
    EXPECT_EQ(off.admin("GET", "/admin/api/logs/errors/today").status, 200);

    std::string dir = temp_dir("mg-no-analysis-");
    std::filesystem::copy_file(std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so",
                               dir + "/openai.so");
    Gateway without(GetParam(), [&](core::Config& c) { c.plugin_dir = dir; });
    EXPECT_EQ(without.admin("POST", "/admin/api/logs/errors/analyze").status, 404);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

MODELGATE_BACKENDS(AnalysisTest);

}  // namespace
}  // namespace modelgate::test

// Model recommendations end to end on SQLite and PostgreSQL: the gateway's
// deterministic scores per key (/admin/api/keys/{id}/recommendations) from
// today's request-log rows, and plugins/analysis writing the texts through a
// fake upstream model that answers, fails, times out, answers without usable
// lines or thinks aloud first; per key, period and language, on demand and in
// the daily batch, with the rule-based texts whenever no model wrote them.
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

enum class Mode { answer, fail, unusable, thinking, slow };

class RecommendationsTest : public GatewayTest {
  protected:
    void SetUp() override {
        ::setenv("MODELGATE_PLUGIN_CONFIG_ANALYSIS",
                 R"({"recommendation_timeout_ms": 1500, "timing_timeout_ms": 1500})", 1);
        GatewayTest::SetUp();
        glm_binding = gw->bind(provider, "glm-5");
        auto keys = gw->admin("GET", "/admin/api/keys").json()["api_keys"];
        alice_id = keys[0]["id"];
        auto bob = gw->create_key("bob", {glm_binding});
        bob_id = bob.first;
        bob_key = bob.second;
        upstream->set_script([this](const FakeRequest& req, FakeExchange& ex) {
            json body = req.json();
            std::string user = body["messages"][1].value("content", "");
            bool timing = user.find("hourly_stats") != std::string::npos;
            (timing ? timing_calls : reason_calls).fetch_add(1);
            bool zh = user.find("Chinese") != std::string::npos;
            Mode m = mode.load();
            if (m == Mode::fail) {
                ex.respond_json(503,
                                {{"error", {{"message", "overloaded"}, {"type", "server_error"}}}});
                return;
            }
            if (m == Mode::slow) upstream->wait_release(std::chrono::seconds(10));
            std::string text;
            if (timing) {
                text = zh ? "建议在上午调用。" : "Call in the morning, when errors are rare.";
            } else if (m == Mode::unusable) {
                text = "I would rather not rank these models.";
            } else {
                text = std::string(zh ? "- acme/gpt-4o-mini => 又快又稳\n"
                                      : "- acme/gpt-4o-mini => Fast and steady\n") +
                       "2. `acme/glm-5`: " + (zh ? "错误较多" : "Some errors") + "\n" +
                       "acme/not-a-candidate => invented";
                if (m == Mode::thinking)
                    text = "1. **Reading the figures**\n   - two models\n2. **Ranking**\n" + text;
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

    // `n` calls of a key today, `errors` of them failed.
    void calls(int64_t key_id, const std::string& key_name, const std::string& model, int n,
               int errors, double latency_ms) {
        int64_t day_start = core::local_day_start_ms(core::local_date(core::unix_ms_now()));
        std::string at = core::iso8601_utc(std::max(core::unix_ms_now() - 2000, day_start));
        gw->app().database().with_session([&](soci::session& s) {
            for (int i = 0; i < n; ++i) {
                std::string rid = "rec-" + std::to_string(key_id) + "-" + model + "-" +
                                  std::to_string(i) + "-" + std::to_string(rand());
                std::string status = i < errors ? "error" : "success";
                s << "INSERT INTO request_logs (request_id, api_key_id, api_key_name, "
                     "provider_name, model, status, total_tokens, latency_ms, created_at, "
                     "updated_at) VALUES (:r, :k, :kn, 'acme', :m, :s, 10, :l, :a, :b)",
                    soci::use(rid), soci::use(key_id), soci::use(key_name), soci::use(model),
                    soci::use(status), soci::use(latency_ms), soci::use(at), soci::use(at);
            }
        });
    }
    void usual_calls() {
        calls(alice_id, "alice", "gpt-4o-mini", 30, 0, 800);
        calls(alice_id, "alice", "glm-5", 10, 5, 4000);
        calls(bob_id, "bob", "gpt-4o-mini", 7, 0, 500);  // no longer allowed: not a candidate
        calls(bob_id, "bob", "glm-5", 12, 0, 1200);
    }
    json portal(const std::string& k, const std::string& query = "period=day", int want = 200) {
        auto r = http_request("GET", gw->url("/user/api/analysis/recommendations?" + query), "",
                              auth(k));
        EXPECT_EQ(r.status, want) << r.body;
        return r.status == 200 ? r.json() : json();
    }
    json admin_view(int64_t key_id, const std::string& query = "period=day") {
        auto r = gw->admin("GET", "/admin/api/analysis/recommendations?key_id=" +
                                      std::to_string(key_id) + "&" + query);
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json();
    }
    // The portal's answer once its texts are no longer pending.
    json settled(const std::string& k, const std::string& query = "period=day") {
        json doc;
        eventually(
            [&] {
                doc = portal(k, query);
                return doc.value("analysis_source", "") != "pending";
            },
            std::chrono::seconds(20));
        return doc;
    }

    void refresh() {
        auto r = gw->admin("POST", "/admin/api/analysis/recommendations/refresh",
                           {{"key_id", alice_id}, {"period", "day"}});
        ASSERT_EQ(r.status, 202) << r.body;
    }
    // Asks for alice's texts again and waits until they failed with `needle`.
    void refresh_until_error(const std::string& needle, std::chrono::seconds timeout) {
        refresh();
        json record;
        EXPECT_TRUE(eventually(
            [&] {
                record = admin_view(alice_id)["analysis_record"];
                return record["error"].get<std::string>().find(needle) != std::string::npos;
            },
            timeout))
            << needle << ": " << record.dump();
    }

    int64_t glm_binding = 0, alice_id = 0, bob_id = 0;
    std::string bob_key;
    std::atomic<Mode> mode{Mode::answer};
    std::atomic<int> reason_calls{0}, timing_calls{0};
};

TEST_P(RecommendationsTest, TheGatewayScoresTheModelsAKeyMayUseFromItsOwnCalls) {
    usual_calls();
    auto r = gw->admin(
        "GET", "/admin/api/keys/" + std::to_string(alice_id) + "/recommendations?period=day");
    ASSERT_EQ(r.status, 200) << r.body;
    json doc = r.json();
    EXPECT_EQ(doc["name"], "alice");
    EXPECT_EQ(doc["period"], "day");
    ASSERT_EQ(doc["items"].size(), 2u) << doc.dump();
    const json& best = doc["items"][0];
    EXPECT_EQ(best["model"], "acme/gpt-4o-mini");
    EXPECT_EQ(best["rank"], 1);
    EXPECT_EQ(best["requests"], 30);
    EXPECT_EQ(best["errors"], 0);
    EXPECT_DOUBLE_EQ(best["avg_latency_ms"].get<double>(), 800);
    EXPECT_DOUBLE_EQ(best["score"].get<double>(), 0.9273);  // 0.55 + 0.30 / 1.32 + 0.15
    const json& second = doc["items"][1];
    EXPECT_EQ(second["model"], "acme/glm-5");
    EXPECT_DOUBLE_EQ(second["error_rate"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(second["score"].get<double>(), 0.3279);  // 0.55 x 0.25 + 0.30 / 2.6 + 0.075
    ASSERT_EQ(doc["hourly_stats"].size(), 1u);
    EXPECT_EQ(doc["hourly_stats"][0]["requests"], 40);
    EXPECT_EQ(doc["hourly_stats"][0]["errors"], 5);

    // Bob may use glm-5 only: his gpt-4o-mini calls are no candidate, and
    // alice's calls are not his.
    auto bob = gw->admin("GET", "/admin/api/keys/" + std::to_string(bob_id) +
                                    "/recommendations?period=week&top=1")
                   .json();
    ASSERT_EQ(bob["items"].size(), 1u);
    EXPECT_EQ(bob["items"][0]["model"], "acme/glm-5");
    EXPECT_EQ(bob["items"][0]["requests"], 12);
    EXPECT_EQ(bob["hourly_stats"][0]["requests"], 19) << "hours count all of the key's calls";

    EXPECT_EQ(gw->admin("GET", "/admin/api/keys/999999/recommendations").status, 404);
    EXPECT_EQ(gw->admin("GET", "/admin/api/keys/1/recommendations?period=year").status, 400);
    EXPECT_EQ(gw->admin("GET", "/admin/api/keys/1/recommendations?top=0").status, 400);
    EXPECT_EQ(http_request("GET", gw->url("/admin/api/keys/1/recommendations")).status, 401);
}

TEST_P(RecommendationsTest, AModelWritesEachKeysTextsOnDemandInItsLanguage) {
    usual_calls();
    json first = portal(key);
    EXPECT_EQ(first["analysis_source"], "pending");
    ASSERT_EQ(first["items"].size(), 2u);
    EXPECT_EQ(first["items"][0]["reason_source"], "rules");
    EXPECT_EQ(first["items"][0]["reason"], "No errors in 30 calls, 800 ms on average");
    EXPECT_EQ(first["timing_advice_source"], "rules");

    json doc = settled(key);
    ASSERT_EQ(doc["analysis_source"], "ai") << doc.dump();
    EXPECT_EQ(doc["analysis_model_used"], "acme/gpt-4o-mini") << "the best-ranked model writes";
    EXPECT_EQ(doc["items"][0]["reason"], "Fast and steady");
    EXPECT_EQ(doc["items"][0]["reason_source"], "ai");
    EXPECT_EQ(doc["items"][1]["reason"], "Some errors");
    EXPECT_EQ(doc["timing_advice"], "Call in the morning, when errors are rare.");
    EXPECT_EQ(doc["timing_advice_source"], "ai");
    EXPECT_FALSE(doc.contains("analysis_record")) << "errors and records are for admins";
    // Every call went through the pipeline as the plugin's, not alice's.
    EXPECT_TRUE(eventually([&] { return gw->logs("key_name=internal:analysis").size() >= 2u; },
                           std::chrono::seconds(15)));

    // Fresh texts are served without another call.
    int calls_before = reason_calls.load();
    EXPECT_EQ(portal(key)["analysis_source"], "ai");
    EXPECT_EQ(reason_calls.load(), calls_before);

    // Never shared: bob and alice in Chinese get texts of their own.
    json bob = settled(bob_key);
    ASSERT_EQ(bob["analysis_source"], "ai");
    ASSERT_EQ(bob["items"].size(), 1u);
    EXPECT_EQ(bob["items"][0]["reason"], "Some errors");
    json zh = settled(key, "period=day&language=zh");
    EXPECT_EQ(zh["language"], "zh");
    EXPECT_EQ(zh["items"][0]["reason"], "又快又稳");
    EXPECT_EQ(zh["timing_advice"], "建议在上午调用。");
    auto admin = admin_view(alice_id);
    EXPECT_EQ(admin["analysis_source"], "ai");
    EXPECT_EQ(admin["analysis_record"]["status"], "ai");
}

TEST_P(RecommendationsTest, ChainOfThoughtIsDroppedFromTheReasons) {
    usual_calls();
    mode = Mode::thinking;
    json doc = settled(key);
    ASSERT_EQ(doc["analysis_source"], "ai") << doc.dump();
    EXPECT_EQ(doc["items"][0]["reason"], "Fast and steady");
}

TEST_P(RecommendationsTest, FailingUnusableOrSlowModelsLeaveTheRuleBasedTexts) {
    usual_calls();
    mode = Mode::fail;
    json failed = settled(key);
    EXPECT_EQ(failed["analysis_source"], "unavailable") << failed.dump();
    EXPECT_EQ(failed["items"][0]["reason_source"], "rules");
    EXPECT_EQ(failed["items"][0]["reason"], "No errors in 30 calls, 800 ms on average");
    EXPECT_TRUE(failed["analysis_model_used"].is_null());
    auto record = admin_view(alice_id)["analysis_record"];
    EXPECT_EQ(record["status"], "failed");
    // Both candidates were tried, in rank order.
    EXPECT_NE(record["error"].get<std::string>().find("acme/gpt-4o-mini: HTTP 5"),
              std::string::npos)
        << record.dump();
    EXPECT_NE(record["error"].get<std::string>().find("acme/glm-5: HTTP 5"), std::string::npos);
    // A recent failure is not retried on every visit.
    int calls_before = reason_calls.load();
    EXPECT_EQ(portal(key)["analysis_source"], "unavailable");
    EXPECT_EQ(reason_calls.load(), calls_before);

    // An admin asks again: the model answers without a usable line; then it
    // is too slow, each candidate's time runs out, and the slots come back.
    mode = Mode::unusable;
    refresh_until_error("no line named", std::chrono::seconds(10));
    mode = Mode::slow;
    refresh_until_error("no answer within", std::chrono::seconds(15));
    upstream->release();
    mode = Mode::answer;
    refresh();
    EXPECT_TRUE(eventually([&] { return portal(key)["analysis_source"] == "ai"; },
                           std::chrono::seconds(10)));
}

TEST_P(RecommendationsTest, TheDailyBatchWritesEveryActiveKeysTexts) {
    usual_calls();
    gw->create_key("idle");  // no calls: nothing to write
    auto run = gw->admin("POST", "/admin/api/scheduler/tasks/analysis:recommendations/trigger");
    ASSERT_LT(run.status, 300) << run.body;
    json task;
    ASSERT_TRUE(eventually(
        [&] {
            auto list =
                gw->admin("GET", "/admin/api/plugins/analysis/tasks?kind=recommendations-batch")
                    .json()["tasks"];
            if (list.empty()) return false;
            task = list[0];
            return task["status"] != "running";
        },
        std::chrono::seconds(30)));
    ASSERT_EQ(task["status"], "succeeded") << task.dump();
    // alice and bob, day and week, en and zh; the idle key's four are empty.
    EXPECT_EQ(task["result"]["counts"]["ai"], 8) << task.dump();
    EXPECT_EQ(task["result"]["counts"]["empty"], 4);
    int calls_before = reason_calls.load();
    for (const char* query : {"period=day", "period=week&language=zh"}) {
        json doc = portal(key, query);
        EXPECT_EQ(doc["analysis_source"], "ai") << query;
    }
    EXPECT_EQ(portal(bob_key, "period=week")["analysis_source"], "ai");
    EXPECT_EQ(reason_calls.load(), calls_before);
    // The month was not written by the batch: asked for, it is written now.
    EXPECT_EQ(portal(key, "period=month")["analysis_source"], "pending");
}

TEST_P(RecommendationsTest, BadInputIsRefusedAndNoCallsMeanNoTexts) {
    EXPECT_EQ(http_request("GET", gw->url("/user/api/analysis/recommendations")).status, 401);
    portal("sk-not-a-key", "period=day", 401);
    portal(key, "period=year", 400);
    EXPECT_EQ(gw->admin("GET", "/admin/api/analysis/recommendations").status, 400);
    EXPECT_EQ(gw->admin("GET", "/admin/api/analysis/recommendations?key_id=999999").status, 404);
    EXPECT_EQ(
        gw->admin("POST", "/admin/api/analysis/recommendations/refresh", json::array()).status,
        400);
    EXPECT_EQ(
        gw->admin("POST", "/admin/api/analysis/recommendations/refresh", {{"key_id", "1"}}).status,
        400);
    EXPECT_EQ(gw->admin("POST", "/admin/api/analysis/recommendations/refresh",
                        {{"key_id", alice_id}, {"period", 7}})
                  .status,
              400);
    json none = portal(key);
    EXPECT_TRUE(none["items"].empty());
    EXPECT_EQ(none["analysis_source"], "unavailable");
    EXPECT_TRUE(none["timing_advice"].is_null());
    EXPECT_EQ(upstream->request_count(), 0u);
}

TEST_P(RecommendationsTest, WithoutThePluginTheScoresStillAnswer) {
    usual_calls();
    std::string dir = temp_dir("mg-no-analysis-");
    std::filesystem::copy_file(std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so",
                               dir + "/openai.so");
    // A second instance of the deployment, without the plugin (the first one
    // must outlive it: it owns the database).
    Gateway without(*gw, [&](core::Config& c) {
        c.plugin_dir = dir;
        c.timezone = "UTC";
    });
    gw->stop();
    EXPECT_EQ(http_request("GET", without.url("/user/api/analysis/recommendations"), "", auth(key))
                  .status,
              404);
    auto scores =
        without.admin("GET", "/admin/api/keys/" + std::to_string(alice_id) + "/recommendations");
    ASSERT_EQ(scores.status, 200);
    EXPECT_EQ(scores.json()["items"].size(), 2u);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

MODELGATE_BACKENDS(RecommendationsTest);

}  // namespace
}  // namespace modelgate::test

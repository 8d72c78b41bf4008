// Statistics end to end on SQLite and PostgreSQL: request-log rows written
// straight into the database at chosen times, aggregated by the real jobs, read
// back through the admin routes; archival with a crash half-way; the bounds of
// every parameter; the live stream and the public figures.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "integration/fixture.hpp"
#include "support/raw_client.hpp"
#include "util/local_time.hpp"
#include "util/time.hpp"

namespace modelgate::test {
namespace {

struct Row {
    std::string status = "success";
    int64_t at_ms = 0;
    std::string provider = "acme", model = "gpt-4o-mini";
    std::optional<long long> key_id;
    std::string key_name;
    std::optional<long long> tokens = 10;
    std::optional<double> latency_ms = 300;
};

class StatsTest : public GatewayTest {
  protected:
    void tweak(core::Config& c) override { c.timezone = "UTC"; }

    void insert(const Row& r) {
        static int counter = 0;
        std::string rid = "req-test-" + std::to_string(++counter) + "-" + std::to_string(r.at_ms);
        std::string at = core::iso8601_utc(r.at_ms);
        std::optional<std::string> key_name =
            r.key_name.empty() ? std::nullopt : std::optional<std::string>(r.key_name);
        std::optional<long long> completion = 0;
        gw->app().database().with_session([&](soci::session& s) {
            s << "INSERT INTO request_logs (request_id, api_key_id, api_key_name, provider_name, "
                 "model, status, total_tokens, prompt_tokens, completion_tokens, latency_ms, "
                 "created_at, updated_at) VALUES (:rid, :kid, :kname, :p, :m, :st, :tt, :pt, :ct, "
                 ":lat, :cat, :uat)",
                soci::use(rid, "rid"), soci::use(r.key_id, "kid"), soci::use(key_name, "kname"),
                soci::use(r.provider, "p"), soci::use(r.model, "m"), soci::use(r.status, "st"),
                soci::use(r.tokens, "tt"), soci::use(r.tokens, "pt"), soci::use(completion, "ct"),
                soci::use(r.latency_ms, "lat"), soci::use(at, "cat"), soci::use(at, "uat");
        });
    }
    long long count(const std::string& sql) {
        long long n = 0;
        gw->app().database().with_session([&](soci::session& s) { s << sql, soci::into(n); });
        return n;
    }
    void exec(const std::string& sql) {
        gw->app().database().with_session([&](soci::session& s) { s << sql; });
    }
    static int64_t day_ms(int days_ago, int hour, int minute = 0) {
        core::CivilDate today = core::local_date(core::unix_ms_now());
        return core::local_day_start_ms(today.plus_days(-days_ago)) +
               (int64_t{hour} * 60 + minute) * 60000;
    }
    // `ms` ago, or the day's start if that is earlier: a row that must be today's.
    static int64_t earlier_today(int64_t ms) {
        return std::max(core::unix_ms_now() - ms, day_ms(0, 0));
    }
    nlohmann::json get(const std::string& path) {
        auto r = gw->admin("GET", path);
        EXPECT_EQ(r.status, 200) << path << ": " << r.body;
        return r.json();
    }
    void catch_up() {
        auto r = gw->app().aggregator().catch_up(core::unix_ms_now());
        ASSERT_TRUE(r) << r.error().message;
    }
};

TEST_P(StatsTest, YesterdayIsAggregatedFromTheRawRowsWithEveryRule) {
    insert({"success", day_ms(1, 9), "acme", "gpt-4o-mini", 1, "alice", 100, 1000});
    insert({"success", day_ms(1, 9, 30), "acme", "gpt-4o-mini", 1, "alice", 50, 3000});
    insert({"error", day_ms(1, 10), "acme", "gpt-4o-mini", 1, "alice", std::nullopt, 20});
    insert({"timeout", day_ms(1, 11), "beta", "m2", 2, "bob", std::nullopt, std::nullopt});
    insert({"rate_limited", day_ms(1, 12), "beta", "m2", 2, "bob", 999, std::nullopt});
    insert({"local_rate_limited", day_ms(1, 12), "beta", "m2", 2, "bob", 999, std::nullopt});
    insert({"success", day_ms(2, 23, 59), "acme", "gpt-4o-mini", 1, "alice", 7, 100});
    catch_up();

    auto month = get("/admin/api/stats/aggregate?dimension=provider&period=month");
    EXPECT_EQ(month["total_requests"], 5);  // rate-limited rows are not requests
    EXPECT_EQ(month["total_rate_limited"], 2);
    EXPECT_EQ(month["total_errors"], 1);
    EXPECT_EQ(month["total_timeouts"], 1);
    EXPECT_EQ(month["total_tokens"], 157);  // rate-limited rows bring no tokens
    EXPECT_EQ(month["data"]["acme"]["requests"], 4);
    EXPECT_EQ(month["data"]["beta"]["rate_limited"], 2);
    EXPECT_EQ(month["data"]["acme"]["avg_latency_ms"], 1366.7);  // (1000 + 3000 + 100) / 3

    auto keys = get("/admin/api/stats/aggregate?dimension=api_key&period=month");
    EXPECT_EQ(keys["data"]["alice"]["requests"], 4);
    EXPECT_EQ(keys["data"]["bob"]["timeouts"], 1);

    // Per day: the row at 23:59 two days ago stays on its own day.
    auto trend = get("/admin/api/stats/error-trend?days=3");
    ASSERT_EQ(trend["days"].size(), 3u);
    EXPECT_EQ(trend["days"][0]["requests"], 1);
    EXPECT_EQ(trend["days"][1]["requests"], 4);
    EXPECT_EQ(trend["days"][1]["rate_limited"], 2);

    // Only the aggregates answered: deleting the raw rows changes nothing.
    exec("DELETE FROM request_logs");
    auto again = get("/admin/api/stats/aggregate?dimension=provider&period=month");
    EXPECT_EQ(again["total_requests"], 5);
    EXPECT_EQ(again["data"], month["data"]);
}

TEST_P(StatsTest, ReaggregatingTwiceGivesTheSameRows) {
    for (int i = 0; i < 20; ++i)
        insert({i % 4 == 0 ? "error" : "success", day_ms(3, i % 24), "acme", "gpt-4o-mini",
                1 + i % 3, "k" + std::to_string(i % 3), i, 100.0 * i});
    std::string day = core::local_date(day_ms(3, 0)).text();
    nlohmann::json body = {{"start_date", day}, {"end_date", day}};
    auto first = gw->admin("POST", "/admin/api/stats/reaggregate", body);
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(first.json()["days"], 1);
    auto snapshot = [&] {
        std::vector<long long> v;
        for (const char* t : {"hourly_stats", "provider_daily_stats", "api_key_daily_stats",
                              "model_daily_stats", "api_key_model_daily_stats"}) {
            v.push_back(count(std::string("SELECT COUNT(*) FROM ") + t));
            v.push_back(count(std::string("SELECT COALESCE(SUM(requests), 0) FROM ") + t));
            v.push_back(count(std::string("SELECT COALESCE(SUM(errors), 0) FROM ") + t));
        }
        return v;
    };
    auto before = snapshot();
    EXPECT_EQ(before[1], 20);  // hourly requests
    EXPECT_EQ(before[2], 5);
    ASSERT_EQ(gw->admin("POST", "/admin/api/stats/reaggregate", body).status, 200);
    EXPECT_EQ(snapshot(), before);
}

TEST_P(StatsTest, WhatAnInstanceKeptOfPastDaysFollowsAnotherInstancesReaggregation) {
    using namespace std::chrono_literals;
    insert({"success", day_ms(2, 10), "acme", "gpt-4o-mini", 1, "alice", 10, 100});
    catch_up();
    Gateway other(*gw, [](core::Config& c) { c.timezone = "UTC"; });
    auto month = [](Gateway& g) {
        auto r = g.admin("GET", "/admin/api/stats/aggregate?dimension=provider&period=month");
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json()["total_requests"];
    };
    EXPECT_EQ(month(other), 1);  // read, and kept
    EXPECT_EQ(month(*gw), 1);

    // The day gains two calls and this instance sums it again: it sees them at
    // once, the other instance within a second or so.
    insert({"success", day_ms(2, 11), "acme", "gpt-4o-mini", 1, "alice", 10, 100});
    insert({"error", day_ms(2, 12), "acme", "gpt-4o-mini", 1, "alice", 10, 100});
    std::string day = core::local_date(day_ms(2, 0)).text();
    ASSERT_EQ(
        gw->admin("POST", "/admin/api/stats/reaggregate", {{"start_date", day}, {"end_date", day}})
            .status,
        200);
    EXPECT_EQ(month(*gw), 3);
    EXPECT_TRUE(eventually([&] { return month(other) == 3; }, 5s));
}

TEST_P(StatsTest, ADayWithPendingCallsIsAggregatedAgainOnceTheyEnd) {
    insert({"pending", day_ms(1, 23, 59), "acme", "gpt-4o-mini", 1, "alice", std::nullopt,
            std::nullopt});
    catch_up();
    EXPECT_EQ(count("SELECT pending_rows FROM stats_days"), 1);
    EXPECT_EQ(count("SELECT SUM(pending) FROM provider_daily_stats"), 1);
    // The stream ends after midnight: the row becomes a success.
    exec("UPDATE request_logs SET status = 'success', total_tokens = 42, latency_ms = 500");
    catch_up();
    EXPECT_EQ(count("SELECT pending_rows FROM stats_days"), 0);
    EXPECT_EQ(count("SELECT SUM(pending) FROM provider_daily_stats"), 0);
    EXPECT_EQ(count("SELECT SUM(successes) FROM provider_daily_stats"), 1);
    EXPECT_EQ(count("SELECT SUM(tokens) FROM provider_daily_stats"), 42);
}

TEST_P(StatsTest, TodayComesFromLiveRowsAndEveryPeriodHasItsBuckets) {
    insert({"success", earlier_today(1000), "acme", "gpt-4o-mini", 1, "alice", 5, 200});
    insert({"success", day_ms(5, 8), "acme", "gpt-4o-mini", 1, "alice", 6, 200});
    catch_up();
    for (auto [period, buckets] : {std::pair{"day", 24}, std::pair{"week", 42},
                                   std::pair{"month", 31}, std::pair{"year", 52}}) {
        auto t = get(std::string("/admin/api/stats/trend?period=") + period);
        ASSERT_EQ(t["intervals"].size(), static_cast<std::size_t>(buckets)) << period;
        long long sum = 0;
        for (const auto& p : t["points"])
            sum += p["requests"].get<long long>();
        EXPECT_EQ(sum, std::string(period) == "day" ? 1 : 2) << period;
    }
    auto overview = get("/admin/api/stats");
    EXPECT_EQ(overview["total_requests"], 2);
    EXPECT_EQ(overview["today"]["requests"], 1);
    auto filtered = get("/admin/api/stats/trend?period=week&dimension=model&name=other");
    long long none = 0;
    for (const auto& p : filtered["points"])
        none += p["requests"].get<long long>();
    EXPECT_EQ(none, 0);
    auto summary = get("/admin/api/stats/period?period=week");
    EXPECT_EQ(summary["total_requests"], 2);
    EXPECT_EQ(summary["providers"]["acme"]["models"]["gpt-4o-mini"]["requests"], 2);
    EXPECT_EQ(summary["api_keys"]["alice"]["requests"], 2);
}

TEST_P(StatsTest, MonitorDetailsFindHotspotsAndResponseTimes) {
    for (int i = 0; i < 10; ++i)
        insert({i < 6 ? "error" : "success", day_ms(1, 14), "flaky", "m-bad", 1, "alice", 1,
                1000.0 + i});
    for (int i = 0; i < 10; ++i)
        insert({"success", day_ms(1, 15), "acme", "gpt-4o-mini", 1, "alice", 1, 200.0 + i * 10});
    catch_up();
    auto m = get("/admin/api/stats/monitor-details?period=week");
    ASSERT_FALSE(m["error_hotspots"].empty());
    EXPECT_EQ(m["error_hotspots"][0]["error_rate"], 0.6);
    bool provider_listed = false;
    for (const auto& h : m["error_hotspots"]) {
        if (h["scope"] == "provider" && h["name"] == "flaky") {
            provider_listed = true;
            EXPECT_EQ(h["errors"], 6);
            EXPECT_EQ(h["requests"], 10);
        }
        EXPECT_NE(h["name"], "acme");  // no errors there
    }
    EXPECT_TRUE(provider_listed);
    bool found = false;
    for (const auto& model : m["latency"]) {
        if (model["model"] != "gpt-4o-mini") continue;
        found = true;
        const auto& h = model["hours"][15];
        EXPECT_EQ(h["count"], 10);
        EXPECT_EQ(h["min_ms"], 200.0);
        EXPECT_EQ(h["max_ms"], 290.0);
        EXPECT_GE(h["p95_ms"].get<double>(), 200.0);
        EXPECT_LE(h["p95_ms"].get<double>(), 290.0);
        EXPECT_TRUE(model["hours"][3]["avg_ms"].is_null());
    }
    EXPECT_TRUE(found);
}

TEST_P(StatsTest, ArchivalMovesOldRowsAndACrashHalfWayLosesNothing) {
    int64_t old_ms = core::unix_ms_now() - 40LL * 86400000;
    for (int i = 0; i < 60; ++i)
        insert({"success", old_ms + i * 1000, "acme", "gpt-4o-mini", 1, "alice", 1, 100});
    insert({"success", core::unix_ms_now() - 1000, "acme", "gpt-4o-mini", 1, "alice", 1, 100});
    catch_up();
    auto before = get("/admin/api/stats/aggregate?dimension=provider&period=year");
    int64_t cutoff = core::unix_ms_now() - 30LL * 86400000;
    auto& logs = gw->app().log_store();
    // The process "dies" inside the third batch, between the copy and the delete.
    auto crashed = logs.archive(cutoff, 10, [](int batch) {
        if (batch == 2) throw std::runtime_error("killed");
    });
    EXPECT_FALSE(crashed);
    EXPECT_EQ(count("SELECT COUNT(*) FROM request_logs_history"), 20);
    EXPECT_EQ(count("SELECT COUNT(*) FROM request_logs"), 41);
    EXPECT_EQ(count("SELECT COUNT(*) FROM request_logs_all"), 61);
    EXPECT_EQ(count("SELECT COUNT(DISTINCT id) FROM request_logs_all"), 61);
    // The next run finishes the job.
    auto done = logs.archive(cutoff, 10);
    ASSERT_TRUE(done) << done.error().message;
    EXPECT_EQ(done->moved, 40);
    EXPECT_EQ(count("SELECT COUNT(*) FROM request_logs_history"), 60);
    EXPECT_EQ(count("SELECT COUNT(*) FROM request_logs"), 1);
    EXPECT_EQ(count("SELECT COUNT(DISTINCT id) FROM request_logs_all"), 61);
    // Archived rows still count and are still found.
    auto after = get("/admin/api/stats/aggregate?dimension=provider&period=year");
    EXPECT_EQ(after["total_requests"], before["total_requests"]);
    auto found = get("/admin/api/logs/query?time_range=30d");
    EXPECT_EQ(found["total"], 1);
    auto all = get("/admin/api/logs/query");
    EXPECT_EQ(all["total"], 61);
    // The history retention deletes archived rows, never the live ones.
    auto purged = logs.purge_history(core::unix_ms_now() - 35LL * 86400000, 7);
    ASSERT_TRUE(purged);
    EXPECT_EQ(purged.value(), 60);
    EXPECT_EQ(count("SELECT COUNT(*) FROM request_logs"), 1);
}

TEST_P(StatsTest, SlowRequestsKeyViewsAndLogViews) {
    auto [key_id, secret] = gw->create_key("slowpoke");
    insert({"pending", core::unix_ms_now() - 120000, "acme", "gpt-4o-mini", key_id, "slowpoke",
            std::nullopt, std::nullopt});
    insert({"success", core::unix_ms_now() - 600000, "acme", "gpt-4o-mini", key_id, "slowpoke", 9,
            70000});
    insert({"error", earlier_today(5000), "acme", "gpt-4o-mini", key_id, "slowpoke", std::nullopt,
            10});
    // Just after midnight the first two rows are yesterday's: aggregated, they
    // count in the key's totals all the same.
    catch_up();
    auto slow = get("/admin/api/stats/slow");
    ASSERT_EQ(slow["pending"].size(), 1u);
    EXPECT_GE(slow["pending"][0]["elapsed_seconds"].get<int>(), 119);
    ASSERT_EQ(slow["completed"].size(), 1u);
    EXPECT_EQ(slow["completed"][0]["latency_ms"], 70000.0);

    auto stats = get("/admin/api/keys/" + std::to_string(key_id) + "/stats");
    EXPECT_EQ(stats["name"], "slowpoke");
    EXPECT_EQ(stats["total_requests"], 3);
    EXPECT_EQ(stats["total_errors"], 1);
    EXPECT_EQ(stats["models"]["gpt-4o-mini"]["tokens"], 9);
    auto key_logs = get("/admin/api/keys/" + std::to_string(key_id) + "/logs?limit=2");
    EXPECT_EQ(key_logs["logs"].size(), 2u);
    EXPECT_EQ(gw->admin("GET", "/admin/api/keys/999999/stats").status, 404);

    auto errors = get("/admin/api/logs/errors/today");
    ASSERT_EQ(errors["total"], 1);
    EXPECT_EQ(errors["logs"][0]["status"], "error");
    EXPECT_EQ(get("/admin/api/logs/all?limit=1")["logs"].size(), 1u);
    auto active = get("/admin/api/stats/active");
    EXPECT_EQ(active["active_requests"], 1);
    EXPECT_EQ(active["sessions"]["slowpoke"]["requests"], 1);
}

TEST_P(StatsTest, EveryRouteWantsASessionAndBadInputIsA400) {
    for (const char* path :
         {"/admin/api/stats", "/admin/api/stats/period", "/admin/api/stats/aggregate",
          "/admin/api/stats/trend", "/admin/api/stats/error-trend",
          "/admin/api/stats/monitor-details", "/admin/api/stats/realtime",
          "/admin/api/stats/active", "/admin/api/stats/slow", "/admin/api/stats/days",
          "/admin/api/stats/live", "/admin/api/logs/today", "/admin/api/logs/errors/today",
          "/admin/api/logs/all", "/admin/api/keys/1/stats", "/admin/api/keys/1/logs"}) {
        EXPECT_EQ(http_request("GET", gw->url(path)).status, 401) << path;
    }
    EXPECT_EQ(http_request("POST", gw->url("/admin/api/stats/reaggregate"), "{}",
                           {{"Content-Type", "application/json"}})
                  .status,
              401);
    for (const char* path :
         {"/admin/api/stats/period?period=decade", "/admin/api/stats/aggregate?dimension=color",
          "/admin/api/stats/trend?period=day&name=acme", "/admin/api/stats/error-trend?days=0",
          "/admin/api/stats/error-trend?days=100000", "/admin/api/logs/today?page_size=1000000",
          "/admin/api/logs/all?limit=1000000", "/admin/api/stats/slow?threshold_ms=x",
          "/admin/api/logs/query?page_size=1000000"}) {
        auto r = gw->admin("GET", path);
        EXPECT_EQ(r.status, 400) << path << ": " << r.body;
        EXPECT_TRUE(r.json()["error"]["message"].is_string()) << path;
    }
    auto reaggregate = [&](nlohmann::json body) {
        return gw->admin("POST", "/admin/api/stats/reaggregate", body).status;
    };
    EXPECT_EQ(reaggregate({{"start_date", "2026-05-02"}, {"end_date", "2026-05-01"}}), 400);
    EXPECT_EQ(reaggregate({{"start_date", "2016-01-01"}, {"end_date", "2026-01-01"}}), 400);
    EXPECT_EQ(reaggregate({{"start_date", "2026-02-30"}}), 400);
    EXPECT_EQ(reaggregate({{"end_date", "2999-01-01"}}), 400);
    EXPECT_EQ(reaggregate(nlohmann::json::object()), 200);  // today
}

TEST_P(StatsTest, ErrorsSpeakTheReadersLanguage) {
    std::string bad = gw->url("/admin/api/stats/period?period=decade");
    auto zh = http_request("GET", bad + "&lang=zh", "", {{"Cookie", gw->cookie()}});
    ASSERT_EQ(zh.status, 400);
    EXPECT_EQ(zh.json()["error"]["message"], "查询参数的值不正确。");
    EXPECT_NE(zh.json()["error"]["detail"].get<std::string>().find("period must be"),
              std::string::npos);
    EXPECT_EQ(zh.json()["error"]["code"], "invalid_query");
    auto accept = http_request("GET", bad, "",
                               {{"Cookie", gw->cookie()}, {"Accept-Language", "zh-CN,zh;q=0.9"}});
    EXPECT_EQ(accept.json()["error"]["message"], "查询参数的值不正确。");
    auto cookie_en = http_request(
        "GET", bad, "", {{"Cookie", gw->cookie() + "; lang=en"}, {"Accept-Language", "zh-CN"}});
    EXPECT_NE(cookie_en.json()["error"]["message"].get<std::string>().find("period must be"),
              std::string::npos);
    EXPECT_FALSE(cookie_en.json()["error"].contains("detail"));
}

TEST_P(StatsTest, PublicFiguresNeedNoSessionAndNameNoKeys) {
    insert({"success", earlier_today(1000), "acme", "gpt-4o-mini", 1, "secret-team", 12, 100});
    insert({"success", day_ms(2, 10), "acme", "gpt-4o-mini", 1, "secret-team", 30, 100});
    catch_up();
    auto r = http_request("GET", gw->url("/api/public/stats"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["total_requests"], 2);
    EXPECT_EQ(j["total_tokens"], 42);
    EXPECT_EQ(j["today_requests"], 1);
    EXPECT_EQ(j["today_tokens"], 12);
    EXPECT_EQ(r.body.find("secret-team"), std::string::npos);
    EXPECT_NE(r.header("cache-control").find("max-age"), std::string::npos);
}

TEST_P(StatsTest, TheLiveStreamPushesActivityToALoggedInAdmin) {
    insert({"pending", core::unix_ms_now() - 1000, "acme", "gpt-4o-mini", 1, "alice", std::nullopt,
            std::nullopt});
    RawClient c(gw->app().port());
    ASSERT_TRUE(c.send("GET /admin/api/stats/live HTTP/1.1\r\nHost: x\r\nCookie: " + gw->cookie() +
                       "\r\n\r\n"));
    std::string got;
    ASSERT_TRUE(eventually(
        [&] {
            got += c.read_some(std::chrono::milliseconds(200));
            return got.find("\"active_requests\":1") != std::string::npos;
        },
        std::chrono::seconds(10)))
        << got;
    EXPECT_NE(got.find("text/event-stream"), std::string::npos);
    EXPECT_NE(got.find("event: activity"), std::string::npos);
    // A second push arrives on its own.
    std::size_t first = got.find("event: activity");
    EXPECT_TRUE(eventually(
        [&] {
            got += c.read_some(std::chrono::milliseconds(200));
            return got.find("event: activity", first + 1) != std::string::npos;
        },
        std::chrono::seconds(10)));
}

MODELGATE_BACKENDS(StatsTest);

}  // namespace
}  // namespace modelgate::test

// Operations: health and metrics, the request log surviving a database outage,
// and graceful shutdown.
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <filesystem>
#include <thread>

#include "integration/fixture.hpp"
#include "store/database.hpp"

namespace modelgate::test {

using nlohmann::json;

// A direct connection to the gateway's database, as an operator would open one.
std::unique_ptr<soci::session> open_db(const std::string& url) {
    auto parsed = core::store::parse_database_url(url);
    if (parsed->dialect == core::store::Dialect::sqlite) {
        return std::make_unique<soci::session>(soci::sqlite3, parsed->connect_string);
    }
    return std::make_unique<soci::session>(soci::postgresql, parsed->connect_string);
}

long long count_rows(const std::string& url, const std::string& where = "1 = 1") {
    auto s = open_db(url);
    long long n = 0;
    *s << "SELECT COUNT(*) FROM request_logs WHERE " + where, soci::into(n);
    return n;
}

class OpsTest : public GatewayTest {
  protected:
    void tweak(core::Config& c) override { c.log_memory_limit = 3; }  // spill early
};

TEST_P(OpsTest, HealthzReportsDatabaseAndPlugins) {
    auto r = http_request("GET", gw->url("/healthz"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["status"], "ok");
    EXPECT_EQ(j["database"]["ok"], true);
    EXPECT_EQ(j["database"]["dialect"], GetParam());
    EXPECT_GE(j["plugins"]["loaded"].get<int>(), 1);
}

TEST_P(OpsTest, MetricsCountRequestsByProviderModelAndStatus) {
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    upstream->set_script(
        [](const FakeRequest&, FakeExchange& ex) { ex.respond(500, "x", "text/plain"); });
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 500);
    // The call is counted when it ends, just after its client got the answer.
    HttpResponse r;
    EXPECT_TRUE(eventually([&] {
        r = http_request("GET", gw->url("/metrics"));
        return r.body.find("status=\"error\"} 1\n") != std::string::npos &&
               r.body.find("modelgate_inflight_requests{provider=\"acme\"} 0") != std::string::npos;
    }));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type").rfind("text/plain", 0), 0u);
    const std::string& m = r.body;
    EXPECT_NE(m.find("modelgate_requests_total{provider=\"acme\",model=\"gpt-4o-mini\",status="
                     "\"success\"} 1\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("modelgate_requests_total{provider=\"acme\",model=\"gpt-4o-mini\",status="
                     "\"error\"} 1\n"),
              std::string::npos);
    EXPECT_NE(m.find("modelgate_upstream_latency_seconds_count{provider=\"acme\"} 2"),
              std::string::npos);
    EXPECT_NE(m.find("modelgate_queue_wait_seconds_bucket{provider=\"acme\",le=\"+Inf\"} 2"),
              std::string::npos);
    EXPECT_NE(m.find("modelgate_inflight_requests{provider=\"acme\"} 0"), std::string::npos);
    EXPECT_NE(m.find("modelgate_concurrency_limit{provider=\"acme\"} 8"), std::string::npos);
    EXPECT_NE(m.find("# TYPE modelgate_upstream_latency_seconds histogram"), std::string::npos);
}

TEST_P(OpsTest, RequestLogsSurviveADatabaseOutage) {
    const std::string url = gw->database_url();
    // Break the table the writer inserts into, make calls, then repair it.
    open_db(url)->operator<<("ALTER TABLE request_logs RENAME TO request_logs_away");
    std::vector<std::string> ids;
    for (int i = 0; i < 8; ++i) {
        auto r = gw->call("/v1/chat/completions", chat_body(i % 2 == 1), key);
        ASSERT_EQ(r.status, 200) << "the proxy must not depend on the log database";
        ASSERT_FALSE(r.header("x-request-id").empty()) << "every answer names its request";
        ids.push_back(r.header("x-request-id"));
    }
    ASSERT_EQ(ids.size(), 8u);
    // Give the writer time to fail and spill.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (gw->app().log_writer().stats().failed_batches == 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_GT(gw->app().log_writer().stats().failed_batches, 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_GT(gw->app().log_writer().stats().spilled, 0u)
        << "records beyond the memory limit go to the spill file";
    open_db(url)->operator<<("ALTER TABLE request_logs_away RENAME TO request_logs");

    ASSERT_TRUE(gw->app().log_writer().flush(std::chrono::seconds(15)));
    EXPECT_EQ(count_rows(url), 8) << "every call must be logged once";
    EXPECT_EQ(count_rows(url, "status = 'success'"), 8);
    for (const auto& id : ids)
        EXPECT_EQ(count_rows(url, "request_id = '" + id + "'"), 1) << id;
    EXPECT_EQ(std::filesystem::file_size(gw->app().config().spill_file()), 0u);
    EXPECT_TRUE(gw->app().log_writer().stats().database_ok);
}

TEST_P(OpsTest, GracefulShutdownFinishesInFlightStreamsAndFlushesTheLog) {
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        std::string model = req.json()["model"];
        ex.start_stream();
        for (const char* w : {"one", " two", " three"}) {
            ex.sse(FakeUpstream::chunk(model, w));
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
        ex.sse(FakeUpstream::chunk(model, "", "stop"));
        ex.done();
        ex.end_stream();
    });
    HttpResponse r;
    std::thread client([&] {
        r = http_stream(gw->url("/v1/chat/completions"), chat_body(true).dump(), auth(key),
                        [](const std::string&) { return true; });
    });
    for (int i = 0; i < 200 && upstream->in_flight() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const std::string url = gw->database_url();
    const std::string base = gw->url();
    std::thread stopper([&] { gw->app().stop(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // While draining, new calls are turned away.
    // (The listener stays open while draining, so the call must get an answer.)
    auto late =
        http_request("POST", base + "/v1/chat/completions", chat_body().dump(), auth(key), 2000);
    ASSERT_TRUE(late.error.empty()) << late.error;
    EXPECT_EQ(late.status, 503);
    EXPECT_EQ(late.json()["error"]["code"], "shutting_down");
    client.join();
    stopper.join();
    ASSERT_EQ(r.status, 200);
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), "[DONE]")
        << "the in-flight stream must finish during the grace period";
    EXPECT_EQ(count_rows(url, "status = 'success' AND is_stream = " +
                                  std::string(GetParam() == "sqlite" ? "1" : "TRUE")),
              1);
    EXPECT_EQ(count_rows(url, "status = 'pending'"), 0);
}

MODELGATE_BACKENDS(OpsTest);

}  // namespace modelgate::test

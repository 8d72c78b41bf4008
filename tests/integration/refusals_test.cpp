// Calls the gateway refuses are still calls: each answered one has a request-log
// row and a metric. And what a refused client learns is only what it should:
// no internal addresses, no models its key may not use, no Retry-After longer
// than a pause can last.
#include <soci/soci.h>

#include <set>

#include "integration/fixture.hpp"

namespace modelgate::test {
namespace {

using json = nlohmann::json;

class RefusalsTest : public GatewayTest {
  protected:
    json provider_settings() override { return {{"queue_timeout_ms", 300}}; }
    long long rows(const std::string& where) {
        long long n = -1;
        gw->app().database().with_session([&](soci::session& s) {
            s << "SELECT COUNT(*) FROM request_logs WHERE " + where, soci::into(n);
        });
        return n;
    }
    std::string metrics() { return http_request("GET", gw->url("/metrics")).body; }
};

TEST_P(RefusalsTest, CallsRefusedWhileTheKeysCoolDownAreLoggedAndCounted) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond_json(429, {{"error", {{"message", "slow down"}, {"type", "rate_limit"}}}},
                        {{"Retry-After", "60"}});
    });
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 429);
    std::set<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        auto r = gw->call("/v1/chat/completions", chat_body(i == 1), key);
        ASSERT_EQ(r.status, 429);
        EXPECT_EQ(r.json()["error"]["code"], "upstream_keys_cooling_down");
        ASSERT_FALSE(r.header("x-request-id").empty());
        ids.insert(r.header("x-request-id"));
    }
    EXPECT_EQ(upstream->request_count(), 1u);
    ASSERT_TRUE(eventually([&] { return rows("status = 'local_rate_limited'") == 3; }));
    for (const auto& id : ids) {
        auto row = gw->wait_log([&](const json& l) { return l["request_id"] == id; });
        ASSERT_FALSE(row.is_null()) << id;
        EXPECT_EQ(row["downstream_status_code"], 429);
        EXPECT_EQ(row["provider_name"], "acme");
        EXPECT_EQ(row["api_key_name"], "alice");
    }
    EXPECT_NE(metrics().find("modelgate_requests_total{provider=\"acme\",model=\"gpt-4o-mini\","
                             "status=\"local_rate_limited\"} 3\n"),
              std::string::npos)
        << metrics();
}

TEST_P(RefusalsTest, EveryRefusalOfAKnownKeyHasARowAndUnknownKeysOnlyAMetric) {
    json unknown_model = chat_body();
    unknown_model["model"] = "acme/nope";
    EXPECT_EQ(gw->call("/v1/chat/completions", unknown_model, key).status, 404);
    json no_messages = {{"model", "acme/gpt-4o-mini"}};
    EXPECT_EQ(gw->call("/v1/chat/completions", no_messages, key).status, 400);
    auto bad_json = http_request("POST", gw->url("/v1/chat/completions"), "{nope", auth(key));
    EXPECT_EQ(bad_json.status, 400);
    auto limited = gw->create_key("limited", {embed_binding}).second;
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), limited).status, 403);
    ASSERT_TRUE(eventually([&] { return rows("status = 'error'") == 4; })) << rows("1 = 1");
    EXPECT_EQ(rows("downstream_status_code = 404 AND requested_model = 'acme/nope'"), 1);
    EXPECT_EQ(rows("downstream_status_code = 403 AND api_key_name = 'limited'"), 1);

    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), "sk-wrong").status, 401);
    EXPECT_EQ(http_request("POST", gw->url("/v1/chat/completions"), "{}").status, 401);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(rows("1 = 1"), 4) << "an unknown key must not be able to write rows";
    EXPECT_NE(metrics().find("modelgate_requests_total{provider=\"\",model=\"\",status="
                             "\"unauthorized\"} 2\n"),
              std::string::npos)
        << metrics();
}

TEST_P(RefusalsTest, AnUnreachableUpstreamIsNotNamedToTheClient) {
    int64_t dead = gw->add_provider("dead", "http://127.0.0.1:9/v1");
    gw->bind(dead, "m");
    json body = chat_body();
    body["model"] = "dead/m";
    auto r = gw->call("/v1/chat/completions", body, key);
    EXPECT_EQ(r.status, 502);
    EXPECT_EQ(r.json()["error"]["code"], "upstream_unreachable");
    EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("port"), std::string::npos) << r.body;
    auto row = gw->wait_log([](const json& l) { return l["provider_name"] == "dead"; });
    ASSERT_FALSE(row.is_null());
    EXPECT_NE(row["error"].get<std::string>().find("127.0.0.1"), std::string::npos)
        << "the admin's log keeps the detail";
}

TEST_P(RefusalsTest, ABareModelNameListsOnlyWhatTheKeyMayUse) {
    int64_t other = gw->add_provider("other", upstream->base_url());
    int64_t other_chat = gw->bind(other, "gpt-4o-mini");
    json bare = chat_body();
    bare["model"] = "gpt-4o-mini";
    auto both = gw->call("/v1/chat/completions", bare, key);
    EXPECT_EQ(both.status, 400);
    EXPECT_EQ(both.json()["error"]["code"], "ambiguous_model");
    EXPECT_NE(both.body.find("other/gpt-4o-mini"), std::string::npos);
    // A key that may use one of them: the bare name is that one, and the other
    // provider is never mentioned.
    auto only_other = gw->create_key("only-other", {other_chat}).second;
    auto r = gw->call("/v1/chat/completions", bare, only_other);
    EXPECT_EQ(r.status, 200) << r.body;
    auto none = gw->create_key("embeddings-only", {embed_binding}).second;
    auto hidden = gw->call("/v1/chat/completions", bare, none);
    EXPECT_EQ(hidden.status, 404);
    EXPECT_EQ(hidden.body.find("acme/"), std::string::npos) << hidden.body;
    EXPECT_EQ(hidden.body.find("other/"), std::string::npos) << hidden.body;
}

TEST_P(RefusalsTest, AnUpstreamRetryAfterIsClampedToTheLongestPause) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond_json(429, {{"error", {{"message", "later"}, {"type", "rate_limit"}}}},
                        {{"Retry-After", "999999999"}});
    });
    auto r = gw->call("/v1/chat/completions", chat_body(), key);
    ASSERT_EQ(r.status, 429);
    long retry = std::stol(r.header("retry-after"));
    EXPECT_GT(retry, 0);
    EXPECT_LE(retry, 7 * 24 * 3600);
}

MODELGATE_BACKENDS(RefusalsTest);

}  // namespace
}  // namespace modelgate::test

// The feature SDK (ABI 1.2 and 1.3) end to end, on SQLite and PostgreSQL, through the
// kit plugin (tests/plugins/feature_kit.cpp) loaded by a real gateway:
// migrations applied once and upgraded, refused when misnamed or newer than the
// plugin; transactions all or nothing with typed rows; {name} routes; the base
// path; a daily job in the task list; LLM calls with a model list, a timeout and
// a key's attribution; sealed secrets; the data folder; no routes after init.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "integration/fixture.hpp"

namespace modelgate::test {
namespace {

using nlohmann::json;

class FeatureSdkTest : public GatewayTest {
  protected:
    void SetUp() override {
        plugin_dir_ = temp_dir("mg-kit-plugins-");
        std::filesystem::copy_file(std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so",
                                   plugin_dir_ + "/openai.so");
        std::filesystem::copy_file(MODELGATE_TEST_KIT_PLUGIN, plugin_dir_ + "/feature_kit.so");
        configure(R"({"migrations": 1})");
        GatewayTest::SetUp();
    }
    void TearDown() override {
        GatewayTest::TearDown();
        stopped_.clear();
        ::unsetenv("MODELGATE_PLUGIN_CONFIG_KIT");
        std::error_code ec;
        std::filesystem::remove_all(plugin_dir_, ec);
    }
    void tweak(core::Config& c) override {
        c.plugin_dir = plugin_dir_;
        c.base_path = "/gw";
    }
    static void configure(const char* config) {
        ::setenv("MODELGATE_PLUGIN_CONFIG_KIT", config, 1);
    }
    // The same database, the plugin configured anew. The gateway before stays
    // (stopped) until the end: the first one owns the test database.
    void restart(const char* config) {
        configure(config);
        auto next = std::make_unique<Gateway>(*gw, [this](core::Config& c) { tweak(c); });
        gw->stop();
        stopped_.push_back(std::move(gw));
        gw = std::move(next);
    }
    static json plugins(Gateway& g) { return g.admin("GET", "/admin/api/plugins").json(); }
    static bool loaded(Gateway& g) {
        json all = plugins(g);  // kept: a loop over a temporary's member dangles
        for (const auto& p : all["loaded"]) {
            if (p["id"] == "kit") return true;
        }
        return false;
    }
    static std::string refusal(Gateway& g) {
        json all = plugins(g);
        for (const auto& p : all["refused"]) {
            if (p["file"].get<std::string>().find("feature_kit") != std::string::npos)
                return p["reason"];
        }
        return "";
    }
    long long count(Gateway& g, const std::string& sql) {
        long long n = 0;
        g.app().database().with_session([&](soci::session& s) { s << sql, soci::into(n); });
        return n;
    }

    std::string plugin_dir_;
    std::vector<std::unique_ptr<Gateway>> stopped_;
};

TEST_P(FeatureSdkTest, MigrationsApplyOnceUpgradeAndRefuseWhatTheyMayNotDo) {
    ASSERT_TRUE(loaded(*gw)) << plugins(*gw).dump();
    EXPECT_EQ(count(*gw, "SELECT COUNT(*) FROM plugin_migrations WHERE plugin_id = 'kit'"), 1);
    ASSERT_EQ(
        gw->admin("POST", "/plugins/kit/notes", {{"notes", {{{"id", 1}, {"note", "a"}}}}}).status,
        201);

    // The same version again: nothing applied, the rows kept.
    restart(R"({"migrations": 1})");
    ASSERT_TRUE(loaded(*gw));
    EXPECT_EQ(count(*gw, "SELECT COUNT(*) FROM plugin_migrations WHERE plugin_id = 'kit'"), 1);
    EXPECT_EQ(count(*gw, "SELECT COUNT(*) FROM kit_notes"), 1);

    // A newer build of the plugin: only version 2 runs.
    restart(R"({"migrations": 2})");
    ASSERT_TRUE(loaded(*gw)) << refusal(*gw);
    EXPECT_EQ(count(*gw, "SELECT COUNT(*) FROM plugin_migrations WHERE plugin_id = 'kit'"), 2);
    EXPECT_EQ(count(*gw, "SELECT COUNT(*) FROM kit_notes WHERE tag IS NULL"), 1);

    // An older build meets the newer tables: refused with the reason.
    restart(R"({"migrations": 1})");
    EXPECT_FALSE(loaded(*gw));
    EXPECT_NE(refusal(*gw).find("holds version 2"), std::string::npos) << refusal(*gw);
    EXPECT_EQ(http_request("GET", gw->url("/gw/plugins/kit/where")).status, 404);

    // A migration that creates a table outside the plugin's prefix is refused
    // before anything runs, and the gateway serves on.
    restart(R"({"migrations": 2, "misnamed_migration": true})");
    EXPECT_FALSE(loaded(*gw));
    EXPECT_NE(refusal(*gw).find("touches 'notes'"), std::string::npos) << refusal(*gw);
    EXPECT_EQ(count(*gw, "SELECT COUNT(*) FROM plugin_migrations WHERE plugin_id = 'kit'"), 2);
    EXPECT_EQ(http_request("GET", gw->url("/healthz")).status, 200);
}

TEST_P(FeatureSdkTest, ATransactionIsAllOrNothingAndRowsAreTyped) {
    auto added = gw->admin("POST", "/plugins/kit/notes",
                           {{"notes",
                             {{{"id", 1}, {"note", "one"}, {"score", 1.5}},
                              {{"id", 2}, {"note", "two"}, {"score", 3}},
                              {{"id", 3}, {"note", "three"}}}}});
    ASSERT_EQ(added.status, 201) << added.body;
    EXPECT_EQ(added.json()["count"], 3);  // the count ran inside the same transaction

    // The third insert collides: the first two of this batch are rolled back.
    auto clash = gw->admin("POST", "/plugins/kit/notes",
                           {{"notes",
                             {{{"id", 10}, {"note", "x"}},
                              {{"id", 11}, {"note", "y"}},
                              {{"id", 1}, {"note", "again"}}}}});
    EXPECT_EQ(clash.status, 409);
    EXPECT_NE(clash.json()["error"]["message"].get<std::string>().find("statement 3"),
              std::string::npos)
        << clash.body;
    EXPECT_EQ(gw->admin("GET", "/plugins/kit/notes/count").json()["count"], 3);

    auto one = gw->admin("GET", "/plugins/kit/notes/1");
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(one.json(), json::parse(R"({"id":1,"note":"one","score":1.5})"));
    EXPECT_TRUE(gw->admin("GET", "/plugins/kit/notes/3").json()["score"].is_null());
    EXPECT_EQ(gw->admin("GET", "/plugins/kit/notes/2/text").body, "two");
    EXPECT_EQ(gw->admin("GET", "/plugins/kit/notes/99").status, 404);

    auto list = gw->admin("GET", "/plugins/kit/notes?min_score=2");
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.json()["notes"], json::parse(R"([{"id":2,"note":"two","score":3.0}])"));
    EXPECT_EQ(list.json()["columns"], json::parse(R"(["id","note","score"])"));
}

TEST_P(FeatureSdkTest, RoutesHaveParametersTheBasePathAndNoLateRegistrations) {
    // Routes answer with and without the base path; the plugin sees neither in
    // its path and learns the base path to write links.
    for (const char* path : {"/gw/plugins/kit/where", "/plugins/kit/where"}) {
        auto r = http_request("GET", gw->url(path));
        ASSERT_EQ(r.status, 200) << path << r.body;
        EXPECT_EQ(r.json()["base_path"], "/gw");
        EXPECT_EQ(r.json()["path"], "/plugins/kit/where");
    }
    // A path under a registered prefix that no pattern matches.
    auto none = gw->admin("GET", "/plugins/kit/notes/1/nothing/here");
    EXPECT_EQ(none.status, 404);
    EXPECT_EQ(none.json()["error"]["code"], "not_found");
    // Admin routes want the session before the plugin runs.
    EXPECT_EQ(http_request("GET", gw->url("/plugins/kit/notes/1")).status, 401);
    auto late = gw->admin("POST", "/plugins/kit/late");
    ASSERT_EQ(late.status, 200);
    EXPECT_NE(late.json()["refused"].get<std::string>().find("could not be registered"),
              std::string::npos);
    EXPECT_EQ(http_request("GET", gw->url("/plugins/kit/too-late")).status, 404);
}

TEST_P(FeatureSdkTest, ThePluginReadsTheAdminApiInProcess) {
    auto url_encode = [](const std::string& s) {
        std::string out;
        for (unsigned char c : s) {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += std::isalnum(c) || c == '/' || c == '-' ? std::string(1, char(c)) : buf;
        }
        return out;
    };
    auto read = [&](const std::string& target) {
        auto r = gw->admin("GET", "/plugins/kit/api?target=" + url_encode(target));
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json();
    };
    auto keys = read("/admin/api/keys");
    EXPECT_EQ(keys["status"], 200);
    ASSERT_EQ(keys["body"]["api_keys"].size(), 1u);
    EXPECT_EQ(keys["body"]["api_keys"][0]["name"], "alice");
    // Path parameters, the query, and a literal route over a pattern.
    auto one = read("/admin/api/providers/" + std::to_string(provider));
    EXPECT_EQ(one["status"], 200);
    EXPECT_EQ(one["body"]["name"], "acme");
    EXPECT_EQ(read("/admin/api/stats/period?period=week")["body"]["period"], "week");
    auto bad = read("/admin/api/stats/period?period=decade");
    EXPECT_EQ(bad["status"], 400);
    EXPECT_EQ(bad["body"]["error"]["code"], "invalid_query");
    // Unknown paths and keys, and paths that only other methods serve.
    EXPECT_EQ(read("/admin/api/keys/999999")["status"], 404);
    EXPECT_EQ(read("/admin/api/nothing/here")["status"], 404);
    EXPECT_EQ(read("/admin/api/auth/login")["status"], 404);
    EXPECT_EQ(read("admin/api/keys")["status"], 404);
    EXPECT_EQ(read("")["status"], 404);
}

TEST_P(FeatureSdkTest, ARouteAnswersWithServerSentEvents) {
    auto r = http_request("GET", gw->url("/gw/plugins/kit/events?n=3"));
    ASSERT_EQ(r.status, 200) << r.body;  // the handler's own 500 answer is ignored
    EXPECT_EQ(r.header("content-type"), "text/event-stream");
    EXPECT_EQ(r.header("cache-control"), "no-cache");
    EXPECT_EQ(r.body,
              "event: tick\nid: 1\ndata: tick 1\ndata: line two\n\n"
              "event: tick\nid: 2\ndata: tick 2\ndata: line two\n\n"
              "event: tick\nid: 3\ndata: tick 3\ndata: line two\n\n");
    // An empty stream is a valid answer too.
    auto none = http_request("GET", gw->url("/plugins/kit/events?n=0"));
    EXPECT_EQ(none.status, 200);
    EXPECT_EQ(none.body, "");
}

TEST_P(FeatureSdkTest, AStreamWrittenFromAPluginThreadEndsWhenTheClientLeaves) {
    auto r = http_request("GET", gw->url("/plugins/kit/events/endless"), "", {}, 400);
    EXPECT_NE(r.body.find("data: tick 1\n\n"), std::string::npos) << r.body << r.error;
    json end;
    ASSERT_TRUE(eventually(
        [&] {
            end = http_request("GET", gw->url("/plugins/kit/events/end")).json();
            return end.contains("gone");
        },
        std::chrono::seconds(10)));
    EXPECT_TRUE(end["gone"].get<bool>()) << end.dump();
    EXPECT_GT(end["sent"].get<int>(), 0);
    EXPECT_LT(end["sent"].get<int>(), 500) << "the writer learnt that the client left";
}

TEST_P(FeatureSdkTest, OutboundRequestsAnswerTimeOutAndStayBounded) {
    std::atomic<bool> slow{false};
    upstream->set_script([&](const FakeRequest& req, FakeExchange& ex) {
        if (slow) upstream->wait_release(std::chrono::seconds(10));
        ex.respond_json(req.path.find("missing") != std::string::npos ? 404 : 200,
                        {{"method", req.method},
                         {"path", req.path},
                         {"body", req.body},
                         {"agent", req.header("user-agent")},
                         {"token", req.header("x-token")},
                         {"padding", std::string(2000, 'x')}});
    });
    auto fetch = [&](const json& body) {
        auto r = gw->admin("POST", "/plugins/kit/fetch", body);
        EXPECT_TRUE(r.status == 200 || r.status == 400) << r.body;
        return r.json();
    };
    std::string base = upstream->base_url();
    auto get = fetch({{"url", base + "/things?x=1"}});
    ASSERT_EQ(get["status"], 200) << get.dump();
    EXPECT_EQ(get["content_type"], "application/json");
    json echoed = json::parse(get["body"].get<std::string>());
    EXPECT_EQ(echoed["method"], "GET");
    EXPECT_EQ(echoed["path"], "/v1/things?x=1");
    EXPECT_EQ(echoed["agent"].get<std::string>().rfind("modelgate/", 0), 0u)
        << "the gateway's outbound User-Agent by default";

    auto post = fetch({{"method", "POST"},
                       {"url", base + "/missing"},
                       {"body", "hello"},
                       {"headers", {{"X-Token", "t1"}, {"User-Agent", "kit/1"}}}});
    EXPECT_EQ(post["status"], 404) << "an HTTP error is an answer";
    json posted = json::parse(post["body"].get<std::string>());
    EXPECT_EQ(posted["body"], "hello");
    EXPECT_EQ(posted["token"], "t1");
    EXPECT_EQ(posted["agent"], "kit/1");

    auto small = fetch({{"url", base + "/things"}, {"max_response_bytes", 100}});
    EXPECT_EQ(small["status"], 0);
    EXPECT_EQ(small["error"], "too large");
    EXPECT_EQ(small["body"], "");

    slow = true;
    auto late = fetch({{"url", base + "/things"}, {"timeout_ms", 300}});
    EXPECT_EQ(late["status"], 0);
    EXPECT_EQ(late["error"], "timeout");
    upstream->release();
    slow = false;

    auto refused = fetch({{"url", "http://127.0.0.1:1/nothing"}, {"timeout_ms", 3000}});
    EXPECT_EQ(refused["status"], 0);
    EXPECT_FALSE(refused["error"].get<std::string>().empty());

    for (const json& bad :
         {json{{"url", "file:///etc/passwd"}}, json{{"url", "ftp://x/"}},
          json{{"url", base}, {"method", "get me"}}, json{{"url", base}, {"timeout_ms", 700000}},
          json{{"url", base}, {"max_response_bytes", 0}},
          json{{"url", base}, {"headers", {{"Bad Name", "v"}}}},
          json{{"url", base}, {"headers", {{"X-Split", "a\r\nInjected: 1"}}}}}) {
        auto r = fetch(bad);
        EXPECT_TRUE(r.contains("refused")) << bad.dump() << " -> " << r.dump();
    }
}

TEST_P(FeatureSdkTest, OutboundRequestsRunConcurrentlyWithoutHoldingThreads) {
    // The upstream answers only once four requests wait at the same time: one
    // at a time, they would all time out.
    std::mutex mu;
    std::condition_variable cv;
    int waiting = 0;
    upstream->set_script([&](const FakeRequest&, FakeExchange& ex) {
        std::unique_lock lock(mu);
        ++waiting;
        cv.notify_all();
        bool all = cv.wait_for(lock, std::chrono::seconds(5), [&] { return waiting >= 4; });
        lock.unlock();
        ex.respond_json(all ? 200 : 504, json::object());
    });
    auto r = gw->admin("POST", "/plugins/kit/fetch-many",
                       {{"url", upstream->base_url() + "/poll"}, {"n", 4}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["statuses"], json::parse("[200,200,200,200]"));
}

TEST_P(FeatureSdkTest, TheDailyJobIsInTheTaskListAtItsTime) {
    auto tasks = gw->admin("GET", "/admin/api/scheduler/tasks");
    ASSERT_EQ(tasks.status, 200);
    json digest, list = tasks.json();
    for (const auto& t : list["tasks"]) {
        if (t["name"] == "kit:digest") digest = t;
    }
    ASSERT_FALSE(digest.is_null()) << tasks.body;
    EXPECT_EQ(digest["schedule"], "daily 03:00");
    EXPECT_EQ(digest["owner"], "kit");
    auto run = gw->admin("POST", "/admin/api/scheduler/tasks/kit:digest/trigger");
    ASSERT_LT(run.status, 300) << run.body;
    ASSERT_TRUE(eventually(
        [&] {
            auto logs = gw->admin("GET", "/admin/api/scheduler/logs?task_id=kit:digest").json();
            return !logs["logs"].empty() && logs["logs"][0]["outcome"] == "success";
        },
        std::chrono::seconds(10)));
    auto logs = gw->admin("GET", "/admin/api/scheduler/logs?task_id=kit:digest").json();
    EXPECT_EQ(logs["logs"][0]["summary"], "0 notes");

    // A malformed time refuses the plugin.
    restart(R"({"digest_at": "25:00"})");
    EXPECT_FALSE(loaded(*gw));
    EXPECT_NE(refusal(*gw).find("25:00"), std::string::npos) << refusal(*gw);
}

TEST_P(FeatureSdkTest, LlmCallsTryTheModelsInOrderWithinTheTimeoutAndNameTheKey) {
    int64_t broken = gw->add_provider("broken", upstream->base_url());
    gw->bind(broken, "m-fail");
    gw->bind(provider, "m-slow");
    upstream->set_script([this](const FakeRequest& req, FakeExchange& ex) {
        std::string model = req.json().value("model", "");
        if (model == "m-fail") {
            ex.respond_json(503,
                            {{"error", {{"message", "overloaded"}, {"type", "server_error"}}}});
        } else if (model == "m-slow") {
            upstream->wait_release(std::chrono::seconds(10));
            ex.respond_json(200, FakeUpstream::chat_completion(model, "late"));
        } else {
            ex.respond_json(200, FakeUpstream::chat_completion(model, "from " + model));
        }
    });
    json request = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    auto ask = gw->admin("POST", "/plugins/kit/ask",
                         {{"request", request},
                          {"models", {"broken/m-fail", "acme/gpt-4o-mini"}},
                          {"timeout_ms", 5000}});
    ASSERT_EQ(ask.status, 200) << ask.body;
    EXPECT_EQ(ask.json()["status"], 200);
    EXPECT_EQ(ask.json()["content"], "from gpt-4o-mini");
    EXPECT_NE(ask.json()["error"].get<std::string>().find("broken/m-fail: HTTP 503"),
              std::string::npos)
        << ask.body;

    // Nothing answers in time: the slow call is cancelled, its slot and its log
    // row ended, and the plugin told why.
    auto slow = gw->admin("POST", "/plugins/kit/ask",
                          {{"request", request}, {"models", {"acme/m-slow"}}, {"timeout_ms", 300}});
    ASSERT_EQ(slow.status, 200);
    EXPECT_EQ(slow.json()["status"], -1);
    EXPECT_NE(slow.json()["error"].get<std::string>().find("no answer within"), std::string::npos)
        << slow.body;
    upstream->release();
    EXPECT_TRUE(eventually([&] {
        auto row = gw->logs("model=m-slow");
        return !row.empty() && row[0]["status"] != "pending";
    }));

    // Attributed to a key: the log names it.
    auto [key_id, secret] = gw->create_key("report-owner");
    auto owned =
        gw->admin("POST", "/plugins/kit/ask",
                  {{"request", request}, {"models", {"acme/gpt-4o-mini"}}, {"api_key_id", key_id}});
    ASSERT_EQ(owned.json()["status"], 200) << owned.body;
    auto row = gw->wait_log([](const json& l) { return l["api_key_name"] == "report-owner"; });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["api_key_id"], key_id);
    EXPECT_EQ(row["client_ip"], "internal");
    auto unknown =
        gw->admin("POST", "/plugins/kit/ask",
                  {{"request", request}, {"models", {"acme/gpt-4o-mini"}}, {"api_key_id", 999999}});
    EXPECT_EQ(unknown.json()["status"], -1);
    EXPECT_NE(unknown.json()["error"].get<std::string>().find("names no API key"),
              std::string::npos);
}

TEST_P(FeatureSdkTest, SecretsAreSealedAndFilesGoToThePluginsFolder) {
    auto sealed = gw->admin("POST", "/plugins/kit/seal", {{"text", "bot-token-123"}});
    ASSERT_EQ(sealed.status, 200) << sealed.body;
    EXPECT_EQ(sealed.json()["opened"], "bot-token-123");
    EXPECT_EQ(sealed.json()["sealed"].get<std::string>().find("bot-token-123"), std::string::npos);
    EXPECT_FALSE(sealed.json()["altered_opens"].get<bool>());

    auto file = gw->admin("POST", "/plugins/kit/files/report.txt", json("contents"));
    ASSERT_EQ(file.status, 200) << file.body;
    std::string path = file.json()["path"];
    EXPECT_NE(path.find("/plugins/kit/report.txt"), std::string::npos) << path;
    EXPECT_TRUE(std::filesystem::exists(path));
    EXPECT_EQ(file.json()["content"], "\"contents\"");
}

TEST_P(FeatureSdkTest, TasksRunOncePerKeyReportProgressAndCanBeFollowed) {
    auto poll = [&](int64_t id) {
        json task;
        eventually(
            [&] {
                task =
                    gw->admin("GET", "/admin/api/plugins/kit/tasks/" + std::to_string(id)).json();
                return task.value("status", "") != "running";
            },
            std::chrono::seconds(15));
        return task;
    };
    auto first = gw->admin("POST", "/plugins/kit/tasks",
                           {{"key", "day-1"}, {"steps", 4}, {"sleep_ms", 150}});
    ASSERT_EQ(first.status, 202) << first.body;
    int64_t id = first.json()["id"];
    EXPECT_EQ(first.json()["status"], "running");
    // The same key while it runs: the running task, not a second one.
    auto again = gw->admin("POST", "/plugins/kit/tasks", {{"key", "day-1"}, {"steps", 1}});
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(again.json()["id"], id);
    auto other = gw->admin("POST", "/plugins/kit/tasks", {{"key", "day-2"}});
    ASSERT_EQ(other.status, 202);
    EXPECT_NE(other.json()["id"], id);

    auto done = poll(id);
    EXPECT_EQ(done["status"], "succeeded") << done.dump();
    EXPECT_EQ(done["progress"], json::parse(R"({"step":4,"of":4})"));
    EXPECT_EQ(done["result"]["task"], id);
    EXPECT_EQ(done["input"]["steps"], 4);
    EXPECT_FALSE(done["finished_at"].is_null());
    // Over, the key is free again.
    EXPECT_EQ(gw->admin("POST", "/plugins/kit/tasks", {{"key", "day-1"}}).status, 202);

    auto failing = gw->admin("POST", "/plugins/kit/tasks", {{"key", "bad"}, {"fail", true}});
    ASSERT_EQ(failing.status, 202);
    auto failed = poll(failing.json()["id"]);
    EXPECT_EQ(failed["status"], "failed");
    EXPECT_NE(failed["error"].get<std::string>().find("asked to fail"), std::string::npos);

    auto list = gw->admin("GET", "/admin/api/plugins/kit/tasks?kind=count&limit=10").json();
    ASSERT_EQ(list["tasks"].size(), 4u);
    EXPECT_EQ(list["tasks"][0]["id"], failing.json()["id"]);  // newest first
    EXPECT_EQ(gw->admin("GET", "/admin/api/plugins/kit/tasks/999999").status, 404);
    EXPECT_EQ(gw->admin("GET", "/admin/api/plugins/other/tasks/" + std::to_string(id)).status, 404);
    EXPECT_EQ(gw->admin("GET", "/admin/api/plugins/kit/tasks?limit=100000").status, 400);
    EXPECT_EQ(http_request("GET", gw->url("/admin/api/plugins/kit/tasks")).status, 401);

    // A task left running by an instance that stopped (no heartbeat for long)
    // does not hold its key: it is marked abandoned and a new one starts.
    gw->app().database().with_session([](soci::session& s) {
        s << "INSERT INTO plugin_tasks (plugin_id, kind, dedupe_key, status, instance_id, "
             "created_at, heartbeat_at) VALUES ('kit', 'count', 'orphan', 'running', 'gone', "
             "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')";
    });
    auto orphan_key = gw->admin("POST", "/plugins/kit/tasks", {{"key", "orphan"}});
    EXPECT_EQ(orphan_key.status, 202) << orphan_key.body;
    EXPECT_EQ(count(*gw, "SELECT COUNT(*) FROM plugin_tasks WHERE status = 'abandoned'"), 1);
}

MODELGATE_BACKENDS(FeatureSdkTest);

}  // namespace
}  // namespace modelgate::test

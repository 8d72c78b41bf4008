// The feature SDK of ABI 1.2 end to end, on SQLite and PostgreSQL, through the
// kit plugin (tests/plugins/feature_kit.cpp) loaded by a real gateway:
// migrations applied once and upgraded, refused when misnamed or newer than the
// plugin; transactions all or nothing with typed rows; {name} routes; the base
// path; a daily job in the task list; LLM calls with a model list, a timeout and
// a key's attribution; sealed secrets; the data folder; no routes after init.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdlib>
#include <filesystem>

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

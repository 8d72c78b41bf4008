// The scheduler you can see: /admin/api/scheduler on both backends. Every job
// is listed (built-in ones and plugins'), the enabled switch is stored and
// honoured, runs by hand are recorded with their rows and outcome, failures
// with their error, abandoned runs block nothing, and a job due at the same
// slot on two instances sharing one database runs once (two Apps in this
// process, and two gateway processes on one PostgreSQL database).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <soci/soci.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include "integration/fixture.hpp"
#include "util/time.hpp"

namespace modelgate::test {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A plugin folder with the OpenAI adapter and the echo feature plugin (whose
// "tick" job runs every second).
std::string plugin_dir_with_echo() {
    std::string dir = temp_dir("mg-sched-plugins-");
    std::filesystem::copy_file(std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so",
                               dir + "/openai.so");
    std::filesystem::copy_file(std::string(MODELGATE_TEST_PLUGIN_DIR) + "/feature_echo.so",
                               dir + "/feature_echo.so");
    return dir;
}

json find_task(const json& tasks, const std::string& name) {
    for (const auto& t : tasks["tasks"]) {
        if (t["name"] == name) return t;
    }
    return nullptr;
}

int64_t count_runs(core::App& app, const std::string& task) {
    long long n = 0;
    app.database().with_session([&](soci::session& s) {
        s << "SELECT COUNT(*) FROM scheduler_runs WHERE task_name = :t", soci::use(task),
            soci::into(n);
    });
    return n;
}

}  // namespace

class SchedulerTest : public GatewayTest {
  protected:
    void SetUp() override {
        plugin_dir_ = plugin_dir_with_echo();
        GatewayTest::SetUp();
    }
    void TearDown() override {
        GatewayTest::TearDown();
        std::error_code ec;
        std::filesystem::remove_all(plugin_dir_, ec);
    }
    void tweak(core::Config& c) override { c.plugin_dir = plugin_dir_; }

    core::Scheduler& scheduler() { return gw->app().scheduler(); }
    json tasks() {
        auto r = gw->admin("GET", "/admin/api/scheduler/tasks");
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json();
    }
    HttpResponse trigger(const std::string& name) {
        return gw->admin("POST", "/admin/api/scheduler/tasks/" + name + "/trigger");
    }
    // A job that waits for its first run by hand (it is due an hour after start).
    void add_manual_job(const std::string& name, core::Scheduler::JobFn fn) {
        ASSERT_TRUE(scheduler().add(name, "test", "A job of the test", 1h, std::move(fn), 1h));
    }

    std::string plugin_dir_;
};

TEST_P(SchedulerTest, EveryRouteNeedsASession) {
    add_manual_job("test_job", [] { return core::JobOutcome("ran"); });
    const std::vector<std::pair<std::string, std::string>> routes = {
        {"GET", "/admin/api/scheduler/tasks"},
        {"PUT", "/admin/api/scheduler/tasks/test_job"},
        {"POST", "/admin/api/scheduler/tasks/test_job/trigger"},
        {"GET", "/admin/api/scheduler/tasks/test_job/logs"},
        {"GET", "/admin/api/scheduler/logs"},
    };
    for (const auto& [method, path] : routes) {
        std::string body = method == "PUT" ? R"({"enabled":false})" : "";
        auto anonymous =
            http_request(method, gw->url(path), body, {{"Content-Type", "application/json"}});
        EXPECT_EQ(anonymous.status, 401) << method << " " << path;
        EXPECT_EQ(anonymous.json()["error"]["code"], "not_logged_in") << method << " " << path;
        auto forged = http_request(method, gw->url(path), body,
                                   {{"Content-Type", "application/json"},
                                    {"Cookie", "mg_admin_session=0123456789abcdef"}});
        EXPECT_EQ(forged.status, 401) << method << " " << path;
    }
    // Nothing ran and nothing changed.
    EXPECT_EQ(count_runs(gw->app(), "test_job"), 0);
    EXPECT_EQ(find_task(tasks(), "test_job")["enabled"], true);
}

TEST_P(SchedulerTest, ListsEveryJobWithItsScheduleAndNextRun) {
    ASSERT_TRUE(scheduler().add_daily("test_daily", "test", "Runs at five past midnight", "00:05",
                                      [] { return core::JobOutcome(); }));
    EXPECT_FALSE(scheduler().add_daily("test_daily", "test", "twice", "00:05",
                                       [] { return core::JobOutcome(); }));
    EXPECT_THROW(scheduler().add_daily("test_bad", "test", "bad", "25:00",
                                       [] { return core::JobOutcome(); }),
                 std::invalid_argument);
    auto list = tasks();
    struct Want {
        const char* name;
        const char* owner;
        const char* schedule;
    };
    for (const Want& w :
         {Want{"cleanup_stale_pending", "core", "every 10m"},
          Want{"sync_provider_models", "core", "every 6h"},
          Want{"expire_admin_sessions", "core", "every 1h"},
          Want{"scheduler_housekeeping", "core", "every 1h"}, Want{"echo:tick", "echo", "every 1s"},
          Want{"test_daily", "test", "daily 00:05"}}) {
        json t = find_task(list, w.name);
        ASSERT_FALSE(t.is_null()) << w.name << " missing from " << list.dump(2);
        EXPECT_EQ(t["owner"], w.owner) << w.name;
        EXPECT_EQ(t["schedule"], w.schedule) << w.name;
        EXPECT_FALSE(t["description"].get<std::string>().empty()) << w.name;
        EXPECT_EQ(t["enabled"], true) << w.name;
        ASSERT_TRUE(t["next_run_at"].is_string()) << w.name;
        EXPECT_TRUE(t.contains("last_run")) << w.name;
        EXPECT_TRUE(t["running"].is_boolean()) << w.name;
    }
    EXPECT_TRUE(find_task(list, "test_bad").is_null());
    // The daily job is next due at 00:05 local time, within a day (25 hours on
    // a DST change day).
    int64_t next =
        *core::parse_iso8601(find_task(list, "test_daily")["next_run_at"].get<std::string>());
    int64_t now = core::unix_ms_now();
    EXPECT_GT(next, now);
    EXPECT_LE(next, now + 25 * 3600 * 1000LL);
    std::time_t secs = static_cast<std::time_t>(next / 1000);
    std::tm tm{};
    ::localtime_r(&secs, &tm);
    EXPECT_EQ(tm.tm_hour, 0);
    EXPECT_EQ(tm.tm_min, 5);
    // The plugin's job runs on its own and its runs are recorded.
    ASSERT_TRUE(eventually([&] { return count_runs(gw->app(), "echo:tick") > 0; }, 10s));
    EXPECT_TRUE(eventually([&] {
        return find_task(tasks(), "echo:tick")["last_run"].value("outcome", "") == "success";
    }));
}

TEST_P(SchedulerTest, TriggerRecordsARunWithRowsAndOutcome) {
    std::atomic<int> ran{0};
    add_manual_job("test_counter", [&]() -> core::JobOutcome {
        ++ran;
        return {"3 widgets polished", 3};
    });
    auto r = trigger("test_counter");
    ASSERT_EQ(r.status, 200) << r.body;
    json run = r.json();
    EXPECT_EQ(ran.load(), 1);
    EXPECT_EQ(run["task_id"], "test_counter");
    EXPECT_EQ(run["trigger"], "manual");
    EXPECT_EQ(run["outcome"], "success");
    EXPECT_EQ(run["rows_touched"], 3);
    EXPECT_EQ(run["summary"], "3 widgets polished");
    EXPECT_TRUE(run["error"].is_null());
    EXPECT_EQ(run["instance_id"], scheduler().instance_id());
    EXPECT_EQ(run["slot"].get<std::string>().rfind("manual:", 0), 0u);
    ASSERT_TRUE(run["finished_at"].is_string());
    EXPECT_GE(run["duration_ms"].get<int64_t>(), 0);
    EXPECT_TRUE(core::parse_iso8601(run["started_at"].get<std::string>()).has_value());

    json task = find_task(tasks(), "test_counter");
    EXPECT_EQ(task["last_run"]["id"], run["id"]);
    EXPECT_EQ(task["running"], false);

    // A second run: the history pages newest first.
    ASSERT_EQ(trigger("test_counter").status, 200);
    auto logs = gw->admin("GET", "/admin/api/scheduler/tasks/test_counter/logs?page_size=1");
    ASSERT_EQ(logs.status, 200) << logs.body;
    EXPECT_EQ(logs.json()["total"], 2);
    EXPECT_EQ(logs.json()["page_size"], 1);
    ASSERT_EQ(logs.json()["logs"].size(), 1u);
    EXPECT_GT(logs.json()["logs"][0]["id"].get<int64_t>(), run["id"].get<int64_t>());
    auto page2 =
        gw->admin("GET", "/admin/api/scheduler/tasks/test_counter/logs?page=2&page_size=1");
    EXPECT_EQ(page2.json()["logs"][0]["id"], run["id"]);
    auto all = gw->admin("GET", "/admin/api/scheduler/logs?task_id=test_counter");
    ASSERT_EQ(all.status, 200);
    EXPECT_EQ(all.json()["total"], 2);
    EXPECT_EQ(all.json()["page"], 1);
    auto every = gw->admin("GET", "/admin/api/scheduler/logs?page_size=200");
    ASSERT_EQ(every.status, 200);
    EXPECT_GE(every.json()["total"].get<int64_t>(), 2);

    // A built-in job reports the rows it touched: one stale pending row.
    gw->app().database().with_session([](soci::session& s) {
        s << "INSERT INTO request_logs (request_id, model, status, created_at, updated_at) "
             "VALUES ('req-stale-1', 'gpt-4o-mini', 'pending', '2020-01-01T00:00:00.000Z', "
             "'2020-01-01T00:00:00.000Z')";
    });
    auto cleanup = trigger("cleanup_stale_pending");
    ASSERT_EQ(cleanup.status, 200) << cleanup.body;
    EXPECT_EQ(cleanup.json()["outcome"], "success");
    EXPECT_EQ(cleanup.json()["rows_touched"], 1);
    EXPECT_EQ(cleanup.json()["summary"], "1 stale pending rows marked timeout");

    // Job texts come in the reader's language; a job without a catalog text
    // (test_counter) keeps its own words in every language.
    auto zh_runs =
        gw->admin("GET", "/admin/api/scheduler/tasks/cleanup_stale_pending/logs?lang=zh");
    ASSERT_EQ(zh_runs.status, 200) << zh_runs.body;
    EXPECT_EQ(zh_runs.json()["logs"][0]["summary"], "已将 1 条过期的 pending 记录标记为超时");
    auto described = [&](const std::string& query) {
        std::map<std::string, std::string> out;
        auto r = gw->admin("GET", "/admin/api/scheduler/tasks" + query);
        EXPECT_EQ(r.status, 200) << r.body;
        json body = r.json();
        for (const auto& t : body["tasks"])
            out[t["name"]] = t["description"];
        return out;
    };
    auto en = described(""), zh = described("?lang=zh");
    EXPECT_EQ(en["expire_admin_sessions"], "Deletes expired admin sessions");
    EXPECT_EQ(zh["expire_admin_sessions"], "删除已过期的管理员会话");
    ASSERT_FALSE(en["test_counter"].empty());
    EXPECT_EQ(zh["test_counter"], en["test_counter"]);
}

TEST_P(SchedulerTest, AFailingJobRecordsFailedAndTheError) {
    add_manual_job("test_failing", []() -> core::JobOutcome {
        throw std::runtime_error("the widget store is closed " + std::string(3000, 'x'));
    });
    auto r = trigger("test_failing");
    ASSERT_EQ(r.status, 200) << r.body;
    json run = r.json();
    EXPECT_EQ(run["outcome"], "failed");
    EXPECT_EQ(run["rows_touched"], 0);
    ASSERT_TRUE(run["error"].is_string());
    std::string error = run["error"];
    EXPECT_EQ(error.rfind("the widget store is closed", 0), 0u) << error;
    EXPECT_LE(error.size(), 1000u);
    EXPECT_GT(error.size(), 500u);
    EXPECT_TRUE(run["finished_at"].is_string());
    EXPECT_EQ(find_task(tasks(), "test_failing")["last_run"]["outcome"], "failed");
    // The stored row says the same.
    std::string outcome, stored_error;
    gw->app().database().with_session([&](soci::session& s) {
        s << "SELECT outcome, error FROM scheduler_runs WHERE task_name = 'test_failing'",
            soci::into(outcome), soci::into(stored_error);
    });
    EXPECT_EQ(outcome, "failed");
    EXPECT_EQ(stored_error, error);
}

TEST_P(SchedulerTest, ALongRunAnswers202AndATaskThatIsRunning409) {
    auto release = std::make_shared<std::promise<void>>();
    std::shared_future<void> go = release->get_future().share();
    add_manual_job("test_slow", [go]() -> core::JobOutcome {
        go.wait_for(30s);
        return {"slow but done", 1};
    });
    // The trigger waits a few seconds, then answers with the run still going.
    auto first = trigger("test_slow");
    ASSERT_EQ(first.status, 202) << first.body;
    EXPECT_EQ(first.json()["outcome"], "running");
    EXPECT_TRUE(first.json()["finished_at"].is_null());
    auto second = trigger("test_slow");
    EXPECT_EQ(second.status, 409) << second.body;
    EXPECT_EQ(second.json()["error"]["code"], "task_running");
    json task = find_task(tasks(), "test_slow");
    EXPECT_EQ(task["running"], true);
    EXPECT_EQ(task["last_run"]["id"], first.json()["id"]);
    EXPECT_EQ(task["last_run"]["outcome"], "running");
    release->set_value();
    ASSERT_TRUE(eventually([&] {
        json t = find_task(tasks(), "test_slow");
        return !t["running"].get<bool>() && t["last_run"]["outcome"] == "success";
    }));
    EXPECT_EQ(find_task(tasks(), "test_slow")["last_run"]["rows_touched"], 1);
    EXPECT_EQ(trigger("test_slow").status, 200);
}

TEST_P(SchedulerTest, DisablingIsStoredAndHonouredButTriggerStillRuns) {
    // Shared: the job outlives the test body until the gateway stops.
    auto counter = std::make_shared<std::atomic<int>>(0);
    std::atomic<int>& ran = *counter;
    ASSERT_TRUE(scheduler().add(
        "test_tick", "test", "Counts every second", 1s,
        [counter]() -> core::JobOutcome {
            return {"tick", ++*counter};
        },
        0s));
    ASSERT_TRUE(eventually([&] { return ran.load() >= 1; }, 5s));

    auto off = gw->admin("PUT", "/admin/api/scheduler/tasks/test_tick", {{"enabled", false}});
    ASSERT_EQ(off.status, 200) << off.body;
    EXPECT_EQ(off.json()["enabled"], false);
    EXPECT_TRUE(off.json()["next_run_at"].is_null());
    EXPECT_EQ(find_task(tasks(), "test_tick")["enabled"], false);
    int stored = -1;
    gw->app().database().with_session([&](soci::session& s) {
        s << "SELECT CASE WHEN enabled THEN 1 ELSE 0 END FROM scheduler_tasks WHERE name = "
             "'test_tick'",
            soci::into(stored);
    });
    EXPECT_EQ(stored, 0);

    // A run already on its way may still finish; after that, nothing.
    std::this_thread::sleep_for(1500ms);
    int before = ran.load();
    int64_t rows_before = count_runs(gw->app(), "test_tick");
    std::this_thread::sleep_for(2500ms);
    EXPECT_EQ(ran.load(), before);
    EXPECT_EQ(count_runs(gw->app(), "test_tick"), rows_before);

    // By hand it still runs.
    auto manual = trigger("test_tick");
    ASSERT_EQ(manual.status, 200) << manual.body;
    EXPECT_EQ(manual.json()["outcome"], "success");
    EXPECT_EQ(ran.load(), before + 1);

    auto on = gw->admin("PUT", "/admin/api/scheduler/tasks/test_tick", {{"enabled", true}});
    ASSERT_EQ(on.status, 200);
    EXPECT_EQ(on.json()["enabled"], true);
    EXPECT_TRUE(on.json()["next_run_at"].is_string());
    EXPECT_TRUE(eventually([&] { return ran.load() >= before + 3; }, 6s));
}

TEST_P(SchedulerTest, BadInputIs400AndUnknownTasks404) {
    add_manual_job("test_job", [] { return core::JobOutcome("ran"); });
    const std::string path = "/admin/api/scheduler/tasks/test_job";
    for (const json& body :
         {json::object(), json{{"enabled", "yes"}}, json{{"enabled", 1}},
          json{{"enabled", nullptr}}, json{{"enabled", true}, {"cron_expression", "*/5 * * * *"}},
          json{{"is_paused", true}}}) {
        auto r = gw->admin("PUT", path, body);
        EXPECT_EQ(r.status, 400) << body.dump();
        EXPECT_EQ(r.json()["error"]["code"], "invalid_field") << body.dump();
    }
    auto not_json =
        http_request("PUT", gw->url(path),
                     "{enabled:", {{"Cookie", gw->cookie()}, {"Content-Type", "application/json"}});
    EXPECT_EQ(not_json.status, 400);
    auto array = http_request("PUT", gw->url(path), "[true]",
                              {{"Cookie", gw->cookie()}, {"Content-Type", "application/json"}});
    EXPECT_EQ(array.status, 400);
    EXPECT_EQ(find_task(tasks(), "test_job")["enabled"], true);

    EXPECT_EQ(
        gw->admin("PUT", "/admin/api/scheduler/tasks/no_such_job", {{"enabled", false}}).status,
        404);
    EXPECT_EQ(trigger("no_such_job").status, 404);
    EXPECT_EQ(gw->admin("GET", "/admin/api/scheduler/tasks/no_such_job/logs").status, 404);

    for (const char* query : {"page=0", "page=-1", "page=abc", "page_size=0", "page_size=201",
                              "page_size=1000000", "page=1.5", "page=99999999999"}) {
        std::string q = query;
        EXPECT_EQ(gw->admin("GET", "/admin/api/scheduler/logs?" + q).status, 400) << q;
        EXPECT_EQ(gw->admin("GET", path + "/logs?" + q).status, 400) << q;
    }
    EXPECT_EQ(gw->admin("GET", "/admin/api/scheduler/logs?page_size=200").status, 200);
    EXPECT_EQ(gw->admin("GET", "/admin/api/scheduler/logs?task_id=" + std::string(101, 'a')).status,
              400);
    auto unknown = gw->admin("GET", "/admin/api/scheduler/logs?task_id=no_such_job");
    ASSERT_EQ(unknown.status, 200);
    EXPECT_EQ(unknown.json()["total"], 0);
}

TEST_P(SchedulerTest, AnAbandonedRunBlocksNothingAndHousekeepingMarksIt) {
    std::atomic<int> ran{0};
    add_manual_job("test_job", [&]() -> core::JobOutcome { return {"ran", ++ran}; });
    int64_t now = core::unix_ms_now();
    std::string ten_min_ago = core::iso8601_utc(now - 10 * 60 * 1000);
    std::string forty_days_ago = core::iso8601_utc(now - 40LL * 86400 * 1000);
    gw->app().database().with_session([&](soci::session& s) {
        // A run from long ago ...
        s << "INSERT INTO scheduler_runs (task_name, slot, instance_id, trigger_kind, started_at, "
             "heartbeat_at, finished_at, outcome) VALUES ('test_job', :slot, 'old-instance', "
             "'schedule', :t1, :t2, :t3, 'success')",
            soci::use(forty_days_ago, "slot"), soci::use(forty_days_ago, "t1"),
            soci::use(forty_days_ago, "t2"), soci::use(forty_days_ago, "t3");
        // ... and a run whose instance died ten minutes ago.
        s << "INSERT INTO scheduler_runs (task_name, slot, instance_id, trigger_kind, started_at, "
             "heartbeat_at, outcome) VALUES ('test_job', :slot, 'dead-instance', 'schedule', "
             ":t1, :t2, 'running')",
            soci::use(ten_min_ago, "slot"), soci::use(ten_min_ago, "t1"),
            soci::use(ten_min_ago, "t2");
        // A task with more runs than the history keeps (1000 per task).
        core::store::WriteTransaction tr(s);
        std::string slot, started = core::iso8601_utc(now - 60000);
        soci::statement insert =
            (s.prepare << "INSERT INTO scheduler_runs (task_name, slot, instance_id, "
                          "trigger_kind, started_at, heartbeat_at, finished_at, outcome) VALUES "
                          "('test_bulk', :slot, 'bulk', 'manual', :t1, :t2, :t3, 'success')",
             soci::use(slot, "slot"), soci::use(started, "t1"), soci::use(started, "t2"),
             soci::use(started, "t3"));
        for (int i = 0; i < 1005; ++i) {
            slot = "manual:" + std::to_string(i);
            insert.execute(true);
        }
        tr.commit();
    });
    json task = find_task(tasks(), "test_job");
    EXPECT_EQ(task["running"], false);
    EXPECT_EQ(task["last_run"]["outcome"], "abandoned");
    EXPECT_EQ(task["last_run"]["instance_id"], "dead-instance");

    auto r = trigger("test_job");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["outcome"], "success");
    EXPECT_EQ(ran.load(), 1);

    auto housekeeping = trigger("scheduler_housekeeping");
    ASSERT_EQ(housekeeping.status, 200) << housekeeping.body;
    EXPECT_EQ(housekeeping.json()["outcome"], "success");
    EXPECT_GE(housekeeping.json()["rows_touched"].get<int64_t>(), 2 + 5);
    std::string outcome, oldest_bulk;
    std::optional<std::string> error;
    long long old_rows = -1, bulk_rows = -1;
    gw->app().database().with_session([&](soci::session& s) {
        s << "SELECT outcome, error FROM scheduler_runs WHERE instance_id = 'dead-instance'",
            soci::into(outcome), soci::into(error);
        s << "SELECT COUNT(*) FROM scheduler_runs WHERE instance_id = 'old-instance'",
            soci::into(old_rows);
        s << "SELECT COUNT(*) FROM scheduler_runs WHERE task_name = 'test_bulk'",
            soci::into(bulk_rows);
        s << "SELECT slot FROM scheduler_runs WHERE task_name = 'test_bulk' ORDER BY id LIMIT 1",
            soci::into(oldest_bulk);
    });
    EXPECT_EQ(bulk_rows, 1000);
    EXPECT_EQ(oldest_bulk, "manual:5") << "the newest runs are kept";
    EXPECT_EQ(outcome, "abandoned");
    ASSERT_TRUE(error.has_value());
    EXPECT_NE(error->find("heartbeat"), std::string::npos) << *error;
    EXPECT_EQ(old_rows, 0) << "runs older than the retention are deleted";
    auto logs = gw->admin("GET", "/admin/api/scheduler/tasks/test_job/logs");
    EXPECT_EQ(logs.json()["total"], 2);
}

TEST_P(SchedulerTest, HeartbeatsKeepALongRunAlive) {
    // A scheduler of its own with short bounds: a heartbeat every second, a run
    // abandoned after three seconds without one.
    core::ThreadPool pool(2, "test-scheduler");
    core::SchedulerOptions options;
    options.heartbeat = 1s;
    options.abandon_after = 3s;
    core::Scheduler own(gw->app().database(), pool, "test-instance", options);
    auto release = std::make_shared<std::promise<void>>();
    std::shared_future<void> go = release->get_future().share();
    ASSERT_TRUE(own.add(
        "test_long", "test", "Runs longer than the abandon bound", 1h,
        [go]() -> core::JobOutcome {
            go.wait_for(30s);
            return {"long", 0};
        },
        0s));
    own.start();
    ASSERT_TRUE(eventually([&] { return count_runs(gw->app(), "test_long") == 1; }));
    std::this_thread::sleep_for(4500ms);
    auto t = own.task("test_long");
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(t->running);
    ASSERT_TRUE(t->last_run.has_value());
    EXPECT_EQ(t->last_run->outcome, "running") << "its heartbeat keeps it from looking abandoned";
    EXPECT_GE(*core::parse_iso8601(t->last_run->heartbeat_at),
              *core::parse_iso8601(t->last_run->started_at) + 3000);
    // The gateway, another instance as far as the run is concerned, cannot start
    // it by hand meanwhile.
    add_manual_job("test_long", [] { return core::JobOutcome("second run"); });
    auto r = trigger("test_long");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(find_task(tasks(), "test_long")["running"], true);
    release->set_value();
    EXPECT_TRUE(eventually([&] {
        auto now = own.task("test_long");
        return now.ok() && !now->running && now->last_run->outcome == "success";
    }));
    own.stop();
    pool.stop();
}

MODELGATE_BACKENDS(SchedulerTest);

// Two instances of one deployment: two Apps, each with its own scheduler, pool
// and database connections, on the same database.
class TwoInstancesTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        std::string why;
        if (GetParam() == "postgresql" && !TestDatabase::postgres_available(&why)) {
            if (std::getenv("MODELGATE_TEST_SKIP_PG") != nullptr) GTEST_SKIP() << why;
            FAIL() << why;
        }
        a = std::make_unique<Gateway>(GetParam());
        b = std::make_unique<Gateway>(*a, nullptr);
    }
    void TearDown() override {
        b.reset();
        a.reset();
    }
    static json task(Gateway& gw, const std::string& name) {
        return find_task(gw.admin("GET", "/admin/api/scheduler/tasks").json(), name);
    }
    // True once the instance's next run is due at or after next_ms and it has
    // no run in progress: it has dealt with the slots before.
    static bool settled(Gateway& gw, const std::string& name, int64_t next_ms) {
        json t = task(gw, name);
        if (t.is_null() || t["running"].get<bool>() || !t["next_run_at"].is_string()) return false;
        return *core::parse_iso8601(t["next_run_at"].get<std::string>()) >= next_ms;
    }

    std::unique_ptr<Gateway> a, b;
};

TEST_P(TwoInstancesTest, AJobDueAtTheSameSlotRunsOnce) {
    // A daily-length interval: both instances are due at once and their slot is
    // today's (UTC). Not across midnight UTC.
    int64_t day = 86400 * 1000LL;
    if (day - core::unix_ms_now() % day < 5000) std::this_thread::sleep_for(6s);
    int64_t slot = core::unix_ms_now() / day * day;

    auto executions = std::make_shared<std::atomic<int>>(0);
    auto job = [executions]() -> core::JobOutcome {
        ++*executions;
        std::this_thread::sleep_for(300ms);  // both instances are at it at the same time
        return {"once", 1};
    };
    bool added_b = false;
    std::thread add_b(
        [&] { added_b = b->app().scheduler().add("test_once", "test", "Once", 24h, job, 0s); });
    ASSERT_TRUE(a->app().scheduler().add("test_once", "test", "Once", 24h, job, 0s));
    add_b.join();
    ASSERT_TRUE(added_b);

    ASSERT_TRUE(eventually(
        [&] {
            return settled(*a, "test_once", slot + day) && settled(*b, "test_once", slot + day);
        },
        10s));
    EXPECT_EQ(executions->load(), 1);
    auto logs = a->admin("GET", "/admin/api/scheduler/tasks/test_once/logs").json();
    ASSERT_EQ(logs["total"], 1) << logs.dump(2);
    json run = logs["logs"][0];
    EXPECT_EQ(run["trigger"], "schedule");
    EXPECT_EQ(run["outcome"], "success");
    EXPECT_EQ(run["slot"], core::iso8601_utc(slot));
    std::set<std::string> instances = {a->app().scheduler().instance_id(),
                                       b->app().scheduler().instance_id()};
    EXPECT_EQ(instances.size(), 2u);
    EXPECT_EQ(instances.count(run["instance_id"].get<std::string>()), 1u);
    // Both instances show the same history.
    EXPECT_EQ(b->admin("GET", "/admin/api/scheduler/tasks/test_once/logs").json()["logs"],
              logs["logs"]);
}

TEST_P(TwoInstancesTest, EverySecondSlotRunsOnceAndTheSwitchIsShared) {
    auto count = std::make_shared<std::atomic<int>>(0);
    std::atomic<int>& executions = *count;
    auto job = [count]() -> core::JobOutcome {
        ++*count;
        std::this_thread::sleep_for(100ms);
        return {"tick", 1};
    };
    int64_t t0 = core::unix_ms_now();
    ASSERT_TRUE(a->app().scheduler().add("test_tick", "test", "Every second", 1s, job, 0s));
    ASSERT_TRUE(b->app().scheduler().add("test_tick", "test", "Every second", 1s, job, 0s));
    std::this_thread::sleep_for(4500ms);

    // Disabled on one instance: the other stops too.
    ASSERT_EQ(a->admin("PUT", "/admin/api/scheduler/tasks/test_tick", {{"enabled", false}}).status,
              200);
    EXPECT_EQ(task(*b, "test_tick")["enabled"], false);
    std::this_thread::sleep_for(1500ms);  // runs already on their way finish
    int frozen = executions.load();
    int64_t seconds = (core::unix_ms_now() - t0) / 1000 + 1;
    int64_t rows = count_runs(a->app(), "test_tick");
    // Two instances, but at most one run per second.
    EXPECT_LE(frozen, seconds);
    // Each execution has its own slot row, so no slot ran twice.
    EXPECT_EQ(rows, frozen);
    EXPECT_GE(rows, 3);
    std::this_thread::sleep_for(2500ms);
    EXPECT_EQ(executions.load(), frozen);
    EXPECT_EQ(count_runs(b->app(), "test_tick"), rows);
    long long distinct = 0;
    a->app().database().with_session([&](soci::session& s) {
        s << "SELECT COUNT(DISTINCT slot) FROM scheduler_runs WHERE task_name = 'test_tick'",
            soci::into(distinct);
    });
    EXPECT_EQ(distinct, rows);
    // Each run's slot is the second it started in.
    auto logs = b->admin("GET", "/admin/api/scheduler/logs?task_id=test_tick&page_size=200").json();
    ASSERT_EQ(logs["total"], rows);
    for (const auto& run : logs["logs"]) {
        auto slot = core::parse_iso8601(run["slot"].get<std::string>());
        ASSERT_TRUE(slot.has_value()) << run.dump();
        int64_t started = *core::parse_iso8601(run["started_at"].get<std::string>());
        EXPECT_EQ(started / 1000 * 1000, *slot) << run.dump();
    }
    // Runs by hand still work on either instance while the schedule is off.
    EXPECT_EQ(b->admin("POST", "/admin/api/scheduler/tasks/test_tick/trigger").status, 200);
    EXPECT_EQ(executions.load(), frozen + 1);
}

MODELGATE_BACKENDS(TwoInstancesTest);

// A gateway process: the real binary, on a port of its own, killed at the end.
class GatewayProcess {
  public:
    GatewayProcess(const std::string& database_url, const std::string& plugin_dir)
        : dir_(temp_dir("mg-proc-")), port_(free_port()) {
        std::vector<std::string> env;
        for (char** e = environ; *e != nullptr; ++e) {
            std::string v = *e;
            if (v.rfind("DATABASE_URL=", 0) != 0 && v.rfind("PORT=", 0) != 0 &&
                v.rfind("HOST=", 0) != 0 && v.rfind("MODELGATE_", 0) != 0 &&
                v.rfind("ADMIN_USERS=", 0) != 0)
                env.push_back(v);
        }
        for (std::string v :
             {"DATABASE_URL=" + database_url, "MODELGATE_DATA_DIR=" + dir_,
              "PORT=" + std::to_string(port_), std::string("HOST=127.0.0.1"),
              std::string("ADMIN_USERS=ops:two-processes-1"), "MODELGATE_PLUGIN_DIR=" + plugin_dir,
              std::string("MODELGATE_MODEL_SYNC_MINUTES=0"),
              std::string("MODELGATE_MASTER_KEY=") + std::string(64, 'a'),
              std::string("LOG_LEVEL=WARNING")})
            env.push_back(v);
        std::vector<char*> envp;
        for (auto& v : env)
            envp.push_back(v.data());
        envp.push_back(nullptr);
        std::string binary = MODELGATE_GATEWAY_BINARY, log_path = dir_ + "/gateway.log";
        char* argv[] = {binary.data(), nullptr};
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv, envp.data());
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) pid_ = -1;
    }
    ~GatewayProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    bool started() const { return pid_ > 0; }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    bool healthy() const {
        return http_request("GET", url("/healthz"), "", {}, 2000).status == 200;
    }
    // Signs in as the configured admin; the session cookie.
    std::string login() const {
        auto r = http_request("POST", url("/admin/api/auth/login"),
                              R"({"username":"ops","password":"two-processes-1"})",
                              {{"Content-Type", "application/json"}});
        std::string cookie = r.header("set-cookie");
        return cookie.substr(0, cookie.find(';'));
    }
    // SIGTERM, then the exit status (-1 when it did not exit within 30 s).
    int stop() {
        if (pid_ <= 0) return -1;
        kill(pid_, SIGTERM);
        for (int i = 0; i < 300; ++i) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(100ms);
        }
        return -1;
    }
    std::string log() const {
        std::ifstream in(dir_ + "/gateway.log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

  private:
    static int free_port() {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        close(fd);
        return ntohs(addr.sin_port);
    }

    std::string dir_;
    int port_;
    pid_t pid_ = -1;
};

// Two gateway processes (the real binary) on one PostgreSQL database, each
// loading the echo plugin with its one-second "tick" job: no slot runs twice,
// counted by the executions the plugin itself saw in each process.
TEST(TwoProcessesTest, EverySlotOfAPluginJobRunsOnceAcrossTwoGatewayProcesses) {
    std::string why;
    if (!TestDatabase::postgres_available(&why)) {
        if (std::getenv("MODELGATE_TEST_SKIP_PG") != nullptr) GTEST_SKIP() << why;
        FAIL() << why;
    }
    Gateway schema("postgresql");  // in this process, without the echo plugin
    std::string plugins = plugin_dir_with_echo();
    GatewayProcess one(schema.database_url(), plugins), two(schema.database_url(), plugins);
    ASSERT_TRUE(one.started() && two.started());
    ASSERT_TRUE(eventually([&] { return one.healthy() && two.healthy(); }, 60s))
        << one.log() << two.log();
    int64_t t0 = core::unix_ms_now();
    auto count = [&](const char* select) {
        long long n = 0;
        schema.app().database().with_session([&](soci::session& s) {
            s << std::string(select) +
                     " FROM scheduler_runs WHERE task_name = 'echo:tick' AND trigger_kind = "
                     "'schedule'",
                soci::into(n);
        });
        return static_cast<int64_t>(n);
    };
    // A plugin's job first runs 5 seconds after start, then every second.
    ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*)") >= 1; }, 30s)) << one.log();
    std::this_thread::sleep_for(4s);

    // Switched off through one process: the other stops too.
    std::string cookie = one.login();
    ASSERT_FALSE(cookie.empty()) << one.log();
    auto off =
        http_request("PUT", one.url("/admin/api/scheduler/tasks/echo:tick"), R"({"enabled":false})",
                     {{"Content-Type", "application/json"}, {"Cookie", cookie}});
    ASSERT_EQ(off.status, 200) << off.body << one.log();
    std::this_thread::sleep_for(2s);  // runs already on their way finish
    int64_t seconds = (core::unix_ms_now() - t0) / 1000 + 2;
    auto executions = [](const GatewayProcess& p) {
        auto r = http_request("GET", p.url("/plugins/echo"));
        return r.status == 200 ? r.json()["job_runs"].get<int64_t>() : int64_t{-1};
    };
    int64_t in_one = executions(one), in_two = executions(two);
    ASSERT_GE(in_one, 0) << one.log();
    ASSERT_GE(in_two, 0) << two.log();
    EXPECT_EQ(one.stop(), 0) << one.log();
    EXPECT_EQ(two.stop(), 0) << two.log();

    int64_t runs = count("SELECT COUNT(*)"), slots = count("SELECT COUNT(DISTINCT slot)");
    int64_t instances = count("SELECT COUNT(DISTINCT instance_id)");
    int64_t ok = count("SELECT COALESCE(SUM(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END), 0)");
    // Every execution in either process is one recorded run of its own slot.
    EXPECT_EQ(in_one + in_two, runs) << "one: " << in_one << ", two: " << in_two;
    EXPECT_EQ(slots, runs);
    EXPECT_EQ(ok, runs);
    EXPECT_GE(runs, 3);
    EXPECT_LE(runs, seconds);
    EXPECT_GE(instances, 1);
    EXPECT_LE(instances, 2);
}

}  // namespace modelgate::test

#include "features/tasks.hpp"

#include <soci/soci.h>

#include <modelgate/sink.hpp>
#include <regex>

#include "store/soci_optional.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace modelgate::core::features {

namespace {

bool valid_kind(const std::string& kind) {
    static const std::regex kKind("[a-z0-9_-]{1,64}");
    return std::regex_match(kind, kKind);
}

// A JSON text column as JSON (null when empty or not JSON).
nlohmann::json json_column(const std::optional<std::string>& text) {
    if (!text || text->empty()) return nullptr;
    auto j = parse_json(*text);
    return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

}  // namespace

TaskRunner::TaskRunner(store::Database& db, std::string instance_id, TaskLimits limits)
    : db_(db),
      instance_id_(std::move(instance_id)),
      limits_(limits),
      pool_(limits.threads, "tasks"),
      heartbeat_([this] { heartbeat_loop(); }) {}

TaskRunner::~TaskRunner() {
    stop();
}

bool TaskRunner::register_kind(const std::string& plugin, const std::string& kind, mg_task_fn fn,
                               void* user) {
    if (!valid_kind(kind) || fn == nullptr) return false;
    std::lock_guard lock(mu_);
    return kinds_.emplace(std::make_pair(plugin, kind), Kind{fn, user}).second;
}

void TaskRunner::withdraw(const std::string& plugin) {
    std::lock_guard lock(mu_);
    for (auto it = kinds_.begin(); it != kinds_.end();)
        it = it->first.first == plugin ? kinds_.erase(it) : std::next(it);
}

std::string TaskRunner::select_sql() const {
    return "SELECT id, plugin_id, kind, dedupe_key, status, input, progress, result, error, " +
           db_.ts("created_at") + ", " + db_.ts("finished_at") + " FROM plugin_tasks";
}

namespace {

struct TaskRow {
    long long id = 0;
    std::string plugin, kind, key, status, input, progress, created_at;
    std::optional<std::string> result, error, finished_at;

    void into(soci::statement& st) {
        st.exchange(soci::into(id));
        st.exchange(soci::into(plugin));
        st.exchange(soci::into(kind));
        st.exchange(soci::into(key));
        st.exchange(soci::into(status));
        st.exchange(soci::into(input));
        st.exchange(soci::into(progress));
        st.exchange(soci::into(result));
        st.exchange(soci::into(error));
        st.exchange(soci::into(created_at));
        st.exchange(soci::into(finished_at));
    }
    nlohmann::json json() const {
        return {{"id", id},
                {"plugin", plugin},
                {"kind", kind},
                {"key", key},
                {"status", status},
                {"input", json_column(input)},
                {"progress", json_column(progress)},
                {"result", json_column(result)},
                {"error", error ? nlohmann::json(*error) : nlohmann::json(nullptr)},
                {"created_at", created_at},
                {"finished_at", finished_at ? nlohmann::json(*finished_at) : nullptr}};
    }
};

// The tasks `where` selects (bound by the caller through bind), newest first.
template <class Bind>
std::vector<nlohmann::json> select_tasks(soci::session& s, const std::string& sql, Bind&& bind) {
    TaskRow row;
    soci::statement st(s);
    row.into(st);
    bind(st);
    st.alloc();
    st.prepare(sql);
    st.define_and_bind();
    st.execute(false);
    std::vector<nlohmann::json> out;
    while (st.fetch())
        out.push_back(row.json());
    return out;
}

}  // namespace

Result<TaskRunner::Started> TaskRunner::start(const std::string& plugin, const std::string& kind,
                                              const std::string& key, std::string_view input_json) {
    Kind k{};
    {
        std::lock_guard lock(mu_);
        auto it = kinds_.find({plugin, kind});
        if (it == kinds_.end())
            return make_error(ErrorCode::invalid_request,
                              "no task kind '" + kind + "' is registered for " + plugin);
        k = it->second;
    }
    if (key.size() > kMaxTaskKey)
        return make_error(ErrorCode::invalid_request,
                          "a dedupe key has at most " + std::to_string(kMaxTaskKey) + " bytes");
    std::string input = input_json.empty() ? "{}" : std::string(input_json);
    if (input.size() > kMaxTaskInput || !parse_json(input).is_object())
        return make_error(ErrorCode::invalid_request,
                          "a task's input is a JSON object of at most 1 MiB");
    if (stopping_.load()) return make_error(ErrorCode::unavailable, "the gateway is shutting down");
    if (waiting_.load() >= limits_.max_waiting)
        return make_error(ErrorCode::rate_limited,
                          "too many tasks are waiting to run; try again later");
    beat();  // a running row left by a stopped instance must not block the key
    Started out;
    try {
        // The running task a conflict names may end between the two statements:
        // then the key is free again, and the insert is tried once more.
        for (int attempt = 0; attempt < 3 && out.task.is_null(); ++attempt)
            db_.with_session(
                [&](soci::session& s) {
                    long long id = 0;
                    std::string now = iso8601_utc(unix_ms_now());
                    soci::statement st =
                        (s.prepare
                             << "INSERT INTO plugin_tasks (plugin_id, kind, dedupe_key, status, "
                                "input, instance_id, created_at, heartbeat_at) VALUES (:p, :k, :d, "
                                "'running', :in, :i, :now, :now2) ON CONFLICT (plugin_id, kind, "
                                "dedupe_key) WHERE status = 'running' DO NOTHING RETURNING id",
                         soci::use(plugin, "p"), soci::use(kind, "k"), soci::use(key, "d"),
                         soci::use(input, "in"), soci::use(instance_id_, "i"),
                         soci::use(now, "now"), soci::use(now, "now2"), soci::into(id));
                    out.started = st.execute(true);
                    auto rows = select_tasks(
                        s,
                        select_sql() + (out.started
                                            ? " WHERE id = :id"
                                            : " WHERE plugin_id = :p AND kind = :k AND dedupe_key "
                                              "= :d AND status = 'running'"),
                        [&](soci::statement& q) {
                            if (out.started) {
                                q.exchange(soci::use(id, "id"));
                            } else {
                                q.exchange(soci::use(plugin, "p"));
                                q.exchange(soci::use(kind, "k"));
                                q.exchange(soci::use(key, "d"));
                            }
                        });
                    if (rows.empty()) {
                        if (out.started) throw std::runtime_error("the task row vanished");
                        return;
                    }
                    out.task = rows.front();
                });
        if (out.task.is_null()) throw std::runtime_error("the key's task kept ending and starting");
    } catch (...) {
        return store::database_error("starting a plugin task");
    }
    if (!out.started) return out;
    int64_t id = out.task["id"].get<int64_t>();
    waiting_.fetch_add(1);
    bool posted = pool_.post([this, plugin, k, id, input] {
        waiting_.fetch_sub(1);
        if (stopping_.load()) {
            finish(id, false, "", "the gateway stopped before the task ran");
            return;
        }
        run(plugin, k, id, input);
    });
    if (!posted) {
        waiting_.fetch_sub(1);
        finish(id, false, "", "the gateway stopped before the task ran");
    }
    return out;
}

void TaskRunner::run(const std::string& plugin, const Kind& kind, int64_t id,
                     const std::string& input) {
    modelgate::sdk::StringSink result, err;
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = kind.fn(kind.user, id, modelgate::sdk::str(input), result.get(), err.get());
    } catch (...) {
        rc = MG_ERR_INTERNAL;
    }
    if (rc == MG_OK) {
        auto parsed = parse_json(result.data.empty() ? std::string_view("null") : result.data);
        if (result.data.size() > kMaxTaskResult || parsed.is_discarded()) {
            finish(id, false, "", "the task's result is not JSON of at most 4 MiB");
            return;
        }
        finish(id, true, result.data, "");
    } else {
        std::string why = err.data.empty() ? "the task failed" : err.data.substr(0, 4000);
        MG_WARN("plugins", plugin << " task " << id << " failed: " << why);
        finish(id, false, "", why);
    }
}

void TaskRunner::finish(int64_t id, bool ok, const std::string& result, const std::string& error) {
    try {
        db_.with_session([&](soci::session& s) {
            std::string status = ok ? "succeeded" : "failed";
            std::string now = iso8601_utc(unix_ms_now());
            std::optional<std::string> res = ok ? std::optional<std::string>(result) : std::nullopt;
            std::optional<std::string> why = ok ? std::nullopt : std::optional<std::string>(error);
            long long task = id;
            // A task marked abandoned meanwhile stays so: its end came too late.
            s << "UPDATE plugin_tasks SET status = :st, result = :r, error = :e, finished_at = "
                 ":now WHERE id = :id AND status = 'running'",
                soci::use(status, "st"), soci::use(res, "r"), soci::use(why, "e"),
                soci::use(now, "now"), soci::use(task, "id");
        });
    } catch (const std::exception& e) {
        MG_ERROR("plugins", "recording the end of task " << id << " failed: " << e.what());
    }
}

Status TaskRunner::progress(const std::string& plugin, int64_t id, std::string_view progress_json) {
    if (progress_json.size() > kMaxTaskProgress || !parse_json(progress_json).is_object())
        return make_error(ErrorCode::invalid_request,
                          "a task's progress is a JSON object of at most 64 KiB");
    try {
        db_.with_session([&](soci::session& s) {
            std::string p(progress_json), now = iso8601_utc(unix_ms_now());
            long long task = id;
            s << "UPDATE plugin_tasks SET progress = :pr, heartbeat_at = :now WHERE id = :id AND "
                 "plugin_id = :p AND status = 'running'",
                soci::use(p, "pr"), soci::use(now, "now"), soci::use(task, "id"),
                soci::use(plugin, "p");
        });
        return Ok{};
    } catch (...) {
        return store::database_error("recording a task's progress");
    }
}

Result<std::optional<nlohmann::json>> TaskRunner::get(const std::string& plugin, int64_t id) {
    try {
        auto rows = db_.with_session([&](soci::session& s) {
            long long task = id;
            return select_tasks(s, select_sql() + " WHERE id = :id AND plugin_id = :p",
                                [&](soci::statement& q) {
                                    q.exchange(soci::use(task, "id"));
                                    q.exchange(soci::use(plugin, "p"));
                                });
        });
        if (rows.empty()) return std::optional<nlohmann::json>();
        return std::optional<nlohmann::json>(std::move(rows.front()));
    } catch (...) {
        return store::database_error("reading a plugin task");
    }
}

Result<nlohmann::json> TaskRunner::list(const std::string& plugin, const std::string& kind,
                                        int limit) {
    if (limit < 1 || limit > kMaxTaskList)
        return make_error(ErrorCode::invalid_request,
                          "limit is from 1 to " + std::to_string(kMaxTaskList));
    try {
        auto rows = db_.with_session([&](soci::session& s) {
            long long lim = limit;
            std::string where = kind.empty() ? " WHERE plugin_id = :p"
                                             : " WHERE plugin_id = :p "
                                               "AND kind = :k";
            return select_tasks(s, select_sql() + where + " ORDER BY id DESC LIMIT :lim",
                                [&](soci::statement& q) {
                                    q.exchange(soci::use(plugin, "p"));
                                    if (!kind.empty()) q.exchange(soci::use(kind, "k"));
                                    q.exchange(soci::use(lim, "lim"));
                                });
        });
        nlohmann::json out = nlohmann::json::array();
        for (auto& r : rows)
            out.push_back(std::move(r));
        return out;
    } catch (...) {
        return store::database_error("listing plugin tasks");
    }
}

void TaskRunner::beat() {
    try {
        db_.with_session([&](soci::session& s) {
            int64_t now_ms = unix_ms_now();
            std::string now = iso8601_utc(now_ms),
                        stale = iso8601_utc(now_ms - limits_.stale_after.count() * 1000);
            s << "UPDATE plugin_tasks SET heartbeat_at = :now WHERE instance_id = :i AND status "
                 "= 'running'",
                soci::use(now, "now"), soci::use(instance_id_, "i");
            s << "UPDATE plugin_tasks SET status = 'abandoned', error = 'the gateway instance "
                 "running it stopped', finished_at = :now WHERE status = 'running' AND "
                 "heartbeat_at < :stale",
                soci::use(now, "now"), soci::use(stale, "stale");
        });
    } catch (const std::exception& e) {
        MG_WARN("plugins", "task heartbeat failed: " << e.what());
    }
}

void TaskRunner::heartbeat_loop() {
    std::unique_lock lock(mu_);
    while (!stopping_.load()) {
        cv_.wait_for(lock, limits_.heartbeat, [this] { return stopping_.load(); });
        if (stopping_.load()) break;
        lock.unlock();
        beat();
        lock.lock();
    }
}

void TaskRunner::stop() {
    if (stopping_.exchange(true)) return;
    cv_.notify_all();
    if (heartbeat_.joinable()) heartbeat_.join();
    pool_.stop();  // running tasks end; queued ones are failed without running
    try {
        db_.with_session([&](soci::session& s) {
            std::string now = iso8601_utc(unix_ms_now());
            s << "UPDATE plugin_tasks SET status = 'abandoned', error = 'the gateway stopped', "
                 "finished_at = :now WHERE instance_id = :i AND status = 'running'",
                soci::use(now, "now"), soci::use(instance_id_, "i");
        });
    } catch (const std::exception& e) {
        MG_WARN("plugins", "marking unfinished tasks failed: " << e.what());
    }
}

}  // namespace modelgate::core::features

#include "store/scheduler_store.hpp"

#include <soci/soci.h>

#include "util/time.hpp"

namespace modelgate::core::store {

namespace {

// One scheduler_runs row as SOCI fills it.
struct RunRow {
    long long id = 0, rows = 0;
    SchedulerRunRecord r;

    static std::string columns(const Database& db) {
        return "id, task_name, slot, instance_id, trigger_kind, " + db.ts("started_at") + ", " +
               db.ts("heartbeat_at") + ", " + db.ts("finished_at") +
               ", outcome, rows_touched, summary, error, summary_key, summary_args";
    }
    void into(soci::statement& st) {
        st.exchange(soci::into(id));
        st.exchange(soci::into(r.task_name));
        st.exchange(soci::into(r.slot));
        st.exchange(soci::into(r.instance_id));
        st.exchange(soci::into(r.trigger));
        st.exchange(soci::into(r.started_at));
        st.exchange(soci::into(r.heartbeat_at));
        st.exchange(soci::into(r.finished_at));
        st.exchange(soci::into(r.outcome));
        st.exchange(soci::into(rows));
        st.exchange(soci::into(r.summary));
        st.exchange(soci::into(r.error));
        st.exchange(soci::into(r.summary_key));
        st.exchange(soci::into(r.summary_args));
    }
    SchedulerRunRecord get() const {
        SchedulerRunRecord out = r;
        out.id = id;
        out.rows_touched = rows;
        return out;
    }
};

// Runs a SELECT of run rows; where_and_order follows the FROM clause; bind adds
// the statement's parameters.
template <class Bind>
std::vector<SchedulerRunRecord> select_runs(soci::session& s, const Database& db,
                                            const std::string& where_and_order, Bind&& bind) {
    RunRow row;
    soci::statement st(s);
    row.into(st);
    bind(st);
    st.alloc();
    st.prepare("SELECT " + RunRow::columns(db) + " FROM scheduler_runs " + where_and_order);
    st.define_and_bind();
    st.execute(false);
    std::vector<SchedulerRunRecord> out;
    while (st.fetch())
        out.push_back(row.get());
    return out;
}

}  // namespace

Status SchedulerStore::save_task(const SchedulerTaskRecord& task, std::optional<bool> enabled) {
    try {
        int on = enabled.value_or(true) ? 1 : 0;
        std::string now = iso8601_now();
        db_.with_session([&](soci::session& s) {
            s << "INSERT INTO scheduler_tasks (name, owner, description, schedule, enabled, "
                 "updated_at) VALUES (:n, :o, :d, :s, :e, :now) ON CONFLICT (name) DO UPDATE SET "
                 "owner = excluded.owner, description = excluded.description, "
                 "schedule = excluded.schedule, updated_at = excluded.updated_at" +
                     std::string(enabled ? ", enabled = excluded.enabled" : ""),
                soci::use(task.name, "n"), soci::use(task.owner, "o"),
                soci::use(task.description, "d"), soci::use(task.schedule, "s"), soci::use(on, "e"),
                soci::use(now, "now");
        });
        return Ok{};
    } catch (...) {
        return database_error("saving a scheduler task");
    }
}

Result<std::map<std::string, SchedulerTaskRecord>> SchedulerStore::tasks() {
    try {
        std::map<std::string, SchedulerTaskRecord> out;
        db_.with_session([&](soci::session& s) {
            SchedulerTaskRecord t;
            int enabled = 1;
            soci::statement st =
                (s.prepare << "SELECT name, owner, description, schedule, "
                              "enabled, " +
                                  db_.ts("updated_at") + " FROM scheduler_tasks",
                 soci::into(t.name), soci::into(t.owner), soci::into(t.description),
                 soci::into(t.schedule), soci::into(enabled), soci::into(t.updated_at));
            st.execute();
            while (st.fetch()) {
                t.enabled = enabled != 0;
                out[t.name] = t;
            }
        });
        return out;
    } catch (...) {
        return database_error("reading scheduler tasks");
    }
}

Result<std::optional<bool>> SchedulerStore::task_enabled(const std::string& name) {
    try {
        std::optional<bool> out;
        db_.with_session([&](soci::session& s) {
            int enabled = 1;
            soci::statement st =
                (s.prepare << "SELECT enabled FROM scheduler_tasks WHERE name = :n",
                 soci::use(name, "n"), soci::into(enabled));
            if (st.execute(true)) out = enabled != 0;
        });
        return out;
    } catch (...) {
        return database_error("reading a scheduler task");
    }
}

Result<std::optional<int64_t>> SchedulerStore::claim(const std::string& task,
                                                     const std::string& slot,
                                                     const std::string& instance_id,
                                                     const std::string& trigger,
                                                     const std::string& now) {
    try {
        std::optional<int64_t> out;
        db_.with_session([&](soci::session& s) {
            long long id = 0;
            soci::statement st =
                (s.prepare << "INSERT INTO scheduler_runs (task_name, slot, instance_id, "
                              "trigger_kind, started_at, heartbeat_at, outcome) VALUES (:t, :s, "
                              ":i, :k, :now, :now2, 'running') ON CONFLICT (task_name, slot) DO "
                              "NOTHING RETURNING id",
                 soci::use(task, "t"), soci::use(slot, "s"), soci::use(instance_id, "i"),
                 soci::use(trigger, "k"), soci::use(now, "now"), soci::use(now, "now2"),
                 soci::into(id));
            if (st.execute(true)) out = static_cast<int64_t>(id);
        });
        return out;
    } catch (...) {
        return database_error("claiming a scheduler run");
    }
}

Status SchedulerStore::finish(int64_t id, const SchedulerRunEnd& end, const std::string& now) {
    try {
        long long run = id, touched = end.rows;
        db_.with_session([&](soci::session& s) {
            s << "UPDATE scheduler_runs SET outcome = :o, rows_touched = :r, summary = :s, "
                 "summary_key = :k, summary_args = :a, error = :e, finished_at = :now, "
                 "heartbeat_at = :now2 WHERE id = :id",
                soci::use(end.outcome, "o"), soci::use(touched, "r"), soci::use(end.summary, "s"),
                soci::use(end.summary_key, "k"), soci::use(end.summary_args, "a"),
                soci::use(end.error, "e"), soci::use(now, "now"), soci::use(now, "now2"),
                soci::use(run, "id");
        });
        return Ok{};
    } catch (...) {
        return database_error("recording the end of a scheduler run");
    }
}

Status SchedulerStore::heartbeat(const std::vector<int64_t>& ids, const std::string& now) {
    if (ids.empty()) return Ok{};
    std::string list;
    for (int64_t id : ids)
        list += (list.empty() ? "" : ",") + std::to_string(id);
    try {
        db_.with_session([&](soci::session& s) {
            s << "UPDATE scheduler_runs SET heartbeat_at = :now WHERE outcome = 'running' AND id "
                 "IN (" +
                     list + ")",
                soci::use(now, "now");
        });
        return Ok{};
    } catch (...) {
        return database_error("refreshing scheduler run heartbeats");
    }
}

Result<bool> SchedulerStore::has_live_run(const std::string& task, const std::string& since) {
    try {
        long long n = 0;
        db_.with_session([&](soci::session& s) {
            s << "SELECT COUNT(*) FROM scheduler_runs WHERE task_name = :t AND outcome = "
                 "'running' AND heartbeat_at >= :since",
                soci::use(task, "t"), soci::use(since, "since"), soci::into(n);
        });
        return n > 0;
    } catch (...) {
        return database_error("looking for a running scheduler run");
    }
}

Result<std::optional<SchedulerRunRecord>> SchedulerStore::run(int64_t id) {
    try {
        long long want = id;
        auto rows = db_.with_session([&](soci::session& s) {
            return select_runs(s, db_, "WHERE id = :id",
                               [&](soci::statement& st) { st.exchange(soci::use(want, "id")); });
        });
        if (rows.empty()) return std::optional<SchedulerRunRecord>();
        return std::optional<SchedulerRunRecord>(rows.front());
    } catch (...) {
        return database_error("reading a scheduler run");
    }
}

Result<std::map<std::string, SchedulerRunRecord>> SchedulerStore::last_runs() {
    try {
        auto rows = db_.with_session([&](soci::session& s) {
            return select_runs(
                s, db_, "WHERE id IN (SELECT MAX(id) FROM scheduler_runs GROUP BY task_name)",
                [](soci::statement&) {});
        });
        std::map<std::string, SchedulerRunRecord> out;
        for (auto& r : rows)
            out[r.task_name] = std::move(r);
        return out;
    } catch (...) {
        return database_error("reading the last scheduler runs");
    }
}

Result<SchedulerRunPage> SchedulerStore::runs(const std::string& task, int page, int page_size) {
    try {
        SchedulerRunPage out;
        long long limit = page_size, offset = static_cast<long long>(page - 1) * page_size;
        std::string where = task.empty() ? "" : "WHERE task_name = :t ";
        db_.with_session([&](soci::session& s) {
            long long total = 0;
            if (task.empty()) {
                s << "SELECT COUNT(*) FROM scheduler_runs", soci::into(total);
            } else {
                s << "SELECT COUNT(*) FROM scheduler_runs WHERE task_name = :t",
                    soci::use(task, "t"), soci::into(total);
            }
            out.total = total;
            out.runs = select_runs(s, db_, where + "ORDER BY id DESC LIMIT :lim OFFSET :off",
                                   [&](soci::statement& st) {
                                       if (!task.empty()) st.exchange(soci::use(task, "t"));
                                       st.exchange(soci::use(limit, "lim"));
                                       st.exchange(soci::use(offset, "off"));
                                   });
        });
        return out;
    } catch (...) {
        return database_error("reading scheduler runs");
    }
}

Result<int64_t> SchedulerStore::mark_abandoned(const std::string& stale_before,
                                               const std::string& error) {
    try {
        long long affected = 0;
        db_.with_session([&](soci::session& s) {
            soci::statement st =
                (s.prepare << "UPDATE scheduler_runs SET outcome = 'abandoned', finished_at = "
                              "heartbeat_at, error = :e WHERE outcome = 'running' AND "
                              "heartbeat_at < :stale",
                 soci::use(error, "e"), soci::use(stale_before, "stale"));
            st.execute(true);
            affected = st.get_affected_rows();
        });
        return static_cast<int64_t>(affected);
    } catch (...) {
        return database_error("marking abandoned scheduler runs");
    }
}

Result<int64_t> SchedulerStore::prune(const std::string& cutoff, int keep_per_task) {
    try {
        long long deleted = 0;
        db_.with_session([&](soci::session& s) {
            {
                soci::statement st =
                    (s.prepare << "DELETE FROM scheduler_runs WHERE started_at < :c",
                     soci::use(cutoff, "c"));
                st.execute(true);
                deleted += st.get_affected_rows();
            }
            int keep = keep_per_task;
            std::vector<std::string> crowded;
            soci::rowset<std::string> rs =
                (s.prepare << "SELECT task_name FROM scheduler_runs GROUP BY task_name HAVING "
                              "COUNT(*) > :k",
                 soci::use(keep, "k"));
            for (const auto& name : rs)
                crowded.push_back(name);
            for (const auto& name : crowded) {
                soci::statement st =
                    (s.prepare << "DELETE FROM scheduler_runs WHERE task_name = :t AND id <= "
                                  "(SELECT id FROM scheduler_runs WHERE task_name = :t2 ORDER "
                                  "BY id DESC LIMIT 1 OFFSET :k)",
                     soci::use(name, "t"), soci::use(name, "t2"), soci::use(keep, "k"));
                st.execute(true);
                deleted += st.get_affected_rows();
            }
        });
        return static_cast<int64_t>(deleted);
    } catch (...) {
        return database_error("pruning scheduler runs");
    }
}

}  // namespace modelgate::core::store

#include "store/log_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>

#include "util/json.hpp"
#include "util/redact.hpp"
#include "util/time.hpp"

namespace modelgate::core::store {

namespace {

// Bound variables of the insert statement, refilled for every record.
struct LogParams {
    std::string request_id, api_key_name, provider_name, model, requested_model, endpoint, status,
        client_ip, user_agent, created_at, updated_at;
    std::optional<long long> api_key_id, provider_id, prompt, completion, total;
    std::optional<int> upstream, downstream;
    std::optional<double> latency, ttft, queue;
    std::optional<std::string> usage, error;
    int stream = 0, estimated = 0;

    // Columns are bounded (VARCHAR(n) in PostgreSQL); a value a client chose
    // (model names, user agents) is clipped so one row can never fail a batch.
    void fill(const LogRecord& r) {
        request_id = clip_utf8(r.request_id, 40);
        api_key_id = r.api_key_id ? std::optional<long long>(*r.api_key_id) : std::nullopt;
        api_key_name = clip_utf8(r.api_key_name, 100);
        provider_id = r.provider_id ? std::optional<long long>(*r.provider_id) : std::nullopt;
        provider_name = clip_utf8(r.provider_name, 50);
        model = r.model.empty() ? std::string("unknown") : clip_utf8(r.model, 200);
        requested_model = clip_utf8(r.requested_model, 250);
        endpoint = clip_utf8(r.endpoint, 20);
        stream = r.stream ? 1 : 0;
        status = call_status_name(r.status);
        upstream = r.upstream_status;
        downstream = r.downstream_status;
        prompt = r.prompt_tokens ? std::optional<long long>(*r.prompt_tokens) : std::nullopt;
        completion =
            r.completion_tokens ? std::optional<long long>(*r.completion_tokens) : std::nullopt;
        total = r.total_tokens ? std::optional<long long>(*r.total_tokens) : std::nullopt;
        estimated = r.tokens_estimated ? 1 : 0;
        usage = r.usage_json.empty() ? std::nullopt : std::optional<std::string>(r.usage_json);
        latency = r.latency_ms;
        ttft = r.ttft_ms;
        queue = r.queue_ms;
        client_ip = clip_utf8(r.client_ip, 64);
        user_agent = clip_utf8(r.user_agent, 1024);
        error = r.error.empty() ? std::nullopt : std::optional<std::string>(r.error);
        created_at = iso8601_utc(r.created_at_ms);
        updated_at = iso8601_utc(r.updated_at_ms ? r.updated_at_ms : r.created_at_ms);
    }

    void bind(soci::statement& st) {
        st.exchange(soci::use(request_id, "rid"));
        st.exchange(soci::use(api_key_id, "kid"));
        st.exchange(soci::use(api_key_name, "kname"));
        st.exchange(soci::use(provider_id, "pid"));
        st.exchange(soci::use(provider_name, "pname"));
        st.exchange(soci::use(model, "model"));
        st.exchange(soci::use(requested_model, "rmodel"));
        st.exchange(soci::use(endpoint, "endpoint"));
        st.exchange(soci::use(stream, "stream"));
        st.exchange(soci::use(status, "status"));
        st.exchange(soci::use(upstream, "ups"));
        st.exchange(soci::use(downstream, "downs"));
        st.exchange(soci::use(prompt, "pt"));
        st.exchange(soci::use(completion, "ct"));
        st.exchange(soci::use(total, "tt"));
        st.exchange(soci::use(estimated, "est"));
        st.exchange(soci::use(usage, "usage"));
        st.exchange(soci::use(latency, "lat"));
        st.exchange(soci::use(ttft, "ttft"));
        st.exchange(soci::use(queue, "queue"));
        st.exchange(soci::use(client_ip, "ip"));
        st.exchange(soci::use(user_agent, "ua"));
        st.exchange(soci::use(error, "err"));
        st.exchange(soci::use(created_at, "cat"));
        st.exchange(soci::use(updated_at, "uat"));
    }
};

const char* kInsert =
    "INSERT INTO request_logs (request_id, api_key_id, api_key_name, provider_id, provider_name, "
    "model, "
    "requested_model, endpoint, is_stream, status, upstream_status_code, downstream_status_code, "
    "prompt_tokens, "
    "completion_tokens, total_tokens, tokens_estimated, usage, latency_ms, ttft_ms, queue_ms, "
    "client_ip, user_agent, "
    "error, created_at, updated_at) VALUES (:rid, :kid, :kname, :pid, :pname, :model, :rmodel, "
    ":endpoint, :stream, "
    ":status, :ups, :downs, :pt, :ct, :tt, :est, :usage, :lat, :ttft, :queue, :ip, :ua, :err, "
    ":cat, :uat) ";

const char* kOnConflictNothing = "ON CONFLICT (request_id) DO NOTHING";
const char* kOnConflictUpdate =
    "ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, "
    "upstream_status_code = excluded.upstream_status_code, downstream_status_code = "
    "excluded.downstream_status_code, "
    "prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens, "
    "total_tokens = excluded.total_tokens, tokens_estimated = excluded.tokens_estimated, usage = "
    "excluded.usage, "
    "latency_ms = excluded.latency_ms, ttft_ms = excluded.ttft_ms, queue_ms = excluded.queue_ms, "
    "error = excluded.error, updated_at = excluded.updated_at";

std::string escape_like(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

}  // namespace

struct LogStore::Writer {
    std::unique_ptr<soci::session> session;
    LogParams pending_params, final_params;
    std::unique_ptr<soci::statement> pending, final;

    explicit Writer(Database& db) : session(db.open_session()) {
        pending = prepare(pending_params, kOnConflictNothing);
        final = prepare(final_params, kOnConflictUpdate);
    }
    std::unique_ptr<soci::statement> prepare(LogParams& params, const char* conflict) {
        auto st = std::make_unique<soci::statement>(*session);
        params.bind(*st);
        st->alloc();
        st->prepare(std::string(kInsert) + conflict);
        st->define_and_bind();
        return st;
    }
};

LogStore::LogStore(Database& db) : db_(db) {}
LogStore::~LogStore() = default;

void LogStore::write_batch(const std::vector<LogRecord>& records) {
    if (records.empty()) return;
    try {
        if (!writer_) writer_ = std::make_unique<Writer>(db_);
        WriteTransaction tr(*writer_->session);
        for (const auto& r : records) {
            if (r.kind == LogRecord::Kind::pending) {
                writer_->pending_params.fill(r);
                writer_->pending->execute(true);
            } else {
                writer_->final_params.fill(r);
                writer_->final->execute(true);
            }
        }
        tr.commit();
    } catch (...) {
        writer_.reset();  // reconnect and prepare again next time
        throw;
    }
}

Result<std::pair<std::vector<LogStore::AgentCount>, int64_t>> LogStore::top_user_agents(
    int64_t since_ms, int limit) {
    try {
        std::pair<std::vector<AgentCount>, int64_t> out;
        std::string since = iso8601_utc(since_ms);
        long long lim = limit;
        db_.with_session([&](soci::session& s) {
            long long total = 0;
            s << "SELECT COUNT(*) FROM request_logs WHERE created_at >= :since AND api_key_id IS "
                 "NOT NULL",
                soci::use(since, "since"), soci::into(total);
            out.second = total;
            std::string agent;
            long long count = 0;
            soci::statement st =
                (s.prepare << "SELECT COALESCE(user_agent, ''), COUNT(*) FROM request_logs "
                              "WHERE created_at >= :since AND api_key_id IS NOT NULL "
                              "GROUP BY COALESCE(user_agent, '') "
                              "ORDER BY COUNT(*) DESC, COALESCE(user_agent, '') LIMIT :lim",
                 soci::use(since, "since"), soci::use(lim, "lim"), soci::into(agent),
                 soci::into(count));
            st.execute();
            while (st.fetch())
                out.first.push_back(AgentCount{agent, count});
        });
        return out;
    } catch (...) {
        return database_error("counting client user agents");
    }
}

namespace {

// How a key_name filter matches: the exact name (an index range), or a
// case-insensitive substring when no row has that exact name.
enum class KeyMatch { exact, substring };

// The WHERE clause of a log query and the values bound to it. SOCI binds by
// reference, so the values live here until the statements have run.
class LogFilter {
  public:
    LogFilter(const LogQuery& q, const Database& db, KeyMatch key_match = KeyMatch::exact) {
        const std::string like = db.ilike();
        if (!q.key_name.empty() && key_match == KeyMatch::exact) {
            add(" AND api_key_name = :kname");
            text("kname", q.key_name);
        } else if (!q.key_name.empty()) {
            add(" AND api_key_name " + like + " :kname_like ESCAPE '\\'");
            text("kname_like", "%" + escape_like(q.key_name) + "%");
        }
        if (!q.model.empty()) {
            add(" AND (model " + like + " :model ESCAPE '\\' OR requested_model " + like +
                " :model2 ESCAPE '\\')");
            text("model", "%" + escape_like(q.model) + "%");
            text("model2", "%" + escape_like(q.model) + "%");
        }
        if (q.provider_id) {
            add(" AND provider_id = :pid");
            number("pid", *q.provider_id);
        }
        if (!q.status.empty()) {
            add(" AND status = :status");
            text("status", q.status);
        }
        if (!q.statuses.empty()) {
            std::string in;
            for (std::size_t i = 0; i < q.statuses.size(); ++i) {
                std::string name = "st" + std::to_string(i);
                in += (i ? ", :" : ":") + name;
                text(name, q.statuses[i]);
            }
            add(" AND status IN (" + in + ")");
        }
        if (q.api_key_id) {
            add(" AND api_key_id = :kid");
            number("kid", *q.api_key_id);
        }
        if (q.min_latency_ms) {
            add(" AND latency_ms >= :minlat");
            number("minlat", static_cast<long long>(*q.min_latency_ms));
        }
        if (!q.request_id.empty()) {
            add(" AND request_id = :rid");
            text("rid", q.request_id);
        }
        if (q.from_ms) {
            add(" AND created_at >= :from");
            text("from", iso8601_utc(*q.from_ms));
        }
        if (q.to_ms) {
            add(" AND created_at <= :to");
            text("to", iso8601_utc(*q.to_ms));
        }
    }
    const std::string& where() const { return where_; }
    void bind(soci::statement& st) {
        for (auto& b : binds_) {
            if (b.is_text)
                st.exchange(soci::use(texts_[b.slot], b.name));
            else
                st.exchange(soci::use(numbers_[b.slot], b.name));
        }
    }

  private:
    struct Bind {
        bool is_text;
        std::size_t slot;
        std::string name;
    };
    void add(const std::string& condition) { where_ += condition; }
    void text(const std::string& name, std::string v) {
        texts_.push_back(std::move(v));
        binds_.push_back({true, texts_.size() - 1, name});
    }
    void number(const std::string& name, long long v) {
        numbers_.push_back(v);
        binds_.push_back({false, numbers_.size() - 1, name});
    }
    std::string where_ = " WHERE 1 = 1";
    std::deque<std::string> texts_;
    std::deque<long long> numbers_;
    std::vector<Bind> binds_;
};

// One row of request_logs_all as the admin API shows it.
struct LogRow {
    long long id = 0;
    std::string request_id, model, endpoint, status, created_at, updated_at;
    std::optional<std::string> key_name, provider_name, requested_model, usage, client_ip,
        user_agent, error;
    std::optional<long long> key_id, provider_id, prompt, completion, total;
    std::optional<int> upstream, downstream;
    std::optional<double> latency, ttft, queue;
    int stream = 0, estimated = 0;

    static std::string columns(const Database& db) {
        std::string usage_col = db.dialect() == Dialect::postgresql ? "usage::text" : "usage";
        return "id, request_id, api_key_id, api_key_name, provider_id, provider_name, model, "
               "requested_model, endpoint, is_stream, status, upstream_status_code, "
               "downstream_status_code, prompt_tokens, completion_tokens, total_tokens, "
               "tokens_estimated, " +
               usage_col + ", latency_ms, ttft_ms, queue_ms, client_ip, user_agent, error, " +
               db.ts("created_at") + ", " + db.ts("updated_at");
    }
    // In the order of columns().
    void into(soci::statement& st) {
        st.exchange(soci::into(id));
        st.exchange(soci::into(request_id));
        st.exchange(soci::into(key_id));
        st.exchange(soci::into(key_name));
        st.exchange(soci::into(provider_id));
        st.exchange(soci::into(provider_name));
        st.exchange(soci::into(model));
        st.exchange(soci::into(requested_model));
        st.exchange(soci::into(endpoint));
        st.exchange(soci::into(stream));
        st.exchange(soci::into(status));
        st.exchange(soci::into(upstream));
        st.exchange(soci::into(downstream));
        st.exchange(soci::into(prompt));
        st.exchange(soci::into(completion));
        st.exchange(soci::into(total));
        st.exchange(soci::into(estimated));
        st.exchange(soci::into(usage));
        st.exchange(soci::into(latency));
        st.exchange(soci::into(ttft));
        st.exchange(soci::into(queue));
        st.exchange(soci::into(client_ip));
        st.exchange(soci::into(user_agent));
        st.exchange(soci::into(error));
        st.exchange(soci::into(created_at));
        st.exchange(soci::into(updated_at));
    }
    nlohmann::json json() const {
        auto opt = [](const auto& o) -> nlohmann::json {
            return o ? nlohmann::json(*o) : nlohmann::json(nullptr);
        };
        nlohmann::json usage_json = nullptr;
        if (usage) {
            usage_json = parse_json(*usage);
            if (usage_json.is_discarded()) usage_json = nullptr;
        }
        return {{"id", id},
                {"request_id", request_id},
                {"api_key_id", opt(key_id)},
                {"api_key_name", opt(key_name)},
                {"provider_id", opt(provider_id)},
                {"provider_name", opt(provider_name)},
                {"model", model},
                {"requested_model", opt(requested_model)},
                {"endpoint", endpoint},
                {"stream", stream != 0},
                {"status", status},
                {"upstream_status_code", opt(upstream)},
                {"downstream_status_code", opt(downstream)},
                {"prompt_tokens", opt(prompt)},
                {"completion_tokens", opt(completion)},
                {"total_tokens", opt(total)},
                {"tokens_estimated", estimated != 0},
                {"usage", usage_json},
                {"latency_ms", opt(latency)},
                {"ttft_ms", opt(ttft)},
                {"queue_ms", opt(queue)},
                {"client_ip", opt(client_ip)},
                {"user_agent", opt(user_agent)},
                {"error", opt(error)},
                {"created_at", created_at},
                {"updated_at", updated_at}};
    }
};

// SELECT COUNT(*) over `from` (a FROM clause target with the filter's WHERE).
int64_t count_where(soci::session& s, LogFilter& filter, const std::string& from) {
    long long total = 0;
    soci::statement st(s);
    st.exchange(soci::into(total));
    filter.bind(st);
    st.alloc();
    st.prepare("SELECT COUNT(*) FROM " + from);
    st.define_and_bind();
    st.execute(true);
    return total;
}

// Counted per table: SQLite runs the request_logs_all view as a co-routine that
// yields every column of every row, so a count through it read the rows (230 ms
// for a day of 167,000 rows) where the tables' own indexes cover it (17 ms).
int64_t count_logs(soci::session& s, LogFilter& filter) {
    return count_where(s, filter,
                       "(SELECT 1 FROM request_logs" + filter.where() +
                           " UNION ALL SELECT 1 FROM request_logs_history" + filter.where() +
                           ") matching");
}

// True when some row passes the filter (one index probe, not a count).
bool any_logs(soci::session& s, LogFilter& filter) {
    return count_where(s, filter,
                       "(SELECT 1 FROM request_logs_all" + filter.where() + " LIMIT 1) probe") > 0;
}

std::vector<nlohmann::json> select_logs(soci::session& s, const Database& db, LogFilter& filter,
                                        const LogQuery& q) {
    LogRow row;
    long long limit = q.page_size, offset = static_cast<long long>(q.page - 1) * q.page_size;
    soci::statement st(s);
    row.into(st);
    filter.bind(st);
    st.exchange(soci::use(limit, "lim"));
    st.exchange(soci::use(offset, "off"));
    st.alloc();
    const char* order = q.order == LogQuery::Order::oldest ? " ORDER BY created_at, id"
                        : q.order == LogQuery::Order::slowest
                            ? " ORDER BY latency_ms DESC, id DESC"
                            : " ORDER BY created_at DESC, id DESC";
    st.prepare("SELECT " + LogRow::columns(db) + " FROM request_logs_all" + filter.where() + order +
               " LIMIT :lim OFFSET :off");
    st.define_and_bind();
    st.execute(false);
    std::vector<nlohmann::json> out;
    while (st.fetch())
        out.push_back(row.json());
    return out;
}

}  // namespace

Result<LogPage> LogStore::query(const LogQuery& q) {
    try {
        LogPage page;
        db_.with_session([&](soci::session& s) {
            LogFilter exact(q, db_, KeyMatch::exact);
            std::optional<LogFilter> substring;
            if (!q.key_name.empty() && !any_logs(s, exact))
                substring.emplace(q, db_, KeyMatch::substring);
            LogFilter& filter = substring ? *substring : exact;
            page.total = q.count_total ? count_logs(s, filter) : -1;
            for (auto& row : select_logs(s, db_, filter, q))
                page.logs.push_back(std::move(row));
        });
        return page;
    } catch (...) {
        return database_error("querying request logs");
    }
}

Result<int64_t> LogStore::expire_pending(int64_t max_age_ms) {
    try {
        long long affected = 0;
        std::string cutoff = iso8601_utc(unix_ms_now() - max_age_ms);
        std::string now = iso8601_now();
        db_.with_session([&](soci::session& s) {
            soci::statement st =
                (s.prepare
                     << "UPDATE request_logs SET status = 'timeout', "
                        "error = 'no final status was recorded (the gateway stopped mid-call)', "
                        "updated_at = :now WHERE status = 'pending' AND created_at < :cutoff",
                 soci::use(now, "now"), soci::use(cutoff, "cutoff"));
            st.execute(true);
            affected = st.get_affected_rows();
        });
        return static_cast<int64_t>(affected);
    } catch (...) {
        return database_error("expiring stale pending logs");
    }
}

namespace {

constexpr const char* kLogColumns =
    "id, request_id, api_key_id, api_key_name, provider_id, provider_name, model, "
    "requested_model, endpoint, is_stream, status, upstream_status_code, "
    "downstream_status_code, prompt_tokens, completion_tokens, total_tokens, tokens_estimated, "
    "usage, latency_ms, ttft_ms, queue_ms, client_ip, user_agent, error, created_at, updated_at";

}  // namespace

Result<LogStore::ArchiveReport> LogStore::archive(int64_t cutoff_ms, int batch_rows,
                                                  const std::function<void(int)>& after_copy) {
    ArchiveReport report;
    std::string cutoff = iso8601_utc(cutoff_ms);
    long long step = std::max(batch_rows, 1);
    std::string month = db_.dialect() == Dialect::postgresql
                            ? "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
                            : "substr(created_at, 1, 7)";
    std::string old_rows =
        " FROM request_logs WHERE id >= :lo AND id < :hi AND created_at < "
        ":cutoff AND status <> 'pending'";
    std::string copy = std::string("INSERT INTO request_logs_history (") + kLogColumns +
                       ", archive_month) SELECT " + kLogColumns + ", " + month + old_rows +
                       " ON CONFLICT (id) DO NOTHING";
    std::string remove = "DELETE" + old_rows +
                         " AND id IN (SELECT id FROM request_logs_history WHERE id >= :lo2 AND "
                         "id < :hi2)";
    try {
        std::optional<long long> first, last;
        db_.with_session([&](soci::session& s) {
            s << "SELECT MIN(id), MAX(id) FROM request_logs WHERE created_at < :c",
                soci::use(cutoff, "c"), soci::into(first), soci::into(last);
        });
        if (!first || !last) return report;
        for (long long lo = *first; lo <= *last; lo += step) {
            long long hi = lo + step;
            db_.with_session([&](soci::session& s) {
                WriteTransaction tx(s);
                s << copy, soci::use(lo, "lo"), soci::use(hi, "hi"), soci::use(cutoff, "cutoff");
                if (after_copy) after_copy(report.batches);
                soci::statement st =
                    (s.prepare << remove, soci::use(lo, "lo"), soci::use(hi, "hi"),
                     soci::use(cutoff, "cutoff"), soci::use(lo, "lo2"), soci::use(hi, "hi2"));
                st.execute(true);
                long long moved = st.get_affected_rows();
                tx.commit();
                report.moved += moved;
            });
            ++report.batches;
        }
        return report;
    } catch (...) {
        return database_error("archiving request logs");
    }
}

Result<int64_t> LogStore::purge_history(int64_t cutoff_ms, int batch_rows) {
    std::string cutoff = iso8601_utc(cutoff_ms);
    long long limit = std::max(batch_rows, 1);
    int64_t total = 0;
    try {
        for (;;) {
            long long affected = 0;
            db_.with_session([&](soci::session& s) {
                soci::statement st =
                    (s.prepare << "DELETE FROM request_logs_history WHERE id IN (SELECT id FROM "
                                  "request_logs_history WHERE created_at < :c LIMIT :n)",
                     soci::use(cutoff, "c"), soci::use(limit, "n"));
                st.execute(true);
                affected = st.get_affected_rows();
            });
            total += affected;
            if (affected < limit) return total;
        }
    } catch (...) {
        return database_error("purging archived request logs");
    }
}

Result<nlohmann::json> LogStore::activity(int64_t now_ms) {
    try {
        nlohmann::json j;
        db_.with_session([&](soci::session& s) {
            std::string since10 = iso8601_utc(now_ms - 10000),
                        since60 = iso8601_utc(now_ms - 60000),
                        since_hour = iso8601_utc(now_ms - 3600000);
            long long n10 = 0, n60 = 0, keys60 = 0, seconds10 = 0;
            s << "SELECT COUNT(*) FROM request_logs WHERE created_at >= :s",
                soci::use(since10, "s"), soci::into(n10);
            // Distinct seconds with calls: a burst is not spread over the window.
            std::string second = db_.dialect() == Dialect::postgresql
                                     ? "date_trunc('second', created_at)"
                                     : "substr(created_at, 1, 19)";
            s << "SELECT COUNT(DISTINCT " + second + ") FROM request_logs WHERE created_at >= :s",
                soci::use(since10, "s"), soci::into(seconds10);
            s << "SELECT COUNT(*), COUNT(DISTINCT api_key_id) FROM request_logs WHERE "
                 "created_at >= :s",
                soci::use(since60, "s"), soci::into(n60), soci::into(keys60);
            std::optional<double> tps;
            // The status test stays out of WHERE: on SQLite it would pick the
            // status index and walk every successful call.
            s << "SELECT AVG(CASE WHEN status = 'success' AND total_tokens > 0 AND latency_ms "
                 "> 0 THEN total_tokens * 1000.0 / latency_ms END) FROM request_logs WHERE "
                 "created_at >= :h AND updated_at >= :s",
                soci::use(since_hour, "h"), soci::use(since10, "s"), soci::into(tps);
            j["requests_last_10s"] = n10;
            j["requests_per_second"] =
                std::round(static_cast<double>(n10) / std::max<long long>(seconds10, 1) * 10) / 10;
            j["requests_per_minute"] = n60;
            j["active_keys_last_minute"] = keys60;
            j["tokens_per_second"] = tps ? std::round(*tps * 10) / 10 : 0.0;

            long long key_id = 0, count = 0;
            std::string provider, model, first, last;
            std::optional<std::string> key_name;
            soci::statement st =
                (s.prepare << "SELECT COALESCE(api_key_id, 0), MAX(api_key_name), "
                              "COALESCE(provider_name, ''), model, COUNT(*), " +
                                  db_.ts("MIN(created_at)") + ", " + db_.ts("MAX(created_at)") +
                                  " FROM request_logs WHERE status = 'pending' AND created_at >= "
                                  ":h GROUP BY COALESCE(api_key_id, 0), COALESCE(provider_name, "
                                  "''), model",
                 soci::use(since_hour, "h"), soci::into(key_id), soci::into(key_name),
                 soci::into(provider), soci::into(model), soci::into(count), soci::into(first),
                 soci::into(last));
            st.execute(false);
            nlohmann::json sessions = nlohmann::json::object();
            long long active = 0;
            while (st.fetch()) {
                std::string name = key_name && !key_name->empty() ? *key_name
                                   : key_id == 0                  ? std::string("Unknown")
                                                 : "Deleted key #" + std::to_string(key_id);
                auto& session = sessions[name];
                if (session.is_null()) {
                    session = {{"api_key_id", key_id},
                               {"requests", 0},
                               {"models", nlohmann::json::object()},
                               {"first_activity", first},
                               {"last_activity", last}};
                }
                session["requests"] = session["requests"].get<long long>() + count;
                session["models"][provider.empty() ? model : provider + "/" + model] = count;
                if (first < session["first_activity"].get<std::string>())
                    session["first_activity"] = first;
                if (last > session["last_activity"].get<std::string>())
                    session["last_activity"] = last;
                active += count;
                key_name.reset();
            }
            j["active_requests"] = active;
            j["active_users"] = sessions.size();
            j["sessions"] = std::move(sessions);
        });
        return j;
    } catch (...) {
        return database_error("reading current activity");
    }
}

}  // namespace modelgate::core::store

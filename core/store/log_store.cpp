#include "store/log_store.hpp"

#include <soci/soci.h>

#include <deque>

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

// The WHERE clause of a log query and the values bound to it. SOCI binds by
// reference, so the values live here until the statements have run.
class LogFilter {
  public:
    LogFilter(const LogQuery& q, const Database& db) {
        const std::string like = db.ilike();
        if (!q.key_name.empty()) {
            add(" AND (api_key_name = :kname OR api_key_name " + like +
                " :kname_like ESCAPE '\\')");
            text("kname", q.key_name);
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

int64_t count_logs(soci::session& s, LogFilter& filter) {
    long long total = 0;
    soci::statement st(s);
    st.exchange(soci::into(total));
    filter.bind(st);
    st.alloc();
    st.prepare("SELECT COUNT(*) FROM request_logs_all" + filter.where());
    st.define_and_bind();
    st.execute(true);
    return total;
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
    st.prepare("SELECT " + LogRow::columns(db) + " FROM request_logs_all" + filter.where() +
               " ORDER BY created_at DESC, id DESC LIMIT :lim OFFSET :off");
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
        LogFilter filter(q, db_);
        db_.with_session([&](soci::session& s) {
            page.total = count_logs(s, filter);
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

}  // namespace modelgate::core::store

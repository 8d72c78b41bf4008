#include "app/app.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "domain/api_key_auth.hpp"
#include "domain/model_sync.hpp"
#include "domain/provider_keys.hpp"
#include "features/host_services.hpp"
#include "util/log.hpp"

#ifndef MODELGATE_VERSION
#define MODELGATE_VERSION "dev"
#endif
#ifndef MODELGATE_DEFAULT_PLUGIN_DIR
#define MODELGATE_DEFAULT_PLUGIN_DIR "plugins"
#endif
#ifndef MODELGATE_DEFAULT_LOCALES_DIR
#define MODELGATE_DEFAULT_LOCALES_DIR "locales"
#endif

namespace modelgate::core {

namespace {

// Who ran a scheduled job, for the run history: the host, the process and a
// random part (a restarted process on the same host differs).
std::string scheduler_instance_id() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "host");
    return std::string(host).substr(0, 60) + ":" + std::to_string(::getpid()) + ":" +
           crypto::random_hex(4);
}

}  // namespace

std::string version_string() {
    return MODELGATE_VERSION;
}

int64_t stale_pending_ms(const Snapshot& snapshot) {
    int64_t longest = 0;
    for (const auto& [name, p] : snapshot.providers)
        longest = std::max<int64_t>(longest, int64_t{p->queue_timeout_ms} + p->total_timeout_ms);
    return longest + 60000;
}

App::App(Config config) : config_(std::move(config)) {}

App::~App() {
    stop();
}

void App::prepare_data_dir() {
    std::error_code ec;
    std::filesystem::create_directories(config_.data_dir, ec);
    if (ec)
        throw std::runtime_error("cannot create the data folder " + config_.data_dir + ": " +
                                 ec.message());
}

std::string App::load_master_key() {
    if (!config_.master_key.empty()) return config_.master_key;
    std::string path = config_.data_dir + "/master.key";
    std::ifstream in(path, std::ios::binary);
    if (in) {
        std::string hex((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' '))
            hex.pop_back();
        auto key = crypto::hex_decode(hex);
        if (!key || key->size() != 32)
            throw std::runtime_error(path + " does not hold a 32-byte hex key");
        return *key;
    }
    std::string hex = crypto::random_hex(32);
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write the master key to " + path);
        out << hex << "\n";
    }
    ::chmod(path.c_str(), 0600);
    MG_INFO("app", "generated a master key for upstream secrets in "
                       << path << " (set MODELGATE_MASTER_KEY to share one)");
    return *crypto::hex_decode(hex);
}

void App::start() {
    if (started_) return;
    started_at_ms_ = unix_ms_now();
    auto t0 = SteadyClock::now();
    apply_process_settings();
    prepare_data_dir();
    secrets_ = std::make_unique<crypto::SecretBox>(load_master_key());
    open_database();
    load_plugins_and_configuration();
    start_services();
    build_routes();
    start_scheduler_and_features();
    start_server();
    started_ = true;
    print_banner(ms_between(t0, SteadyClock::now()));
}

void App::apply_process_settings() {
    log::Level level;
    if (!log::parse_level(config_.log_level, level)) {
        throw std::runtime_error("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got '" +
                                 config_.log_level + "'");
    }
    log::set_level(level);
    if (!config_.log_file.empty() && !log::set_file(config_.log_file)) {
        throw std::runtime_error("cannot open the log file " + config_.log_file);
    }
    if (!config_.timezone.empty()) {
        ::setenv("TZ", config_.timezone.c_str(), 1);
        ::tzset();
    }
}

void App::open_database() {
    auto url = store::parse_database_url(config_.effective_database_url());
    if (!url) throw std::runtime_error(url.error().message);
    try {
        db_ = std::make_unique<store::Database>(url.value(), config_.db_pool_size);
        db_->migrate();
    } catch (const std::exception& e) {
        throw std::runtime_error("cannot open the database " + url->display + ": " + e.what());
    }
    config_store_ = std::make_unique<store::ConfigStore>(*db_);
    log_store_ = std::make_unique<store::LogStore>(*db_);
    stats_store_ = std::make_unique<store::StatsStore>(*db_);
    stats_ = std::make_unique<stats::StatsService>(*stats_store_);
    aggregator_ =
        std::make_unique<stats::Aggregator>(*stats_store_, config_.history_retention_days);
}

void App::load_plugins_and_configuration() {
    plugins_ = std::make_unique<plugins::PluginHost>();
    plugins_->load_directory(config_.plugin_dir.empty() ? MODELGATE_DEFAULT_PLUGIN_DIR
                                                        : config_.plugin_dir);
    catalogs_.load(config_.locales_dir.empty() ? MODELGATE_DEFAULT_LOCALES_DIR
                                               : config_.locales_dir);
    // A plugin's own catalogs: <library stem>.locales/<lang>.json beside it.
    for (const auto& p : plugins_->loaded()) {
        std::filesystem::path lib(p->file);
        auto dir = lib.parent_path() / (lib.stem().string() + ".locales");
        std::error_code ec;
        if (std::filesystem::is_directory(dir, ec)) {
            std::size_t n = catalogs_.merge(dir.string(), p->id);
            MG_INFO("i18n", "plugin " << p->id << ": " << n << " catalog entries");
        }
    }

    if (auto st = adopt_legacy_provider_keys(*config_store_, *secrets_); !st)
        throw std::runtime_error("cannot move provider keys: " + st.error().message);
    if (auto st = refresh_provider_key_fingerprints(*config_store_, *secrets_); !st)
        throw std::runtime_error("cannot refresh provider key fingerprints: " + st.error().message);
    timers_ = std::make_unique<TimerService>();
    cache_ = std::make_unique<ConfigCache>(*config_store_, *plugins_, *secrets_, *timers_,
                                           "modelgate/" + version_string());
    cache_->set_pause_handler(
        [this](int64_t provider_id, int64_t key_id, const std::string& model,
               const KeyPool::Pause& pause) { persist_pause(provider_id, key_id, model, pause); });
    if (auto st = cache_->reload(); !st)
        throw std::runtime_error("cannot load the configuration: " + st.error().message);
    cache_->start_polling(std::chrono::seconds(5));
}

void App::start_services() {
    log_sink_ = std::make_unique<RequestLogSink>(*log_store_, *config_store_);
    LogWriterOptions lw;
    lw.batch_max = static_cast<std::size_t>(config_.log_batch_max);
    lw.flush_interval = std::chrono::milliseconds(config_.log_flush_ms);
    lw.memory_limit = config_.log_memory_limit;
    lw.spill_path = config_.spill_file();
    log_writer_ = std::make_unique<LogWriter>(*log_sink_, lw);
    log_writer_->start();

    loop_ = std::make_unique<upstream::UpstreamPool>(config_.upstream_threads);
    loop_->start();
    workers_ = std::make_unique<ThreadPool>(config_.worker_threads, "workers");
    cpu_ = std::make_unique<ThreadPool>(std::max(1u, std::thread::hardware_concurrency()), "cpu");
    health_ = std::make_unique<HealthMonitor>(*db_);
    health_->start();
    admin_auth_ = std::make_unique<auth::AdminAuth>(config_.admins, *db_);
    // Built here for the admin routes; jobs are registered and it starts later.
    scheduler_ = std::make_unique<Scheduler>(*db_, *workers_, scheduler_instance_id());
    tasks_ = std::make_unique<features::TaskRunner>(*db_, scheduler_->instance_id());

    proxy::ProxyOptions po;
    po.max_body_bytes = config_.max_body_bytes;
    po.max_messages = config_.max_messages;
    proxy_ = std::make_unique<proxy::ProxyService>(*cache_, *loop_, *log_writer_, metrics_, *cpu_,
                                                   *timers_, po);
}

void App::build_routes() {
    server_state_ = std::make_shared<http::ServerState>(config_.trusted_proxies);
    http::Router& router = server_state_->router;
    proxy_->register_routes(router);
    admin_api_ = std::make_unique<admin::AdminApi>(
        admin::AdminContext{config_, *db_, *config_store_, *log_store_, *cache_, *admin_auth_,
                            *plugins_, *secrets_, *workers_, *loop_, *scheduler_, *stats_store_,
                            *stats_, *aggregator_, *timers_, catalogs_, *tasks_});
    admin_api_->register_routes(router);
    register_ops_routes(router);
}

void App::start_scheduler_and_features() {
    register_builtin_jobs();
    register_stats_jobs();
    feature_host_ = std::make_unique<features::HostServices>(features::HostDeps{
        server_state_->router, *cache_, *admin_auth_, *workers_, *db_, *scheduler_, *proxy_,
        catalogs_, *secrets_, config_.data_dir, config_.base_path, *tasks_, *loop_,
        [this](std::string_view target, const std::string& caller) {
            admin::AdminResponse r = admin_api_->internal_get(target, caller);
            return std::pair<int, std::string>{r.status, r.body.dump()};
        }});
    // Plugins migrate their tables in init (and older ones create them there,
    // where "CREATE TABLE IF NOT EXISTS" races on PostgreSQL when two instances
    // start together): one instance at a time.
    constexpr int64_t kFeatureInitLock = 7305149;  // migrations use 7305148
    db_->one_instance_at_a_time(kFeatureInitLock,
                                [this] { plugins_->init_features(*feature_host_); });
    feature_host_->close_registrations();
    scheduler_->start();
}

void App::start_server() {
    http::ServerOptions so;
    so.host = config_.host;
    so.port = config_.port;
    so.threads = config_.reactor_threads;
    so.max_body_bytes = config_.max_body_bytes;
    so.max_buffered_bytes = config_.max_buffered_bytes;
    // Each proxied call needs a second descriptor upstream; keep room for the
    // database, plugins and logs too.
    std::size_t files = raise_open_files_limit();
    so.max_connections = std::min(config_.max_connections, files > 1024 ? files - 512 : files / 2);
    so.base_path = config_.base_path;
    so.header_timeout = std::chrono::milliseconds(config_.http_header_timeout_ms);
    so.body_timeout = std::chrono::milliseconds(config_.http_body_timeout_ms);
    so.keep_alive_timeout = std::chrono::milliseconds(config_.http_idle_timeout_ms);
    server_ = std::make_unique<http::HttpServer>(so, server_state_);
    server_->start();
}

void App::print_banner(double start_ms) {
    std::string host = config_.host == "0.0.0.0" ? "localhost" : config_.host;
    std::string base = "http://" + host + ":" + std::to_string(port()) + config_.base_path;
    MG_INFO("app", "ModelGate " << version_string() << " listening on " << config_.host << ":"
                                << port() << " (" << db_->url().display << ", "
                                << plugins_->loaded().size() << " plugins, started in "
                                << static_cast<int>(start_ms) << " ms)");
    std::cout << "\nModelGate " << version_string() << " is running.\n"
              << "  OpenAI-compatible API: " << base << "/v1\n"
              << "  Admin API login:       POST " << base << "/admin/api/auth/login\n"
              << "  Health:                " << base << "/healthz\n";
    if (config_.admin_password_generated) {
        std::cout
            << "  No admin configured (ADMIN_USERS / ADMIN_PASSWORD); for this run log in as\n"
            << "    username: " << config_.admins.front().username << "\n"
            << "    password: " << config_.admins.front().password << "\n";
    }
    std::cout << std::endl;
}

void App::persist_pause(int64_t provider_id, int64_t key_id, const std::string& model,
                        const KeyPool::Pause& pause) {
    // Called on an upstream thread: the database write goes to a worker. The
    // pause already holds in memory; this keeps it across restarts and tells
    // other instances (the write bumps the configuration version).
    ThreadPool* workers = workers_.get();
    if (workers == nullptr) return;
    workers->post([this, provider_id, key_id, model, pause] {
        std::lock_guard lock(cache_->pause_write_mutex());
        if (pause.until_ms > 0 && !pause_still_holds(provider_id, key_id, model, pause.until_ms))
            return;  // an admin ended it meanwhile: nothing to record
        if (pause.until_ms == 0 && pause_still_holds(provider_id, key_id, model, unix_ms_now()))
            return;  // paused again since the success: the newer pause is on its way
        std::optional<std::string> until;
        if (pause.until_ms > 0) until = iso8601_utc(pause.until_ms);
        Status st = Ok{};
        if (!model.empty() && until) {
            st = config_store_->set_model_pause(
                {provider_id, key_id, model, *until, pause.reason, pause.strikes, pause.length_ms});
        } else if (!model.empty()) {
            st = config_store_->clear_model_pauses(provider_id, key_id, model);
        } else if (key_id == 0) {
            st = config_store_->set_provider_pause(provider_id, until, pause.reason);
        } else {
            st = config_store_->set_key_pause(key_id, until, pause.reason);
        }
        if (!st)
            MG_WARN("app", "could not record the pause of provider "
                               << provider_id << " key " << key_id
                               << (model.empty() ? "" : " model " + model) << ": "
                               << st.error().message);
    });
}

bool App::pause_still_holds(int64_t provider_id, int64_t key_id, const std::string& model,
                            int64_t until_ms) const {
    auto pool = cache_->key_pool(provider_id);
    if (!pool) return true;
    auto states = pool->states();
    auto it = states.find(key_id);
    if (it == states.end()) return false;
    for (const auto& p : it->second.pauses) {
        if (p.model == model && p.until_ms >= until_ms) return true;
    }
    return false;
}

std::string App::job_description(const std::string& job) const {
    return catalogs_.text("en", job_text_key("core", job, "description"));
}

JobOutcome App::job_outcome(const std::string& job, const char* what,
                            std::map<std::string, std::string> args, int64_t rows) const {
    JobOutcome out;
    out.text_key = job_text_key("core", job, what);
    out.summary = catalogs_.format("en", out.text_key, args);
    out.text_args = std::move(args);
    out.rows = rows;
    return out;
}

void App::register_builtin_jobs() {
    // Calls that were pending when an instance died never get a final record from
    // it. A row's clock starts when the call arrived, so no live call is older
    // than the longest queue wait plus the longest total timeout of any
    // provider; a minute after that it is stale (docs/operations.md).
    scheduler_->add("cleanup_stale_pending", "core", job_description("cleanup_stale_pending"),
                    std::chrono::minutes(10), [this]() -> JobOutcome {
                        auto n = log_store_->expire_pending(stale_pending_ms(*cache_->current()));
                        if (!n) throw std::runtime_error(n.error().message);
                        return job_outcome("cleanup_stale_pending", "summary",
                                           {{"rows", std::to_string(n.value())}}, n.value());
                    });
    if (config_.model_sync_minutes > 0) {
        scheduler_->add(
            "sync_provider_models", "core", job_description("sync_provider_models"),
            std::chrono::minutes(config_.model_sync_minutes),
            [this]() -> JobOutcome {
                auto snap = cache_->current();
                int synced = 0, failed = 0;
                int64_t rows = 0;  // models and bindings created or switched
                std::string failures;
                for (const auto& [name, p] : snap->providers) {
                    if (!p->auto_sync_models || !p->active) continue;
                    auto report = sync_provider_models(*p, *config_store_, loop_->next());
                    if (report) {
                        ++synced;
                        rows += static_cast<int64_t>(
                            report->created_models.size() + report->created_bindings.size() +
                            report->reactivated.size() + report->deactivated.size());
                    } else {
                        ++failed;
                        failures += "; " + name + ": " + report.error().message;
                        MG_WARN("sync", report.error().message);
                    }
                }
                cache_->reload();
                std::map<std::string, std::string> args = {{"synced", std::to_string(synced)},
                                                           {"failed", std::to_string(failed)}};
                if (failures.empty())
                    return job_outcome("sync_provider_models", "summary", args, rows);
                args["failures"] = failures.substr(2);
                return job_outcome("sync_provider_models", "summary_failures", args, rows);
            },
            std::chrono::minutes(1));
    }
    scheduler_->add(
        "expire_admin_sessions", "core", job_description("expire_admin_sessions"),
        std::chrono::hours(1), [this]() -> JobOutcome {
            std::string now = iso8601_now();
            long long deleted = 0;
            auto st = db_->transaction(
                [&](soci::session& s) {
                    soci::statement del =
                        (s.prepare << "DELETE FROM admin_sessions WHERE expires_at < :now",
                         soci::use(now));
                    del.execute(true);
                    deleted = del.get_affected_rows();
                },
                "expiring admin sessions");
            if (!st) throw std::runtime_error(st.error().message);
            return job_outcome("expire_admin_sessions", "summary",
                               {{"rows", std::to_string(deleted)}}, deleted);
        });
}

void App::register_stats_jobs() {
    // Statistics days (docs/operations.md, "Statistics"): yesterday at 00:05,
    // and every 15 minutes (first 5 s after start) whatever is missing,
    // incomplete or was summed while calls were pending.
    auto catch_up = [this](const char* job) {
        return [this, job]() -> JobOutcome {
            auto r = aggregator_->catch_up(unix_ms_now());
            if (!r) throw std::runtime_error(r.error().message);
            return job_outcome(
                job, "summary",
                {{"days", std::to_string(r->days)}, {"rows", std::to_string(r->rows)}}, r->rows);
        };
    };
    scheduler_->add_daily("aggregate_daily_stats", "core", job_description("aggregate_daily_stats"),
                          "00:05", catch_up("aggregate_daily_stats"));
    scheduler_->add("catch_up_daily_stats", "core", job_description("catch_up_daily_stats"),
                    std::chrono::minutes(15), catch_up("catch_up_daily_stats"),
                    std::chrono::seconds(5));
    scheduler_->add_daily(
        "archive_request_logs", "core", job_description("archive_request_logs"), "00:20",
        [this]() -> JobOutcome {
            int64_t now = unix_ms_now();
            auto moved = log_store_->archive(now - int64_t{config_.log_retention_days} * 86400000);
            if (!moved) throw std::runtime_error(moved.error().message);
            std::map<std::string, std::string> args = {{"moved", std::to_string(moved->moved)},
                                                       {"batches", std::to_string(moved->batches)}};
            int64_t rows = moved->moved;
            if (config_.history_retention_days <= 0)
                return job_outcome("archive_request_logs", "summary", args, rows);
            auto purged =
                log_store_->purge_history(now - int64_t{config_.history_retention_days} * 86400000);
            if (!purged) throw std::runtime_error(purged.error().message);
            args["purged"] = std::to_string(purged.value());
            return job_outcome("archive_request_logs", "summary_purged", args,
                               rows + purged.value());
        });
}

std::string App::metrics_text() {
    return metrics_.render([this](std::string& out) {
        auto gauge = [&out](const std::string& name, const std::string& help,
                            const std::string& type) {
            out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
        };
        gauge("modelgate_inflight_requests", "Calls holding a concurrency slot, by provider.",
              "gauge");
        auto limiters = cache_->limiters();
        for (const auto& [id, pair] : limiters) {
            out += "modelgate_inflight_requests{provider=\"" + Metrics::escape_label(pair.first) +
                   "\"} " + std::to_string(pair.second->in_use()) + "\n";
        }
        gauge("modelgate_queued_requests", "Calls waiting for a concurrency slot, by provider.",
              "gauge");
        for (const auto& [id, pair] : limiters) {
            out += "modelgate_queued_requests{provider=\"" + Metrics::escape_label(pair.first) +
                   "\"} " + std::to_string(pair.second->waiting()) + "\n";
        }
        gauge("modelgate_concurrency_limit", "Configured concurrency limit, by provider.", "gauge");
        for (const auto& [id, pair] : limiters) {
            out += "modelgate_concurrency_limit{provider=\"" + Metrics::escape_label(pair.first) +
                   "\"} " + std::to_string(pair.second->limit()) + "\n";
        }
        gauge("modelgate_active_calls", "Calls in flight on this instance (queued or running).",
              "gauge");
        out += "modelgate_active_calls " + std::to_string(proxy_->registry().size()) + "\n";
        gauge("modelgate_upstream_transfers", "Upstream HTTP transfers in progress.", "gauge");
        out += "modelgate_upstream_transfers " + std::to_string(loop_->active()) + "\n";
        auto lw = log_writer_->stats();
        gauge("modelgate_request_log_queue", "Request log records waiting to be written.", "gauge");
        out += "modelgate_request_log_queue " + std::to_string(lw.queued) + "\n";
        gauge("modelgate_request_log_written_total", "Request log records written to the database.",
              "counter");
        out += "modelgate_request_log_written_total " + std::to_string(lw.written) + "\n";
        gauge("modelgate_request_log_spilled_total",
              "Request log records spilled to disk while the database was down.", "counter");
        out += "modelgate_request_log_spilled_total " + std::to_string(lw.spilled) + "\n";
        gauge("modelgate_request_log_failed_batches_total",
              "Request log batches that failed and were retried.", "counter");
        out += "modelgate_request_log_failed_batches_total " + std::to_string(lw.failed_batches) +
               "\n";
        gauge("modelgate_database_up", "1 when the last request log write succeeded.", "gauge");
        out += std::string("modelgate_database_up ") + (lw.database_ok ? "1" : "0") + "\n";
        gauge("modelgate_http_handler_errors_total", "Handlers that failed with an internal error.",
              "counter");
        out += "modelgate_http_handler_errors_total " +
               std::to_string(server_state_->handler_errors.load()) + "\n";
        gauge("modelgate_http_connections", "Client connections open.", "gauge");
        out += "modelgate_http_connections " +
               std::to_string(server_state_->connections_open.load()) + "\n";
        gauge("modelgate_http_connections_refused_total",
              "Connections refused with 503 over the connection limit.", "counter");
        out += "modelgate_http_connections_refused_total " +
               std::to_string(server_state_->connections_refused.load()) + "\n";
        gauge("modelgate_http_requests_refused_total",
              "Requests answered by the HTTP layer itself: malformed framing, limits, "
              "timeouts, unknown routes, refused credentials.",
              "counter");
        out += "modelgate_http_requests_refused_total " +
               std::to_string(server_state_->requests_refused.load()) + "\n";
        gauge("modelgate_http_buffered_bytes", "Request bytes held in memory, all connections.",
              "gauge");
        out += "modelgate_http_buffered_bytes " +
               std::to_string(server_state_->buffered_bytes.load()) + "\n";
        gauge("modelgate_plugins", "Plugins loaded and refused at start.", "gauge");
        out += "modelgate_plugins{state=\"loaded\"} " + std::to_string(plugins_->loaded().size()) +
               "\n";
        out += "modelgate_plugins{state=\"refused\"} " +
               std::to_string(plugins_->refused().size()) + "\n";
        gauge("modelgate_build_info", "Build information.", "gauge");
        out += "modelgate_build_info{version=\"" + version_string() + "\"} 1\n";
        gauge("modelgate_start_time_seconds", "Start time of the process (Unix seconds).", "gauge");
        out += "modelgate_start_time_seconds " + std::to_string(started_at_ms_ / 1000) + "\n";
    });
}

std::size_t App::raise_open_files_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
    if (lim.rlim_cur < lim.rlim_max) {
        rlim_t want = lim.rlim_max == RLIM_INFINITY ? 1u << 20 : lim.rlim_max;
        rlimit raised{want, lim.rlim_max};
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim.rlim_cur = want;
    }
    return lim.rlim_cur == RLIM_INFINITY ? (1u << 20) : static_cast<std::size_t>(lim.rlim_cur);
}

nlohmann::json App::health_json(bool& healthy) const {
    auto h = health_->current();
    bool draining = server_state_->draining.load();
    healthy = h.database_ok && !draining;
    auto lw = log_writer_->stats();
    nlohmann::json database = {{"ok", h.database_ok}, {"dialect", db_->dialect_name()}};
    if (!h.database_ok) database["problem"] = h.problem;
    return {{"status", healthy ? "ok" : (draining ? "draining" : "degraded")},
            {"version", version_string()},
            {"database", database},
            {"plugins",
             {{"loaded", plugins_->loaded().size()}, {"refused", plugins_->refused().size()}}},
            {"request_log", {{"queued", lw.queued}, {"database_ok", lw.database_ok}}}};
}

void App::register_ops_routes(http::Router& router) {
    http::RouteOptions metrics_options;
    if (!config_.metrics_token.empty()) {
        // The token is compared in constant time on the head: no token, no scrape.
        metrics_options.admit = [this](const http::Request& head) {
            http::Admission a;
            if (crypto::constant_time_equal(
                    crypto::sha256_hex(bearer_token(head.header("authorization"))),
                    crypto::sha256_hex(config_.metrics_token))) {
                a.authenticated = true;
            } else {
                a.refusal = make_error(ErrorCode::unauthorized,
                                       "GET /metrics needs 'Authorization: Bearer <the metrics "
                                       "token>' (MODELGATE_METRICS_TOKEN).",
                                       "invalid_metrics_token");
            }
            return a;
        };
    }
    router.add(
        "GET", "/metrics",
        [this](http::Request&, const http::ResponderPtr& w) {
            w->send(http::text_response(200, "text/plain; version=0.0.4; charset=utf-8",
                                        metrics_text()));
        },
        std::move(metrics_options));
    // Answered on the reactor from the health monitor's last check (at most a
    // second old): never waits for a busy worker or a hanging database.
    router.add("GET", "/healthz", [this](http::Request&, const http::ResponderPtr& w) {
        bool healthy = false;
        auto j = health_json(healthy);
        w->send(http::json_response(healthy ? 200 : 503, j));
    });
    router.add("GET", "/", [](http::Request&, const http::ResponderPtr& w) {
        w->send(http::json_response(200, {{"name", "ModelGate"},
                                          {"version", version_string()},
                                          {"openai_base_path", "/v1"},
                                          {"admin_api", "/admin/api"},
                                          {"health", "/healthz"},
                                          {"metrics", "/metrics"}}));
    });
}

void App::stop() {
    if (!started_ || stopped_.exchange(true)) return;
    MG_INFO("app",
            "shutting down: refusing new calls, " << proxy_->registry().size() << " in flight");
    server_state_->draining.store(true);
    if (!proxy_->registry().wait_empty(std::chrono::seconds(config_.shutdown_grace_seconds))) {
        MG_WARN("app", "grace period over; ending " << proxy_->registry().size() << " call(s)");
    }
    proxy_->abort_all();
    loop_->stop();  // cancels running transfers; their calls answer and log
    proxy_->registry().wait_empty(std::chrono::seconds(5));
    scheduler_->stop();
    tasks_->stop();  // plugins' tasks end (their LLM calls were just ended)
    if (feature_host_) feature_host_->stop();  // plugins' fetch callbacks
    admin_api_->stop();
    workers_->stop();
    cpu_->stop();
    server_->stop();
    health_->stop();
    plugins_->shutdown_features();
    cache_->stop_polling();
    log_writer_->stop(std::chrono::seconds(10));
    timers_->stop();
    MG_INFO("app", "stopped");
}

}  // namespace modelgate::core

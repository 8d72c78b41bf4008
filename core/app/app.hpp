// The gateway process: builds every part from the configuration, starts them in
// order, and stops them gracefully. main() only parses arguments and waits for a
// signal; tests start an App on port 0 in-process.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "admin/admin_api.hpp"
#include "app/health.hpp"
#include "auth/admin_auth.hpp"
#include "config/config.hpp"
#include "domain/config_cache.hpp"
#include "features/host_services.hpp"
#include "features/i18n.hpp"
#include "features/scheduler.hpp"
#include "features/tasks.hpp"
#include "http/server.hpp"
#include "logs/log_writer.hpp"
#include "logs/request_log_sink.hpp"
#include "ops/metrics.hpp"
#include "plugins/plugin_host.hpp"
#include "proxy/proxy_service.hpp"
#include "stats/stats_service.hpp"
#include "store/config_store.hpp"
#include "store/database.hpp"
#include "store/log_store.hpp"
#include "upstream/upstream_loop.hpp"
#include "util/thread_pool.hpp"
#include "util/timer_service.hpp"

namespace modelgate::core {

class App {
  public:
    explicit App(Config config);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    // Everything up to accepting connections. Throws std::runtime_error with a
    // message that says what to fix.
    void start();
    // Graceful: refuse new calls, let in-flight ones finish (grace period), end
    // the rest, stop the server, flush the request log.
    void stop();

    uint16_t port() const { return server_ ? server_->port() : 0; }
    const Config& config() const { return config_; }
    store::Database& database() { return *db_; }
    ConfigCache& config_cache() { return *cache_; }
    LogWriter& log_writer() { return *log_writer_; }
    plugins::PluginHost& plugins() { return *plugins_; }
    proxy::ProxyService& proxy() { return *proxy_; }
    Scheduler& scheduler() { return *scheduler_; }
    Metrics& metrics() { return metrics_; }
    store::LogStore& log_store() { return *log_store_; }
    stats::StatsService& stats() { return *stats_; }
    stats::Aggregator& aggregator() { return *aggregator_; }
    std::string metrics_text();

  private:
    // The steps of start(), in order.
    void apply_process_settings();
    void prepare_data_dir();
    void open_database();
    void load_plugins_and_configuration();
    void start_services();
    void build_routes();
    void start_scheduler_and_features();
    void start_server();
    void print_banner(double start_ms);

    std::string load_master_key();
    void register_ops_routes(http::Router& router);
    nlohmann::json health_json(bool& healthy) const;
    // Raises the open-files limit to its maximum; returns it.
    static std::size_t raise_open_files_limit();
    void register_builtin_jobs();
    void register_stats_jobs();
    // A core job's description and outcome in English from the catalog, the
    // outcome with its key and values so readers get it in their language.
    std::string job_description(const std::string& job) const;
    JobOutcome job_outcome(const std::string& job, const char* what,
                           std::map<std::string, std::string> args, int64_t rows) const;
    void persist_pause(int64_t provider_id, int64_t key_id, const std::string& model,
                       const KeyPool::Pause& pause);
    // False when an admin ended the pause before its write came round.
    bool pause_still_holds(int64_t provider_id, int64_t key_id, const std::string& model,
                           int64_t until_ms) const;

    Config config_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<store::ConfigStore> config_store_;
    std::unique_ptr<store::LogStore> log_store_;
    std::unique_ptr<store::StatsStore> stats_store_;
    std::unique_ptr<stats::StatsService> stats_;
    std::unique_ptr<stats::Aggregator> aggregator_;
    std::unique_ptr<crypto::SecretBox> secrets_;
    std::unique_ptr<plugins::PluginHost> plugins_;
    std::unique_ptr<TimerService> timers_;
    std::unique_ptr<ConfigCache> cache_;
    std::unique_ptr<RequestLogSink> log_sink_;
    std::unique_ptr<LogWriter> log_writer_;
    std::unique_ptr<upstream::UpstreamPool> loop_;
    std::unique_ptr<ThreadPool> workers_;
    std::unique_ptr<ThreadPool> cpu_;  // CPU-heavy request preparation (large bodies)
    std::unique_ptr<HealthMonitor> health_;
    std::unique_ptr<auth::AdminAuth> admin_auth_;
    std::unique_ptr<proxy::ProxyService> proxy_;
    std::unique_ptr<admin::AdminApi> admin_api_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<features::TaskRunner> tasks_;
    std::unique_ptr<features::HostServices> feature_host_;
    std::shared_ptr<http::ServerState> server_state_;
    std::unique_ptr<http::HttpServer> server_;
    Catalogs catalogs_;
    Metrics metrics_;
    int64_t started_at_ms_ = 0;
    std::atomic<bool> stopped_{false};
    bool started_ = false;
};

std::string version_string();
// How old a `pending` request-log row must be to have been left by a stopped
// instance: the longest queue timeout plus total timeout of any provider, plus
// a minute.
int64_t stale_pending_ms(const Snapshot& snapshot);

}  // namespace modelgate::core

// Gateway configuration: environment variables (the original's names kept) and
// command-line flags, flags winning. Every setting has a safe default except the
// admin password, which is generated when none is configured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace modelgate::core {

struct AdminAccount {
    std::string username;
    std::string password;
};

struct Config {
    std::string host = "0.0.0.0";
    uint16_t port = 8765;
    std::string database_url;  // empty: sqlite:<data_dir>/modelgate.db
    std::string data_dir = "./data";
    std::string plugin_dir;   // empty: the build's plugin folder
    std::string locales_dir;  // empty: next to the sources / install share dir
    std::string base_path;    // e.g. "/modelgate"; requests work with and without it
    std::vector<AdminAccount> admins;
    bool admin_password_generated = false;
    std::string master_key;  // 32 bytes (hex or base64 in the environment)
    std::string log_level = "INFO";
    std::string log_file;
    std::size_t reactor_threads = 0;  // 0: hardware concurrency
    std::size_t upstream_threads = 1;
    std::size_t worker_threads = 4;
    std::size_t db_pool_size = 4;
    std::size_t max_body_bytes = 16u << 20;
    std::size_t max_connections = 16384;          // clamped below the open-files limit at start
    std::size_t max_buffered_bytes = 256u << 20;  // request bodies held at once, all connections
    std::size_t max_messages = 10000;             // per chat request
    int http_header_timeout_ms = 30000;           // first byte of a request to the end of its head
    int http_body_timeout_ms = 60000;             // longest pause while a body arrives
    int http_idle_timeout_ms = 75000;             // a keep-alive connection idle between requests
    std::string metrics_token;  // non-empty: /metrics wants "Authorization: Bearer <token>"
    std::vector<std::string> trusted_proxies;  // CIDRs whose X-Forwarded-For is believed
    int shutdown_grace_seconds = 30;
    int model_sync_minutes = 360;  // the auto_sync_models job; 0: off
    std::string timezone;  // time rules, statistics days, jobs; empty: the process's TZ
    int log_retention_days = 30;     // older request logs move to request_logs_history
    int history_retention_days = 0;  // archived logs older than this are deleted; 0: never
    std::string icp_number;
    bool secure_cookies = false;  // set Secure on cookies (behind HTTPS)
    int log_batch_max = 512;
    int log_flush_ms = 50;
    std::size_t log_memory_limit = 100000;  // events kept in memory before spilling to disk

    std::string effective_database_url() const;
    std::string spill_file() const { return data_dir + "/request-log-spill.jsonl"; }
};

struct ParsedArgs {
    bool help = false;
    bool version = false;
    std::string error;  // non-empty: what is wrong
};

// Reads the environment, then argv. Fills defaults. On --help / --version / an
// error, the caller prints and exits.
ParsedArgs load_config(int argc, char** argv, Config& config);
std::string usage_text();
// ADMIN_USERS="user:pass,user:pass"
std::vector<AdminAccount> parse_admin_users(const std::string& spec);

}  // namespace modelgate::core

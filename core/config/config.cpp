#include "config/config.hpp"

#include <cstdlib>
#include <string_view>
#include <thread>
#include <tuple>

#include "util/crypto.hpp"

#ifndef MODELGATE_VERSION
#define MODELGATE_VERSION "dev"
#endif

namespace modelgate::core {

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return std::string(s);
}

bool parse_uint(const std::string& text, uint64_t max, uint64_t& out) {
    if (text.empty()) return false;
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
        if (v > max) return false;
    }
    out = v;
    return true;
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t comma = s.find(',', start);
        std::string item = trim(std::string_view(s).substr(
            start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

}  // namespace

std::vector<AdminAccount> parse_admin_users(const std::string& spec) {
    std::vector<AdminAccount> out;
    for (const auto& pair : split_list(spec)) {
        std::size_t colon = pair.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size()) continue;
        out.push_back({trim(pair.substr(0, colon)), pair.substr(colon + 1)});
    }
    return out;
}

std::string Config::effective_database_url() const {
    if (!database_url.empty()) return database_url;
    return "sqlite:" + data_dir + "/modelgate.db";
}

std::string usage_text() {
    return R"(modelgate - an OpenAI-compatible LLM API gateway

Usage: modelgate [options]

Options (each also settable by the environment variable in brackets):
  --host ADDR               listen address [HOST] (default 0.0.0.0)
  --port N                  listen port [PORT] (default 8765; 0 picks a free port)
  --database-url URL        postgresql://user:pass@host/db, postgresql+asyncpg://...,
                            or sqlite:PATH [DATABASE_URL]
                            (default sqlite:<data-dir>/modelgate.db)
  --data-dir DIR            where the SQLite database, master key and log spill
                            file live [MODELGATE_DATA_DIR] (default ./data)
  --plugin-dir DIR          folder of plugin .so files to load at start
                            [MODELGATE_PLUGIN_DIR] (default: the build's plugins/)
  --locales-dir DIR         folder with en.json and zh.json [MODELGATE_LOCALES_DIR]
  --base-path PATH          also serve every route under PATH, e.g. /modelgate
                            [MODELGATE_BASE_PATH]
  --threads N               HTTP reactor threads [MODELGATE_THREADS] (default: half the cores)
  --upstream-threads N      upstream I/O threads [MODELGATE_UPSTREAM_THREADS]
                            (default: half the cores, at least 2)
  --workers N               worker threads for admin/database work
                            [MODELGATE_WORKERS] (default 4)
  --max-body-bytes N        largest accepted request body [MODELGATE_MAX_BODY_BYTES]
                            (default 16777216); callers without valid credentials
                            may send at most 65536 bytes
  --max-connections N       open client connections at most; more get 503
                            [MODELGATE_MAX_CONNECTIONS] (default 16384, and below
                            the open-files limit)
  --max-buffered-bytes N    request bodies held at once across all connections;
                            beyond it new bodies get 503 [MODELGATE_MAX_BUFFERED_BYTES]
                            (default 268435456)
  --max-messages N          messages one chat request may carry
                            [MODELGATE_MAX_MESSAGES] (default 10000)
  --log-level LEVEL         DEBUG, INFO, WARNING or ERROR [LOG_LEVEL] (default INFO)
  --log-file PATH           also append the log to PATH [MODELGATE_LOG_FILE]
  --help                    show this text
  --version                 show the version

Other environment variables:
  ADMIN_USERS               admin accounts, "user:pass,user:pass"
  ADMIN_USERNAME, ADMIN_PASSWORD
                            a single admin account (used when ADMIN_USERS is unset).
                            With neither, an "admin" account with a generated
                            password is created for this run and printed once.
  MODELGATE_MASTER_KEY      32-byte key (64 hex chars or base64) that encrypts
                            upstream provider keys at rest; default: generated
                            into <data-dir>/master.key on first start. Give every
                            instance sharing a database the same key.
  MODELGATE_TRUSTED_PROXIES comma-separated CIDRs (e.g. 127.0.0.1/32,10.0.0.0/8) whose
                            X-Forwarded-For / X-Real-IP headers are believed
  MODELGATE_SHUTDOWN_GRACE_SECONDS
                            how long SIGTERM waits for in-flight calls (default 30)
  MODELGATE_TIMEZONE        time zone for API key time rules, e.g. Asia/Shanghai
                            (default: the process's TZ)
  MODELGATE_SECURE_COOKIES  1 to mark session cookies Secure (when served over HTTPS)
  MODELGATE_DB_POOL_SIZE    database connections (default 4)
  MODELGATE_MODEL_SYNC_MINUTES
                            how often providers with the auto_sync_models option
                            get their model list synced (default 360; 0: never)
  MODELGATE_HTTP_HEADER_TIMEOUT_MS
                            a request head must arrive within this time (default 30000)
  MODELGATE_HTTP_BODY_TIMEOUT_MS
                            longest pause while a request body arrives (default 60000)
  MODELGATE_HTTP_IDLE_TIMEOUT_MS
                            an idle keep-alive connection is closed after this (default 75000)
  MODELGATE_METRICS_TOKEN   when set, GET /metrics needs "Authorization: Bearer <token>"
  ICP_NUMBER                filing number shown on the landing page
)";
}

ParsedArgs load_config(int argc, char** argv, Config& c) {
    ParsedArgs result;
    // Environment first.
    if (auto v = env("HOST"); !v.empty()) c.host = v;
    std::string port = env("PORT");
    std::string threads = env("MODELGATE_THREADS");
    std::string upstream_threads = env("MODELGATE_UPSTREAM_THREADS");
    std::string workers = env("MODELGATE_WORKERS");
    std::string max_body = env("MODELGATE_MAX_BODY_BYTES");
    std::string max_connections = env("MODELGATE_MAX_CONNECTIONS");
    std::string max_buffered = env("MODELGATE_MAX_BUFFERED_BYTES");
    std::string max_messages = env("MODELGATE_MAX_MESSAGES");
    c.metrics_token = env("MODELGATE_METRICS_TOKEN");
    std::string header_timeout = env("MODELGATE_HTTP_HEADER_TIMEOUT_MS");
    std::string body_timeout = env("MODELGATE_HTTP_BODY_TIMEOUT_MS");
    std::string idle_timeout = env("MODELGATE_HTTP_IDLE_TIMEOUT_MS");
    std::string pool = env("MODELGATE_DB_POOL_SIZE");
    std::string grace = env("MODELGATE_SHUTDOWN_GRACE_SECONDS");
    std::string sync_minutes = env("MODELGATE_MODEL_SYNC_MINUTES");
    if (auto v = env("DATABASE_URL"); !v.empty()) c.database_url = v;
    if (auto v = env("MODELGATE_DATA_DIR"); !v.empty()) c.data_dir = v;
    if (auto v = env("MODELGATE_PLUGIN_DIR"); !v.empty()) c.plugin_dir = v;
    if (auto v = env("MODELGATE_LOCALES_DIR"); !v.empty()) c.locales_dir = v;
    if (auto v = env("MODELGATE_BASE_PATH"); !v.empty()) c.base_path = v;
    if (auto v = env("LOG_LEVEL"); !v.empty()) c.log_level = v;
    if (auto v = env("MODELGATE_LOG_FILE"); !v.empty()) c.log_file = v;
    if (auto v = env("MODELGATE_TIMEZONE"); !v.empty()) c.timezone = v;
    if (auto v = env("ICP_NUMBER"); !v.empty()) c.icp_number = v;
    if (auto v = env("MODELGATE_SECURE_COOKIES"); v == "1" || v == "true") c.secure_cookies = true;
    c.trusted_proxies = split_list(env("MODELGATE_TRUSTED_PROXIES"));
    std::string master = env("MODELGATE_MASTER_KEY");

    // Then flags.
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::string value;
        if (arg == "--help" || arg == "-h") {
            result.help = true;
            return result;
        }
        if (arg == "--version") {
            result.version = true;
            return result;
        }
        if (auto eq = arg.find('='); eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        } else if (arg.rfind("--", 0) == 0) {
            if (i + 1 >= argc) {
                result.error = "option " + arg + " needs a value";
                return result;
            }
            value = argv[++i];
        }
        if (arg == "--host")
            c.host = value;
        else if (arg == "--port")
            port = value;
        else if (arg == "--database-url")
            c.database_url = value;
        else if (arg == "--data-dir")
            c.data_dir = value;
        else if (arg == "--plugin-dir")
            c.plugin_dir = value;
        else if (arg == "--locales-dir")
            c.locales_dir = value;
        else if (arg == "--base-path")
            c.base_path = value;
        else if (arg == "--threads")
            threads = value;
        else if (arg == "--upstream-threads")
            upstream_threads = value;
        else if (arg == "--workers")
            workers = value;
        else if (arg == "--max-body-bytes")
            max_body = value;
        else if (arg == "--max-connections")
            max_connections = value;
        else if (arg == "--max-buffered-bytes")
            max_buffered = value;
        else if (arg == "--max-messages")
            max_messages = value;
        else if (arg == "--log-level")
            c.log_level = value;
        else if (arg == "--log-file")
            c.log_file = value;
        else {
            result.error = "unknown option " + arg + " (see --help)";
            return result;
        }
    }

    uint64_t n = 0;
    auto number = [&](const std::string& text, uint64_t min, uint64_t max,
                      const char* what) -> bool {
        if (text.empty()) return true;
        if (!parse_uint(text, max, n) || n < min) {
            result.error = std::string(what) + " must be a number from " + std::to_string(min) +
                           " to " + std::to_string(max) + ", got '" + text + "'";
            return false;
        }
        return true;
    };
    if (!number(port, 0, 65535, "PORT/--port")) return result;
    if (!port.empty()) c.port = static_cast<uint16_t>(n);
    if (!number(threads, 1, 256, "MODELGATE_THREADS/--threads")) return result;
    if (!threads.empty()) c.reactor_threads = n;
    if (!number(upstream_threads, 1, 64, "MODELGATE_UPSTREAM_THREADS/--upstream-threads"))
        return result;
    if (!upstream_threads.empty())
        c.upstream_threads = n;
    else
        c.upstream_threads = std::max(2u, std::thread::hardware_concurrency() / 2);
    if (!number(workers, 1, 256, "MODELGATE_WORKERS/--workers")) return result;
    if (!workers.empty()) c.worker_threads = n;
    if (!number(max_body, 1024, 1ull << 30, "MODELGATE_MAX_BODY_BYTES/--max-body-bytes"))
        return result;
    if (!max_body.empty()) c.max_body_bytes = n;
    if (!number(max_connections, 16, 1u << 20, "MODELGATE_MAX_CONNECTIONS/--max-connections"))
        return result;
    if (!max_connections.empty()) c.max_connections = n;
    if (!number(max_buffered, 1u << 20, 1ull << 40,
                "MODELGATE_MAX_BUFFERED_BYTES/--max-buffered-bytes"))
        return result;
    if (!max_buffered.empty()) c.max_buffered_bytes = n;
    if (c.max_buffered_bytes < c.max_body_bytes) c.max_buffered_bytes = c.max_body_bytes;
    if (!number(max_messages, 1, 1000000, "MODELGATE_MAX_MESSAGES/--max-messages")) return result;
    if (!max_messages.empty()) c.max_messages = n;
    for (auto [text, slot, what] :
         {std::tuple{&header_timeout, &c.http_header_timeout_ms,
                     "MODELGATE_HTTP_HEADER_TIMEOUT_MS"},
          std::tuple{&body_timeout, &c.http_body_timeout_ms, "MODELGATE_HTTP_BODY_TIMEOUT_MS"},
          std::tuple{&idle_timeout, &c.http_idle_timeout_ms, "MODELGATE_HTTP_IDLE_TIMEOUT_MS"}}) {
        if (!number(*text, 100, 3600000, what)) return result;
        if (!text->empty()) *slot = static_cast<int>(n);
    }
    if (!number(pool, 1, 256, "MODELGATE_DB_POOL_SIZE")) return result;
    if (!pool.empty()) c.db_pool_size = n;
    if (!number(grace, 0, 3600, "MODELGATE_SHUTDOWN_GRACE_SECONDS")) return result;
    if (!grace.empty()) c.shutdown_grace_seconds = static_cast<int>(n);
    if (!number(sync_minutes, 0, 525600, "MODELGATE_MODEL_SYNC_MINUTES")) return result;
    if (!sync_minutes.empty()) c.model_sync_minutes = static_cast<int>(n);
    if (c.reactor_threads == 0) {
        // Half the cores parse HTTP; the upstream loops and the log writer get the rest.
        c.reactor_threads = std::max(1u, std::thread::hardware_concurrency() / 2);
    }
    while (c.base_path.size() > 1 && c.base_path.back() == '/')
        c.base_path.pop_back();
    if (c.base_path == "/") c.base_path.clear();
    if (!c.base_path.empty() && c.base_path.front() != '/') {
        result.error = "MODELGATE_BASE_PATH/--base-path must start with '/'";
        return result;
    }

    if (!master.empty()) {
        auto key = crypto::hex_decode(master);
        if (!key || key->size() != 32) key = crypto::base64_decode(master);
        if (!key || key->size() != 32) {
            result.error = "MODELGATE_MASTER_KEY must be 32 bytes as 64 hex characters or base64";
            return result;
        }
        c.master_key = *key;
    }

    // Admin accounts: ADMIN_USERS, else ADMIN_USERNAME/ADMIN_PASSWORD, else generated.
    c.admins = parse_admin_users(env("ADMIN_USERS"));
    if (c.admins.empty()) {
        std::string user = env("ADMIN_USERNAME");
        std::string pass = env("ADMIN_PASSWORD");
        if (!pass.empty()) c.admins.push_back({user.empty() ? "admin" : user, pass});
    }
    if (c.admins.empty()) {
        std::string user = env("ADMIN_USERNAME");
        c.admins.push_back({user.empty() ? "admin" : user, crypto::random_base64url(18)});
        c.admin_password_generated = true;
    }
    return result;
}

}  // namespace modelgate::core

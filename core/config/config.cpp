#include "config/config.hpp"

#include <cstdlib>
#include <map>
#include <string_view>
#include <thread>

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
  MODELGATE_TIMEZONE        time zone for API key time rules, statistics days and
                            scheduled jobs, e.g. Asia/Shanghai (default: the process's TZ)
  MODELGATE_LOG_RETENTION_DAYS
                            request logs older than this move to request_logs_history
                            at 00:20 (default 30)
  MODELGATE_HISTORY_RETENTION_DAYS
                            archived request logs older than this are deleted; daily
                            statistics stay (default 0: keep them)
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

namespace {

// A setting read from the environment, and from a flag when it has one.
struct Setting {
    const char* env;
    const char* flag;  // nullptr: environment only
};

struct TextSetting : Setting {
    std::string Config::*field;
};

struct NumberSetting : Setting {
    uint64_t min, max;
    void (*store)(Config&, uint64_t);
};

const TextSetting kTexts[] = {
    {{"HOST", "--host"}, &Config::host},
    {{"DATABASE_URL", "--database-url"}, &Config::database_url},
    {{"MODELGATE_DATA_DIR", "--data-dir"}, &Config::data_dir},
    {{"MODELGATE_PLUGIN_DIR", "--plugin-dir"}, &Config::plugin_dir},
    {{"MODELGATE_LOCALES_DIR", "--locales-dir"}, &Config::locales_dir},
    {{"MODELGATE_BASE_PATH", "--base-path"}, &Config::base_path},
    {{"LOG_LEVEL", "--log-level"}, &Config::log_level},
    {{"MODELGATE_LOG_FILE", "--log-file"}, &Config::log_file},
    {{"MODELGATE_TIMEZONE", nullptr}, &Config::timezone},
    {{"ICP_NUMBER", nullptr}, &Config::icp_number},
    {{"MODELGATE_METRICS_TOKEN", nullptr}, &Config::metrics_token},
};

const NumberSetting kNumbers[] = {
    {{"PORT", "--port"},
     0,
     65535,
     [](Config& c, uint64_t n) { c.port = static_cast<uint16_t>(n); }},
    {{"MODELGATE_THREADS", "--threads"},
     1,
     256,
     [](Config& c, uint64_t n) { c.reactor_threads = n; }},
    {{"MODELGATE_UPSTREAM_THREADS", "--upstream-threads"},
     1,
     64,
     [](Config& c, uint64_t n) { c.upstream_threads = n; }},
    {{"MODELGATE_WORKERS", "--workers"},
     1,
     256,
     [](Config& c, uint64_t n) { c.worker_threads = n; }},
    {{"MODELGATE_MAX_BODY_BYTES", "--max-body-bytes"},
     1024,
     1ull << 30,
     [](Config& c, uint64_t n) { c.max_body_bytes = n; }},
    {{"MODELGATE_MAX_CONNECTIONS", "--max-connections"},
     16,
     1u << 20,
     [](Config& c, uint64_t n) { c.max_connections = n; }},
    {{"MODELGATE_MAX_BUFFERED_BYTES", "--max-buffered-bytes"},
     1u << 20,
     1ull << 40,
     [](Config& c, uint64_t n) { c.max_buffered_bytes = n; }},
    {{"MODELGATE_LOG_RETENTION_DAYS", nullptr},
     1,
     3650,
     [](Config& c, uint64_t n) { c.log_retention_days = static_cast<int>(n); }},
    {{"MODELGATE_HISTORY_RETENTION_DAYS", nullptr},
     0,
     36500,
     [](Config& c, uint64_t n) { c.history_retention_days = static_cast<int>(n); }},
    {{"MODELGATE_MAX_MESSAGES", "--max-messages"},
     1,
     1000000,
     [](Config& c, uint64_t n) { c.max_messages = n; }},
    {{"MODELGATE_HTTP_HEADER_TIMEOUT_MS", nullptr},
     100,
     3600000,
     [](Config& c, uint64_t n) { c.http_header_timeout_ms = static_cast<int>(n); }},
    {{"MODELGATE_HTTP_BODY_TIMEOUT_MS", nullptr},
     100,
     3600000,
     [](Config& c, uint64_t n) { c.http_body_timeout_ms = static_cast<int>(n); }},
    {{"MODELGATE_HTTP_IDLE_TIMEOUT_MS", nullptr},
     100,
     3600000,
     [](Config& c, uint64_t n) { c.http_idle_timeout_ms = static_cast<int>(n); }},
    {{"MODELGATE_DB_POOL_SIZE", nullptr},
     1,
     256,
     [](Config& c, uint64_t n) { c.db_pool_size = n; }},
    {{"MODELGATE_SHUTDOWN_GRACE_SECONDS", nullptr},
     0,
     3600,
     [](Config& c, uint64_t n) { c.shutdown_grace_seconds = static_cast<int>(n); }},
    {{"MODELGATE_MODEL_SYNC_MINUTES", nullptr},
     0,
     525600,
     [](Config& c, uint64_t n) { c.model_sync_minutes = static_cast<int>(n); }},
};

// The raw text of every setting, by environment name: the environment first,
// then the flags over it. False (with result set) when the flags end parsing.
bool collect_settings(int argc, char** argv, std::map<std::string, std::string>& raw,
                      ParsedArgs& result) {
    auto each = [](auto&& fn) {
        for (const auto& t : kTexts)
            fn(static_cast<const Setting&>(t));
        for (const auto& n : kNumbers)
            fn(static_cast<const Setting&>(n));
    };
    each([&](const Setting& s) {
        if (auto v = env(s.env); !v.empty()) raw[s.env] = v;
    });
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::string value;
        if (arg == "--help" || arg == "-h") {
            result.help = true;
            return false;
        }
        if (arg == "--version") {
            result.version = true;
            return false;
        }
        if (auto eq = arg.find('='); eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        } else if (arg.rfind("--", 0) == 0) {
            if (i + 1 >= argc) {
                result.error = "option " + arg + " needs a value";
                return false;
            }
            value = argv[++i];
        }
        const char* target = nullptr;
        each([&](const Setting& s) {
            if (s.flag != nullptr && arg == s.flag) target = s.env;
        });
        if (target == nullptr) {
            result.error = "unknown option " + arg + " (see --help)";
            return false;
        }
        raw[target] = value;
    }
    return true;
}

bool apply_settings(const std::map<std::string, std::string>& raw, Config& c, ParsedArgs& result) {
    for (const auto& t : kTexts) {
        if (auto it = raw.find(t.env); it != raw.end()) c.*t.field = it->second;
    }
    for (const auto& n : kNumbers) {
        auto it = raw.find(n.env);
        if (it == raw.end()) continue;
        uint64_t v = 0;
        if (!parse_uint(it->second, n.max, v) || v < n.min) {
            std::string what = std::string(n.env) + (n.flag ? std::string("/") + n.flag : "");
            result.error = what + " must be a number from " + std::to_string(n.min) + " to " +
                           std::to_string(n.max) + ", got '" + it->second + "'";
            return false;
        }
        n.store(c, v);
    }
    return true;
}

// Defaults that depend on the machine or on other settings, and checks across settings.
bool settle(const std::map<std::string, std::string>& raw, Config& c, ParsedArgs& result) {
    if (raw.count("MODELGATE_UPSTREAM_THREADS") == 0)
        c.upstream_threads = std::max(2u, std::thread::hardware_concurrency() / 2);
    if (c.reactor_threads == 0) {
        // Half the cores parse HTTP; the upstream loops and the log writer get the rest.
        c.reactor_threads = std::max(1u, std::thread::hardware_concurrency() / 2);
    }
    if (c.max_buffered_bytes < c.max_body_bytes) c.max_buffered_bytes = c.max_body_bytes;
    if (auto v = env("MODELGATE_SECURE_COOKIES"); v == "1" || v == "true") c.secure_cookies = true;
    c.trusted_proxies = split_list(env("MODELGATE_TRUSTED_PROXIES"));
    while (c.base_path.size() > 1 && c.base_path.back() == '/')
        c.base_path.pop_back();
    if (c.base_path == "/") c.base_path.clear();
    if (!c.base_path.empty() && c.base_path.front() != '/') {
        result.error = "MODELGATE_BASE_PATH/--base-path must start with '/'";
        return false;
    }
    if (std::string master = env("MODELGATE_MASTER_KEY"); !master.empty()) {
        auto key = crypto::hex_decode(master);
        if (!key || key->size() != 32) key = crypto::base64_decode(master);
        if (!key || key->size() != 32) {
            result.error = "MODELGATE_MASTER_KEY must be 32 bytes as 64 hex characters or base64";
            return false;
        }
        c.master_key = *key;
    }
    return true;
}

// Admin accounts: ADMIN_USERS, else ADMIN_USERNAME/ADMIN_PASSWORD, else one
// generated for this run.
void load_admins(Config& c) {
    c.admins = parse_admin_users(env("ADMIN_USERS"));
    if (!c.admins.empty()) return;
    std::string user = env("ADMIN_USERNAME");
    if (user.empty()) user = "admin";
    if (std::string pass = env("ADMIN_PASSWORD"); !pass.empty()) {
        c.admins.push_back({user, pass});
        return;
    }
    c.admins.push_back({user, crypto::random_base64url(18)});
    c.admin_password_generated = true;
}

}  // namespace

ParsedArgs load_config(int argc, char** argv, Config& c) {
    ParsedArgs result;
    std::map<std::string, std::string> raw;
    if (!collect_settings(argc, argv, raw, result)) return result;
    if (!apply_settings(raw, c, result)) return result;
    if (!settle(raw, c, result)) return result;
    load_admins(c);
    return result;
}

}  // namespace modelgate::core

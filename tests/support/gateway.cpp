#include "support/gateway.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "store/database.hpp"
#include "util/crypto.hpp"

namespace modelgate::test {

std::string temp_dir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

bool TestDatabase::postgres_available(std::string* why) {
    const char* url = std::getenv("MODELGATE_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
        if (why)
            *why =
                "MODELGATE_TEST_PG_URL is not set (the test command starts a throwaway PostgreSQL "
                "and sets it)";
        return false;
    }
    return true;
}

TestDatabase::TestDatabase(const std::string& backend) : backend_(backend) {
    if (backend == "sqlite") {
        dir_ = temp_dir("mg-sqlite-");
        url_ = "sqlite:" + dir_ + "/test.db";
        return;
    }
    const char* admin = std::getenv("MODELGATE_TEST_PG_URL");
    if (admin == nullptr) throw std::runtime_error("MODELGATE_TEST_PG_URL is not set");
    pg_admin_url_ = admin;
    pg_db_ = "mgtest_" + core::crypto::random_hex(6);
    soci::session s(soci::postgresql,
                    core::store::parse_database_url(pg_admin_url_)->connect_string);
    s << "CREATE DATABASE " + pg_db_;
    // Same server and credentials, other database.
    std::string base = pg_admin_url_;
    std::string query;
    if (auto q = base.find('?'); q != std::string::npos) {
        query = base.substr(q);
        base = base.substr(0, q);
    }
    auto slash = base.rfind('/');
    if (slash == std::string::npos || slash < base.find("://") + 3)
        base += "/";
    else
        base = base.substr(0, slash + 1);
    url_ = base + pg_db_ + query;
}

TestDatabase::~TestDatabase() {
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    if (!pg_db_.empty()) {
        try {
            soci::session s(soci::postgresql,
                            core::store::parse_database_url(pg_admin_url_)->connect_string);
            s << "DROP DATABASE IF EXISTS " + pg_db_ + " WITH (FORCE)";
        } catch (...) {
        }
    }
}

Gateway::Gateway(const std::string& backend, const Tweak& tweak) {
    db_ = std::make_unique<TestDatabase>(backend);
    database_url_ = db_->url();
    start(tweak, "");
}

Gateway::Gateway(const Gateway& first, const Tweak& tweak) : database_url_(first.database_url_) {
    std::string key = first.app_->config().master_key;
    if (key.empty()) {
        std::ifstream in(first.data_dir_ + "/master.key");
        std::string hex;
        in >> hex;
        auto decoded = core::crypto::hex_decode(hex);
        if (!decoded) throw std::runtime_error("cannot read the first gateway's master key");
        key = *decoded;
    }
    start(tweak, key);
}

void Gateway::start(const Tweak& tweak, const std::string& master_key) {
    data_dir_ = temp_dir("mg-data-");
    password_ = "test-" + core::crypto::random_hex(8);
    core::Config config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.database_url = database_url_;
    config.data_dir = data_dir_;
    config.master_key = master_key;
    config.admins = {{"admin", password_}};
    config.reactor_threads = 2;
    config.worker_threads = 2;
    config.shutdown_grace_seconds = 2;
    config.log_level = "WARNING";
    config.log_flush_ms = 10;
    if (tweak) tweak(config);
    app_ = std::make_unique<core::App>(config);
    app_->start();
    auto login = http_request("POST", url("/admin/api/auth/login"),
                              nlohmann::json{{"username", "admin"}, {"password", password_}}.dump(),
                              {{"Content-Type", "application/json"}});
    if (login.status != 200 || login.set_cookies.empty()) {
        throw std::runtime_error("admin login failed: " + std::to_string(login.status) + " " +
                                 login.body);
    }
    cookie_ = login.set_cookies.front().substr(0, login.set_cookies.front().find(';'));
}

Gateway::~Gateway() {
    stop();
}

void Gateway::stop() {
    if (app_) app_->stop();
    app_.reset();
    std::error_code ec;
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_, ec);
}

std::string Gateway::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(app_->port()) + path;
}

HttpResponse Gateway::admin(const std::string& method, const std::string& path,
                            const nlohmann::json& body) {
    Headers h = {{"Cookie", cookie_}};
    std::string text;
    if (!body.is_null()) {
        h.emplace_back("Content-Type", "application/json");
        text = body.dump();
    }
    return http_request(method, url(path), text, h);
}

int64_t Gateway::add_provider(const std::string& name, const std::string& base_url,
                              const nlohmann::json& extra) {
    nlohmann::json body = {
        {"name", name}, {"base_url", base_url}, {"api_key", "sk-upstream-" + name + "-0123456789"}};
    for (const auto& [k, v] : extra.items())
        body[k] = v;
    auto r = admin("POST", "/admin/api/providers", body);
    if (r.status != 201)
        throw std::runtime_error("add_provider: " + std::to_string(r.status) + " " + r.body);
    return r.json()["id"].get<int64_t>();
}

int64_t Gateway::bind(int64_t provider_id, const std::string& model, const nlohmann::json& extra) {
    nlohmann::json body = {{"model", model}};
    for (const auto& [k, v] : extra.items())
        body[k] = v;
    auto r = admin("POST", "/admin/api/providers/" + std::to_string(provider_id) + "/models", body);
    if (r.status != 201)
        throw std::runtime_error("bind: " + std::to_string(r.status) + " " + r.body);
    return r.json()["id"].get<int64_t>();
}

void Gateway::resume_keys(int64_t provider_id) {
    const std::string path = "/admin/api/providers/" + std::to_string(provider_id) + "/keys";
    auto r = admin("GET", path);
    if (r.status != 200) throw std::runtime_error("resume_keys: " + r.body);
    const nlohmann::json keys = r.json()["keys"];
    for (const auto& k : keys) {
        auto put =
            admin("PUT", path + "/" + std::to_string(k["id"].get<int64_t>()), {{"resume", true}});
        if (put.status != 200) throw std::runtime_error("resume_keys: " + put.body);
    }
}

std::pair<int64_t, std::string> Gateway::create_key(const std::string& name,
                                                    const std::vector<int64_t>& allowed) {
    auto r =
        admin("POST", "/admin/api/keys", {{"name", name}, {"allowed_provider_model_ids", allowed}});
    if (r.status != 201)
        throw std::runtime_error("create_key: " + std::to_string(r.status) + " " + r.body);
    auto j = r.json();
    return {j["id"].get<int64_t>(), j["key"].get<std::string>()};
}

nlohmann::json Gateway::logs(const std::string& query) {
    auto r =
        admin("GET", "/admin/api/logs/query?page_size=200" + (query.empty() ? "" : "&" + query));
    if (r.status != 200)
        throw std::runtime_error("logs: " + std::to_string(r.status) + " " + r.body);
    return r.json()["logs"];
}

nlohmann::json Gateway::wait_log(const std::function<bool(const nlohmann::json&)>& pred,
                                 std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& row : logs()) {
            if (pred(row)) return row;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return nullptr;
}

HttpResponse Gateway::call(const std::string& path, const nlohmann::json& body,
                           const std::string& key) {
    return http_request("POST", url(path), body.dump(),
                        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key}});
}

}  // namespace modelgate::test

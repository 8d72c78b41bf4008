// Starts a real gateway (the App, on port 0) against a real database: a fresh
// SQLite file, or a fresh PostgreSQL database created on the server named by
// MODELGATE_TEST_PG_URL and dropped afterwards. Helpers drive the admin API the
// way an operator would.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/app.hpp"
#include "support/http_client.hpp"

namespace modelgate::test {

// "sqlite" or "postgresql": a database URL for a fresh, empty database.
class TestDatabase {
  public:
    explicit TestDatabase(const std::string& backend);
    ~TestDatabase();
    const std::string& url() const { return url_; }
    const std::string& backend() const { return backend_; }
    // Fails the test when PostgreSQL is requested but not configured.
    static bool postgres_available(std::string* why);

  private:
    std::string backend_;
    std::string url_;
    std::string dir_;
    std::string pg_admin_url_, pg_db_;
};

std::string temp_dir(const std::string& prefix);

class Gateway {
  public:
    using Tweak = std::function<void(core::Config&)>;
    Gateway(const std::string& backend, const Tweak& tweak = nullptr);
    // A second instance of the same deployment: the database and the master key
    // of `first`, its own data folder, App and scheduler. Destroy it before
    // `first`, which owns (and drops) the database.
    Gateway(const Gateway& first, const Tweak& tweak);
    ~Gateway();

    core::App& app() { return *app_; }
    std::string url(const std::string& path = "") const;
    const std::string& database_url() const { return database_url_; }
    const std::string& data_dir() const { return data_dir_; }
    const std::string& admin_password() const { return password_; }
    // "mg_admin_session=<token>" of the logged-in admin, for raw requests.
    const std::string& cookie() const { return cookie_; }

    // Admin API with a logged-in session.
    HttpResponse admin(const std::string& method, const std::string& path,
                       const nlohmann::json& body = nullptr);
    int64_t add_provider(const std::string& name, const std::string& base_url,
                         const nlohmann::json& extra = {});
    int64_t bind(int64_t provider_id, const std::string& model, const nlohmann::json& extra = {});
    // Ends the cool-down of every upstream key of a provider (admin "resume"),
    // for tests that provoke several rate limits in a row.
    void resume_keys(int64_t provider_id);
    // Creates a key; returns {id, secret}.
    std::pair<int64_t, std::string> create_key(const std::string& name,
                                               const std::vector<int64_t>& allowed = {});
    // Waits until the request log has a row matching pred (queried through the
    // admin API), and returns it; null on timeout.
    nlohmann::json wait_log(const std::function<bool(const nlohmann::json&)>& pred,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
    nlohmann::json logs(const std::string& query = "");

    // POSTs an OpenAI request with a key.
    HttpResponse call(const std::string& path, const nlohmann::json& body, const std::string& key);
    void stop();

  private:
    void start(const Tweak& tweak, const std::string& master_key);

    std::unique_ptr<TestDatabase> db_;  // none when sharing another gateway's
    std::string database_url_;
    std::string data_dir_;
    std::string password_;
    std::unique_ptr<core::App> app_;
    std::string cookie_;
};

}  // namespace modelgate::test

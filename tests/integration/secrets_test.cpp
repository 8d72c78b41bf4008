// Secrets at rest and in answers: credentials among a provider's extra headers
// are sealed and masked, keyed fingerprints, owner-only files, the metrics
// token, and login lockouts that one client cannot turn against every admin.
#include <soci/soci.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "integration/fixture.hpp"
#include "util/crypto.hpp"

namespace modelgate::test {
namespace {

using json = nlohmann::json;

constexpr const char* kHeaderSecret = "azure-secret-0123456789abcdef";

class SecretsTest : public GatewayTest {
  protected:
    std::string provider_path() const { return "/admin/api/providers/" + std::to_string(provider); }
    std::string stored_options() {
        std::string options;
        gw->app().database().with_session([&](soci::session& s) {
            long long id = provider;
            s << "SELECT options FROM providers WHERE id = :id", soci::use(id), soci::into(options);
        });
        return options;
    }
};

TEST_P(SecretsTest, CredentialsAmongExtraHeadersAreSealedAndMasked) {
    auto put = gw->admin("PUT", provider_path(),
                         {{"extra_headers", {{"api-key", kHeaderSecret}, {"X-Trace", "t-1"}}}});
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(stored_options().find(kHeaderSecret), std::string::npos)
        << "stored in the clear: " << stored_options();
    auto shown = gw->admin("GET", provider_path()).json()["options"]["extra_headers"];
    EXPECT_EQ(shown["api-key"], "azur…cdef");
    EXPECT_EQ(shown["X-Trace"], "t-1");
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    EXPECT_EQ(upstream->requests().back().header("api-key"), kHeaderSecret);
    // Sending the provider back as it was read keeps the secret.
    auto again = gw->admin("PUT", provider_path(), {{"extra_headers", shown}});
    ASSERT_EQ(again.status, 200) << again.body;
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    EXPECT_EQ(upstream->requests().back().header("api-key"), kHeaderSecret);
}

TEST_P(SecretsTest, AnAuthorizationExtraHeaderReplacesTheProviderKey) {
    auto put = gw->admin("PUT", provider_path(),
                         {{"extra_headers", {{"Authorization", "Bearer from-extra-headers-123"}}}});
    ASSERT_EQ(put.status, 200) << put.body;
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    auto sent = upstream->requests().back();
    EXPECT_EQ(sent.header("authorization"), "Bearer from-extra-headers-123");
    EXPECT_EQ(stored_options().find("from-extra-headers"), std::string::npos);
}

TEST_P(SecretsTest, FramingHeadersCannotBeConfigured) {
    for (const char* name : {"Content-Length", "transfer-encoding", "Host"}) {
        auto r = gw->admin("PUT", provider_path(), {{"extra_headers", {{name, "1"}}}});
        EXPECT_EQ(r.status, 400) << name;
        EXPECT_EQ(r.json()["error"]["code"], "invalid_provider_config") << r.body;
    }
}

TEST_P(SecretsTest, UpstreamKeyFingerprintsAreKeyed) {
    std::string hash;
    gw->app().database().with_session([&](soci::session& s) {
        long long id = provider;
        s << "SELECT key_hash FROM provider_keys WHERE provider_id = :id", soci::use(id),
            soci::into(hash);
    });
    ASSERT_EQ(hash.size(), 64u);
    EXPECT_NE(hash, core::crypto::sha256_hex("sk-upstream-acme-0123456789"));
}

TEST_P(SecretsTest, PutOfAnUpstreamKeyAnswersTheKeyAndTimeRulesTheirCreationTime) {
    auto keys = gw->admin("GET", provider_path() + "/keys").json()["keys"];
    ASSERT_EQ(keys.size(), 1u);
    auto r = gw->admin("PUT", provider_path() + "/keys/" + std::to_string(keys[0]["id"].get<int>()),
                       {{"label", "main"}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["label"], "main");
    EXPECT_EQ(r.json()["state"], "active");
    EXPECT_TRUE(r.json()["api_key"].is_string());
    auto k = gw->create_key("ruled");
    auto rule = gw->admin("POST", "/admin/api/keys/" + std::to_string(k.first) + "/time-rules",
                          {{"rule_type", "weekday"}, {"allowed", true}, {"weekdays", "1,2,3"}});
    ASSERT_EQ(rule.status, 201) << rule.body;
    EXPECT_FALSE(rule.json()["created_at"].get<std::string>().empty()) << rule.body;
}

class MetricsTokenTest : public GatewayTest {
  protected:
    void tweak(core::Config& c) override { c.metrics_token = "scrape-me-0123456789"; }
};

TEST_P(MetricsTokenTest, MetricsNeedTheTokenWhenOneIsSet) {
    auto none = http_request("GET", gw->url("/metrics"));
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.json()["error"]["code"], "invalid_metrics_token");
    EXPECT_EQ(
        http_request("GET", gw->url("/metrics"), "", {{"Authorization", "Bearer nope"}}).status,
        401);
    auto ok = http_request("GET", gw->url("/metrics"), "",
                           {{"Authorization", "Bearer scrape-me-0123456789"}});
    EXPECT_EQ(ok.status, 200);
    EXPECT_NE(ok.body.find("modelgate_build_info"), std::string::npos);
}

class TwoAdminsTest : public GatewayTest {
  protected:
    void tweak(core::Config& c) override {
        c.admins.push_back({"carol", "carols-password"});
        c.trusted_proxies = {"127.0.0.1/32"};  // so the test can play several clients
    }
    HttpResponse login(const std::string& user, const std::string& pass, const std::string& ip) {
        return http_request("POST", gw->url("/admin/api/auth/login"),
                            json{{"username", user}, {"password", pass}}.dump(),
                            {{"Content-Type", "application/json"}, {"X-Forwarded-For", ip}});
    }
};

TEST_P(TwoAdminsTest, OneClientLocksOutOnlyTheNamesItTries) {
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(login("admin", "wrong", "10.0.0.1").status, 401) << i;
    auto locked = login("admin", gw->admin_password(), "10.0.0.1");
    EXPECT_EQ(locked.status, 429);
    EXPECT_EQ(locked.json()["error"]["code"], "login_locked");
    // The same client with another admin's name, and the same name from
    // another client: not locked out.
    EXPECT_EQ(login("carol", "carols-password", "10.0.0.1").status, 200);
    EXPECT_EQ(login("admin", gw->admin_password(), "10.0.0.2").status, 200);
}

TEST_P(TwoAdminsTest, ANameIsLockedAfterManyFailuresFromAnywhere) {
    // Twenty failures for one name from five clients, four each: no client
    // reaches its own bound, the name reaches its.
    for (int client = 0; client < 5; ++client) {
        for (int i = 0; i < 4; ++i) {
            EXPECT_EQ(login("carol", "x", "10.0.1." + std::to_string(client)).status, 401);
        }
    }
    auto r = login("carol", "carols-password", "10.0.2.1");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(login("admin", gw->admin_password(), "10.0.2.1").status, 200);
}

MODELGATE_BACKENDS(SecretsTest);
MODELGATE_BACKENDS(MetricsTokenTest);
INSTANTIATE_TEST_SUITE_P(Sqlite, TwoAdminsTest, ::testing::Values("sqlite"), backend_name);

class SqliteFilesTest : public GatewayTest {};

TEST_P(SqliteFilesTest, TheDatabaseAndItsCompanionsAreOwnerOnly) {
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    std::string db = gw->database_url().substr(std::string("sqlite:").size());
    for (const std::string suffix : {"", "-wal", "-shm"}) {
        struct stat st {};
        if (::stat((db + suffix).c_str(), &st) != 0) continue;  // -wal may be checkpointed away
        EXPECT_EQ(st.st_mode & 0777, 0600u) << db + suffix;
    }
    struct stat key_file {};
    ASSERT_EQ(::stat((gw->data_dir() + "/master.key").c_str(), &key_file), 0);
    EXPECT_EQ(key_file.st_mode & 0777, 0600u);
}

TEST_P(SqliteFilesTest, HealthzNoticesTheDatabaseFileReplacedOrDeleted) {
    ASSERT_EQ(http_request("GET", gw->url("/healthz")).status, 200);
    std::string db = gw->database_url().substr(std::string("sqlite:").size());
    std::filesystem::rename(db, db + ".moved");
    { std::ofstream(db) << ""; }  // another file where the database was
    ASSERT_TRUE(eventually([&] { return http_request("GET", gw->url("/healthz")).status == 503; }));
    auto j = http_request("GET", gw->url("/healthz")).json();
    EXPECT_EQ(j["status"], "degraded");
    EXPECT_NE(j["database"]["problem"].get<std::string>().find("replaced"), std::string::npos);
    std::filesystem::remove(db);
    ASSERT_TRUE(eventually([&] {
        auto h = http_request("GET", gw->url("/healthz")).json();
        return h["database"]["problem"].is_string() &&
               h["database"]["problem"].get<std::string>().find("deleted") != std::string::npos;
    }));
    std::filesystem::rename(db + ".moved", db);
    EXPECT_TRUE(eventually([&] { return http_request("GET", gw->url("/healthz")).status == 200; }));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteFilesTest, ::testing::Values("sqlite"), backend_name);

}  // namespace
}  // namespace modelgate::test

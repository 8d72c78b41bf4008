// Small pieces with sharp edges: crypto, redaction, client IPs, routing,
// configuration parsing, time formats.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "app/app.hpp"
#include "config/config.hpp"
#include "http/client_ip.hpp"
#include "http/request_util.hpp"
#include "http/router.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "util/crypto.hpp"
#include "util/redact.hpp"
#include "util/time.hpp"

using namespace modelgate::core;

// docs/errors.md shows the error table row by row: it must say what the code does.
TEST(ErrorTable, TheDocumentedTableIsTheOneInTheCode) {
    std::ifstream in(std::string(MODELGATE_SOURCE_DIR) + "/docs/errors.md");
    ASSERT_TRUE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    for (int i = 0; i <= static_cast<int>(ErrorCode::shutting_down); ++i) {
        auto code = static_cast<ErrorCode>(i);
        std::string row = "| " + std::to_string(http_status(code)) + " | `" + error_type(code) +
                          "` | `" + default_error_code(code) + "` | `" +
                          call_status_name(call_status(code)) + "` |";
        EXPECT_NE(text.str().find(row), std::string::npos) << "docs/errors.md lacks: " << row;
    }
}

TEST(Crypto, SecretBoxRoundTripsAndDetectsTampering) {
    crypto::SecretBox box(std::string(32, 'k'));
    auto sealed = box.seal("sk-very-secret");
    EXPECT_EQ(sealed.rfind("v1:", 0), 0u);
    EXPECT_EQ(sealed.find("very-secret"), std::string::npos);
    EXPECT_EQ(box.open(sealed).value_or(""), "sk-very-secret");
    EXPECT_NE(box.seal("sk-very-secret"), sealed) << "nonces must differ";
    std::string tampered = sealed;
    tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(box.open(tampered).has_value());
    crypto::SecretBox other(std::string(32, 'x'));
    EXPECT_FALSE(other.open(sealed).has_value());
    EXPECT_FALSE(box.open("garbage").has_value());
}

TEST(Crypto, EncodingsAndComparison) {
    EXPECT_EQ(crypto::sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(crypto::hex_decode(crypto::hex_encode("\x01\xff")).value_or(""), "\x01\xff");
    EXPECT_FALSE(crypto::hex_decode("zz").has_value());
    for (std::string s : {"", "a", "ab", "abc", "abcd"})
        EXPECT_EQ(crypto::base64_decode(crypto::base64_encode(s)).value_or("!"), s);
    EXPECT_TRUE(crypto::constant_time_equal("abc", "abc"));
    EXPECT_FALSE(crypto::constant_time_equal("abc", "abd"));
    EXPECT_FALSE(crypto::constant_time_equal("abc", "abcd"));
    EXPECT_EQ(crypto::random_hex(24).size(), 48u);
}

TEST(Crypto, MasksShowAtMostAThirdOfASecret) {
    EXPECT_EQ(crypto::mask_secret("sk-upstream-acme-0123456789"), "sk-u…6789");
    EXPECT_EQ(crypto::mask_secret("sk-abcdefghijkl"), "sk…kl");
    EXPECT_EQ(crypto::mask_secret("abcdefghij"), "…");
    EXPECT_EQ(crypto::mask_secret(""), "");
    for (std::size_t n = 1; n < 60; ++n) {
        std::string secret(n, 'x');
        std::string shown = crypto::mask_secret(secret);
        std::size_t revealed = shown.size() - (shown.empty() ? 0 : std::string("…").size());
        EXPECT_LE(revealed * 3, n) << n;
    }
}

TEST(Crypto, FingerprintsAreKeyed) {
    crypto::SecretBox box(std::string(32, 'k')), other(std::string(32, 'o'));
    std::string fp = box.fingerprint("sk-secret-1234567890");
    EXPECT_EQ(fp.size(), 64u);
    EXPECT_EQ(fp, box.fingerprint("sk-secret-1234567890"));
    EXPECT_NE(fp, box.fingerprint("sk-secret-1234567891"));
    EXPECT_NE(fp, other.fingerprint("sk-secret-1234567890"));
    EXPECT_NE(fp, crypto::sha256_hex("sk-secret-1234567890")) << "a plain hash can be guessed at";
}

TEST(Redact, RemovesSecretsAndBoundsLength) {
    EXPECT_EQ(redact("Authorization: Bearer sk-abc.def_123 rest"),
              "Authorization: Bearer [REDACTED] rest");
    EXPECT_EQ(redact(R"({"api_key": "s3cret", "model": "x"})"),
              R"({"api_key": "[REDACTED]", "model": "x"})");
    EXPECT_EQ(redact(R"({'apiKey':'s3cret'})"), R"({'apiKey':'[REDACTED]'})");
    EXPECT_EQ(redact("key sk-0123456789abcdef0123 leaked"), "key sk-[REDACTED] leaked");
    EXPECT_EQ(redact("sk-short stays"), "sk-short stays");
    auto long_text = redact(std::string(50, 'a'), 10);
    EXPECT_EQ(long_text, "aaaaaaaaaa... [truncated 40 bytes]");
    // Cutting never splits a UTF-8 character.
    auto cjk = redact("你好你好", 4);
    EXPECT_EQ(cjk.substr(0, 3), "你");
}

TEST(ClientIp, ForwardedHeadersOnlyFromTrustedProxies) {
    http::ClientIpResolver none({});
    EXPECT_EQ(none.resolve("10.0.0.5", "1.2.3.4", "5.6.7.8"), "10.0.0.5");
    http::ClientIpResolver trusted({"10.0.0.0/8", "::1/128"});
    EXPECT_EQ(trusted.resolve("10.0.0.5", "1.2.3.4, 10.0.0.7", ""), "1.2.3.4");
    EXPECT_EQ(trusted.resolve("10.0.0.5", "9.9.9.9, 1.2.3.4", ""), "1.2.3.4")
        << "right-most untrusted hop";
    EXPECT_EQ(trusted.resolve("10.0.0.5", "", "5.6.7.8"), "5.6.7.8");
    EXPECT_EQ(trusted.resolve("192.168.1.1", "1.2.3.4", ""), "192.168.1.1");
    EXPECT_EQ(trusted.resolve("::1", "[2001:db8::1]:443", ""), "2001:db8::1");
    EXPECT_FALSE(http::parse_cidr("10.0.0.0/33").has_value());
    EXPECT_FALSE(http::normalize_ip("unknown").has_value());
    EXPECT_EQ(http::normalize_ip("1.2.3.4:80").value_or(""), "1.2.3.4");
}

TEST(Router, StaticPatternPrefixAndMethodMismatch) {
    http::Router r;
    int hit = 0;
    r.add("GET", "/a/b", [&](http::Request&, const http::ResponderPtr&) { hit = 1; });
    r.add("PUT", "/keys/{id}/rules/{rule_id}",
          [&](http::Request&, const http::ResponderPtr&) { hit = 2; });
    r.add_prefix(
        "GET", "/plugins/x", [&](http::Request&, const http::ResponderPtr&) { hit = 3; }, "x");
    const http::Route* h = nullptr;
    http::PathParams p;
    EXPECT_EQ(r.match("GET", "/a/b", h, p), http::Router::Match::found);
    EXPECT_EQ(r.match("POST", "/a/b", h, p), http::Router::Match::method_not_allowed);
    EXPECT_EQ(r.match("PUT", "/keys/12/rules/7", h, p), http::Router::Match::found);
    EXPECT_EQ(p["id"], "12");
    EXPECT_EQ(p["rule_id"], "7");
    EXPECT_EQ(r.match("GET", "/plugins/x/deep/path", h, p), http::Router::Match::found);
    EXPECT_EQ(r.match("GET", "/plugins/xy", h, p), http::Router::Match::not_found);
    EXPECT_EQ(r.match("GET", "/nope", h, p), http::Router::Match::not_found);
    r.remove_owner("x");
    EXPECT_EQ(r.match("GET", "/plugins/x/deep", h, p), http::Router::Match::not_found);
}

TEST(RequestUtil, QueryAndCookies) {
    auto q = http::parse_query("a=1&b=hello%20world&c&a=2");
    EXPECT_EQ(q["a"], "1");
    EXPECT_EQ(q["b"], "hello world");
    EXPECT_EQ(q["c"], "");
    EXPECT_EQ(http::cookie_value("x=1; mg_admin_session=tok; y=2", "mg_admin_session"), "tok");
    EXPECT_EQ(http::cookie_value("x=1", "nope"), "");
}

TEST(Config, AdminUsersAndDatabaseUrls) {
    auto admins = parse_admin_users(" alice:pa:ss , bob:x ,broken, :nouser");
    ASSERT_EQ(admins.size(), 2u);
    EXPECT_EQ(admins[0].username, "alice");
    EXPECT_EQ(admins[0].password, "pa:ss");
    auto pg = store::parse_database_url("postgresql+asyncpg://mg:pw@db:5432/modelgate");
    ASSERT_TRUE(pg.ok());
    EXPECT_EQ(pg->dialect, store::Dialect::postgresql);
    EXPECT_EQ(pg->connect_string, "host=db port=5432 dbname=modelgate user=mg password=pw");
    auto encoded =
        store::parse_database_url("postgresql://u%40x:p%2Fw@[::1]:6432/db?sslmode=require");
    ASSERT_TRUE(encoded.ok());
    EXPECT_EQ(encoded->connect_string,
              "host=::1 port=6432 dbname=db user=u@x password=p/w sslmode=require");
    EXPECT_EQ(pg->display, "postgresql://mg:***@db:5432/modelgate");
    auto lite = store::parse_database_url("sqlite:///var/lib/mg/db.sqlite");
    ASSERT_TRUE(lite.ok());
    EXPECT_EQ(lite->sqlite_path, "/var/lib/mg/db.sqlite");
    EXPECT_EQ(store::parse_database_url("sqlite:data/x.db")->sqlite_path, "data/x.db");
    EXPECT_FALSE(store::parse_database_url("mysql://x").ok());
}

TEST(Config, FlagsOverrideTheEnvironmentAndBadValuesFail) {
    ::setenv("PORT", "9000", 1);
    ::unsetenv("ADMIN_USERS");
    ::unsetenv("ADMIN_PASSWORD");
    Config c;
    const char* argv[] = {"modelgate", "--port", "9100", "--log-level=DEBUG"};
    auto r = load_config(4, const_cast<char**>(argv), c);
    EXPECT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(c.port, 9100);
    EXPECT_EQ(c.log_level, "DEBUG");
    EXPECT_TRUE(c.admin_password_generated);
    EXPECT_GE(c.admins.front().password.size(), 20u);
    Config d;
    const char* bad[] = {"modelgate", "--port", "99999"};
    EXPECT_FALSE(load_config(3, const_cast<char**>(bad), d).error.empty());
    const char* unknown[] = {"modelgate", "--frobnicate"};
    EXPECT_FALSE(load_config(2, const_cast<char**>(unknown), d).error.empty());
    ::unsetenv("PORT");
}

TEST(Time, Iso8601RoundTrip) {
    EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso8601_utc(1795710600123LL), "2026-11-26T16:30:00.123Z");
    EXPECT_EQ(parse_iso8601("2026-11-26T16:30:00.123Z").value_or(0), 1795710600123LL);
    EXPECT_EQ(parse_iso8601("2026-11-27T00:30:00+08:00").value_or(0), 1795710600000LL);
    EXPECT_EQ(parse_iso8601("2026-11-26 16:30:00").value_or(0), 1795710600000LL);
    EXPECT_EQ(parse_iso8601("2026-11-26").value_or(0), 1795651200000LL);
    EXPECT_FALSE(parse_iso8601("yesterday").has_value());
    EXPECT_FALSE(parse_iso8601("2026-13-01").has_value());
}

TEST(Migrations, SplitsStatementsOutsideQuotesAndComments) {
    auto s = store::split_sql_statements(
        "CREATE TABLE a (x TEXT DEFAULT ';'); -- a; comment\nINSERT INTO a VALUES ('b;c');\n");
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[1], "INSERT INTO a VALUES ('b;c')");
}

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

TEST(Locales, EveryCatalogHasTheSameKeysAsEnglish) {
    auto load = [](const std::string& lang) {
        std::ifstream in(std::string(MODELGATE_SOURCE_DIR) + "/locales/" + lang + ".json");
        std::stringstream ss;
        ss << in.rdbuf();
        auto j = nlohmann::json::parse(ss.str(), nullptr, false);
        std::set<std::string> keys;
        if (j.is_object()) {
            for (const auto& [k, v] : j.items()) {
                EXPECT_TRUE(v.is_string() && !v.get<std::string>().empty()) << lang << ": " << k;
                keys.insert(k);
            }
        }
        return keys;
    };
    auto en = load("en");
    auto zh = load("zh");
    EXPECT_FALSE(en.empty());
    for (const auto& k : en)
        EXPECT_TRUE(zh.count(k)) << "zh.json lacks " << k;
    for (const auto& k : zh)
        EXPECT_TRUE(en.count(k)) << "en.json lacks " << k;
}

TEST(StalePending, TheLongestQueueWaitPlusTotalTimeoutPlusAMinute) {
    Snapshot snap;
    auto a = std::make_shared<ProviderRuntime>();
    a->queue_timeout_ms = 30000;
    a->total_timeout_ms = 120000;
    auto b = std::make_shared<ProviderRuntime>();
    b->queue_timeout_ms = 5000;
    b->total_timeout_ms = 600000;
    snap.providers["a"] = a;
    EXPECT_EQ(stale_pending_ms(snap), 30000 + 120000 + 60000);
    snap.providers["b"] = b;
    EXPECT_EQ(stale_pending_ms(snap), 5000 + 600000 + 60000);
}

// The admin JSON API: sessions, CRUD on the original's paths and shapes,
// secrets never leaving in full, the log query, and input validation.
#include <soci/soci.h>

#include "integration/fixture.hpp"
#include "util/crypto.hpp"

namespace modelgate::test {

using nlohmann::json;

class AdminApiTest : public GatewayTest {};

TEST_P(AdminApiTest, LoginLogoutAndSessionCookie) {
    auto bad = http_request("POST", gw->url("/admin/api/auth/login"),
                            json{{"username", "admin"}, {"password", "nope"}}.dump(),
                            {{"Content-Type", "application/json"}});
    EXPECT_EQ(bad.status, 401);
    EXPECT_EQ(bad.json()["error"]["code"], "invalid_credentials");

    auto ok = http_request("POST", gw->url("/admin/api/auth/login"),
                           json{{"username", "admin"}, {"password", gw->admin_password()}}.dump(),
                           {{"Content-Type", "application/json"}});
    ASSERT_EQ(ok.status, 200);
    ASSERT_EQ(ok.set_cookies.size(), 1u);
    const std::string& cookie = ok.set_cookies[0];
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
    std::string session = cookie.substr(0, cookie.find(';'));

    auto check = http_request("GET", gw->url("/admin/api/auth/check"), "", {{"Cookie", session}});
    EXPECT_EQ(check.json()["authenticated"], true);
    EXPECT_EQ(check.json()["username"], "admin");
    EXPECT_EQ(
        http_request("GET", gw->url("/admin/api/providers"), "", {{"Cookie", session}}).status,
        200);

    EXPECT_EQ(
        http_request("POST", gw->url("/admin/api/auth/logout"), "", {{"Cookie", session}}).status,
        200);
    EXPECT_EQ(
        http_request("GET", gw->url("/admin/api/providers"), "", {{"Cookie", session}}).status,
        401);
    EXPECT_EQ(http_request("GET", gw->url("/admin/api/auth/check"), "", {{"Cookie", session}})
                  .json()["authenticated"],
              false);
}

TEST_P(AdminApiTest, RepeatedFailuresLockTheLogin) {
    for (int i = 0; i < 5; ++i) {
        auto r = http_request("POST", gw->url("/admin/api/auth/login"),
                              json{{"username", "admin"}, {"password", "x"}}.dump(),
                              {{"Content-Type", "application/json"}});
        EXPECT_EQ(r.status, 401);
    }
    auto locked =
        http_request("POST", gw->url("/admin/api/auth/login"),
                     json{{"username", "admin"}, {"password", gw->admin_password()}}.dump(),
                     {{"Content-Type", "application/json"}});
    EXPECT_EQ(locked.status, 429);
    EXPECT_EQ(locked.json()["error"]["code"], "login_locked");
}

TEST_P(AdminApiTest, EverythingNeedsASession) {
    for (auto [method, path] :
         std::vector<std::pair<std::string, std::string>>{{"GET", "/admin/api/providers"},
                                                          {"GET", "/admin/api/keys"},
                                                          {"GET", "/admin/api/models"},
                                                          {"GET", "/admin/api/logs/query"},
                                                          {"GET", "/admin/api/plugins"},
                                                          {"DELETE", "/admin/api/keys/1"}}) {
        auto r = http_request(method, gw->url(path));
        EXPECT_EQ(r.status, 401) << method << " " << path;
        EXPECT_EQ(r.json()["error"]["type"], "authentication_error");
    }
}

TEST_P(AdminApiTest, MutationsMustBeJson) {
    auto r = http_request("POST", gw->url("/admin/api/keys"), "name=evil",
                          {{"Cookie", ""}, {"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 401);  // no session: rejected before anything else
    // With a session, a form-encoded body is refused (CSRF defence).
    auto login =
        http_request("POST", gw->url("/admin/api/auth/login"),
                     json{{"username", "admin"}, {"password", gw->admin_password()}}.dump(),
                     {{"Content-Type", "application/json"}});
    std::string session = login.set_cookies[0].substr(0, login.set_cookies[0].find(';'));
    auto form =
        http_request("POST", gw->url("/admin/api/keys"), "name=evil",
                     {{"Cookie", session}, {"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(form.status, 415);
    EXPECT_EQ(gw->admin("GET", "/admin/api/keys").json()["api_keys"].size(), 1u);
}

TEST_P(AdminApiTest, ProviderSecretsAreNeverReturned) {
    auto list = gw->admin("GET", "/admin/api/providers");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.body.find("sk-upstream-acme-0123456789"), std::string::npos) << list.body;
    auto p = list.json()["providers"][0];
    EXPECT_EQ(p["name"], "acme");
    EXPECT_EQ(p["has_api_key"], true);
    EXPECT_EQ(p["api_key"], "sk-u…6789");
    EXPECT_EQ(p["status"]["usable"], true);
    // Nor stored in plaintext.
    auto one = gw->admin("GET", "/admin/api/providers/" + std::to_string(provider));
    EXPECT_EQ(one.body.find("0123456789\""), std::string::npos);
}

TEST_P(AdminApiTest, ProviderCrudAndValidation) {
    auto bad_url =
        gw->admin("POST", "/admin/api/providers", {{"name", "x"}, {"base_url", "ftp://nope"}});
    EXPECT_EQ(bad_url.status, 400);
    auto bad_name =
        gw->admin("POST", "/admin/api/providers", {{"name", "a/b"}, {"base_url", "http://h"}});
    EXPECT_EQ(bad_name.status, 400);
    auto bad_adapter = gw->admin("POST", "/admin/api/providers",
                                 {{"name", "z"}, {"base_url", "http://h"}, {"adapter", "nope"}});
    EXPECT_EQ(bad_adapter.status, 400);
    EXPECT_NE(bad_adapter.json()["error"]["message"].get<std::string>().find("openai"),
              std::string::npos);
    auto bad_option =
        gw->admin("POST", "/admin/api/providers",
                  {{"name", "z"}, {"base_url", "http://h"}, {"options", {{"extra_headers", "x"}}}});
    EXPECT_EQ(bad_option.status, 400);
    auto dup =
        gw->admin("POST", "/admin/api/providers", {{"name", "acme"}, {"base_url", "http://h"}});
    EXPECT_EQ(dup.status, 409);

    auto created = gw->admin("POST", "/admin/api/providers",
                             {{"name", "other"},
                              {"base_url", "http://127.0.0.1:1/v1/"},
                              {"max_concurrent", 3},
                              {"extra_headers", {{"X-Org", "42"}}}});
    ASSERT_EQ(created.status, 201) << created.body;
    int64_t id = created.json()["id"];
    auto got = gw->admin("GET", "/admin/api/providers/" + std::to_string(id)).json();
    EXPECT_EQ(got["base_url"], "http://127.0.0.1:1/v1");
    EXPECT_EQ(got["max_concurrency"], 3);
    EXPECT_EQ(got["options"]["extra_headers"]["X-Org"], "42");
    EXPECT_EQ(got["has_api_key"], false);

    EXPECT_EQ(gw->admin("PUT", "/admin/api/providers/" + std::to_string(id),
                        {{"is_active", false}, {"max_concurrency", 5}})
                  .status,
              200);
    got = gw->admin("GET", "/admin/api/providers/" + std::to_string(id)).json();
    EXPECT_EQ(got["is_active"], false);
    EXPECT_EQ(got["max_concurrency"], 5);
    EXPECT_EQ(gw->admin("PUT", "/admin/api/providers/999999", {{"is_active", false}}).status, 404);

    // A provider whose bindings are in a key's allowlist cannot be deleted.
    auto limited = gw->create_key("bob", {chat_binding});
    EXPECT_EQ(
        gw->admin("DELETE", "/admin/api/providers/" + std::to_string(provider) + "?force=true")
            .status,
        409);
    EXPECT_EQ(gw->admin("DELETE", "/admin/api/providers/" + std::to_string(id)).status, 200);
    EXPECT_EQ(gw->admin("GET", "/admin/api/providers/" + std::to_string(id)).status, 404);
}

TEST_P(AdminApiTest, DisablingAProviderStopsRouting) {
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    ASSERT_EQ(
        gw->admin("PUT", "/admin/api/providers/" + std::to_string(provider), {{"is_active", false}})
            .status,
        200);
    auto r = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.json()["error"]["code"], "provider_disabled");
}

TEST_P(AdminApiTest, KeysShowTheSecretOnceAndStoreOnlyAHash) {
    auto created = gw->admin("POST", "/admin/api/keys",
                             {{"name", "ci"}, {"allowed_provider_model_ids", {chat_binding}}});
    ASSERT_EQ(created.status, 201);
    std::string secret = created.json()["key"];
    EXPECT_EQ(secret.rfind("sk-", 0), 0u);
    EXPECT_EQ(secret.size(), 51u);
    auto list = gw->admin("GET", "/admin/api/keys");
    EXPECT_EQ(list.body.find(secret), std::string::npos);
    EXPECT_EQ(list.body.find(secret.substr(10)), std::string::npos);
    bool found = false;
    auto listed = list.json();
    for (const auto& k : listed["api_keys"]) {
        if (k["name"] != "ci") continue;
        found = true;
        EXPECT_EQ(k["key_prefix"], secret.substr(0, 9));
        EXPECT_EQ(k["allowed_provider_model_ids"], json::array({chat_binding}));
    }
    EXPECT_TRUE(found) << list.body;
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), secret).status, 200);
    // What the database holds: the SHA-256 and the display prefix, nothing more.
    int rows = 0;
    gw->app().database().with_session([&](soci::session& s) {
        soci::rowset<soci::row> rs = (s.prepare << "SELECT * FROM api_keys WHERE name = 'ci'");
        for (const auto& row : rs) {
            ++rows;
            for (std::size_t i = 0; i < row.size(); ++i) {
                if (row.get_indicator(i) == soci::i_null ||
                    row.get_properties(i).get_data_type() != soci::dt_string)
                    continue;
                std::string value = row.get<std::string>(i);
                std::string column = row.get_properties(i).get_name();
                EXPECT_EQ(value.find(secret.substr(9)), std::string::npos)
                    << "column " << column << " holds the secret";
                if (column == "key_hash") {
                    std::string trimmed = value.substr(0, value.find_last_not_of(' ') + 1);
                    EXPECT_EQ(trimmed, core::crypto::sha256_hex(secret));
                }
            }
        }
    });
    EXPECT_EQ(rows, 1);

    auto bad_ids = gw->admin("POST", "/admin/api/keys",
                             {{"name", "x"}, {"allowed_provider_model_ids", {424242}}});
    EXPECT_EQ(bad_ids.status, 400);
    EXPECT_EQ(gw->admin("POST", "/admin/api/keys", {{"name", ""}}).status, 400);

    int64_t id = created.json()["id"];
    EXPECT_EQ(gw->admin("DELETE", "/admin/api/keys/" + std::to_string(id)).status, 200);
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), secret).status, 401);
    // Its logs stay readable after the key is gone.
    auto row = gw->wait_log([](const json& l) { return l["api_key_name"] == "ci"; });
    EXPECT_FALSE(row.is_null());
}

TEST_P(AdminApiTest, TimeRuleValidation) {
    auto [id, secret] = gw->create_key("rules");
    std::string base = "/admin/api/keys/" + std::to_string(id) + "/time-rules";
    EXPECT_EQ(gw->admin("POST", base, {{"rule_type", "moon_phase"}}).status, 400);
    EXPECT_EQ(
        gw->admin("POST", base,
                  {{"rule_type", "time_range"}, {"start_time", "25:00"}, {"end_time", "26:00"}})
            .status,
        400);
    EXPECT_EQ(gw->admin("POST", base,
                        {{"rule_type", "date_range"},
                         {"start_date", "2026-02-30"},
                         {"end_date", "2026-03-01"}})
                  .status,
              400);
    EXPECT_EQ(gw->admin("POST", base, {{"rule_type", "weekday"}, {"weekdays", "7"}}).status, 400);
    auto ok =
        gw->admin("POST", base,
                  {{"rule_type", "time_range"}, {"start_time", "22:00"}, {"end_time", "06:00"}});
    ASSERT_EQ(ok.status, 201) << ok.body;
    EXPECT_EQ(ok.json()["start_time"], "22:00:00");
    auto rules = gw->admin("GET", base).json()["rules"];
    ASSERT_EQ(rules.size(), 1u);
    int64_t rule = rules[0]["id"];
    auto upd = gw->admin("PUT", base + "/" + std::to_string(rule), {{"end_time", "07:30"}});
    EXPECT_EQ(upd.status, 200);
    EXPECT_EQ(upd.json()["end_time"], "07:30:00");
}

TEST_P(AdminApiTest, ModelsAndBindings) {
    auto m =
        gw->admin("POST", "/admin/api/models", {{"name", "glm-4.6"}, {"context_length", 200000}});
    ASSERT_EQ(m.status, 201);
    int64_t mid = m.json()["id"];
    EXPECT_EQ(gw->admin("POST", "/admin/api/models", {{"name", "glm-4.6"}}).status, 409);
    auto b = gw->admin("POST", "/admin/api/providers/" + std::to_string(provider) + "/models",
                       {{"model_id", mid}, {"model_name_override", "glm"}});
    ASSERT_EQ(b.status, 201) << b.body;
    EXPECT_EQ(b.json()["public_id"], "acme/glm");
    // A bound model cannot be deleted.
    EXPECT_EQ(gw->admin("DELETE", "/admin/api/models/" + std::to_string(mid)).status, 409);
    auto bindings = gw->admin("GET", "/admin/api/providers/" + std::to_string(provider) + "/models")
                        .json()["bindings"];
    EXPECT_EQ(bindings.size(), 3u);
    auto pm = gw->admin("GET", "/admin/api/provider-models").json()["provider_models"];
    EXPECT_EQ(pm.size(), 3u);
    int64_t bid = b.json()["id"];
    EXPECT_EQ(gw->admin("DELETE", "/admin/api/providers/" + std::to_string(provider) + "/models/" +
                                      std::to_string(bid))
                  .status,
              200);
    EXPECT_EQ(gw->admin("DELETE", "/admin/api/models/" + std::to_string(mid)).status, 200);
    // A binding in an allowlist is protected: removing it would open the key.
    gw->create_key("bob", {chat_binding});
    EXPECT_EQ(gw->admin("DELETE", "/admin/api/providers/" + std::to_string(provider) + "/models/" +
                                      std::to_string(chat_binding))
                  .status,
              409);
}

TEST_P(AdminApiTest, LogQueryFiltersAndPages) {
    auto bob = gw->create_key("bob").second;
    auto bobby = gw->create_key("bobby").second;
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), bob).status, 200);
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), bobby).status, 200);
    auto missing = chat_body();
    missing["model"] = "acme/gpt-4o-mini";
    upstream->set_script(
        [](const FakeRequest&, FakeExchange& ex) { ex.respond(500, "boom", "text/plain"); });
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), bob).status, 500);
    ASSERT_FALSE(gw->wait_log([&](const json&) { return gw->logs().size() == 6; }).is_null());

    auto page = [&](const std::string& q) {
        return gw->admin("GET", "/admin/api/logs/query?" + q).json();
    };
    auto all = page("page_size=4");
    EXPECT_EQ(all["total"], 6);
    EXPECT_EQ(all["logs"].size(), 4u);
    EXPECT_EQ(all["page_size"], 4);
    auto p2 = page("page_size=4&page=2");
    EXPECT_EQ(p2["logs"].size(), 2u);
    // key_name: the exact name when some row has it, else a case-insensitive
    // substring.
    EXPECT_EQ(page("key_name=bob")["total"], 2);
    EXPECT_EQ(page("key_name=bobby")["total"], 1);
    EXPECT_EQ(page("key_name=BO")["total"], 3);
    EXPECT_EQ(page("key_name=BOB")["total"], 3);
    EXPECT_EQ(page("key_name=bob&status=success")["total"], 1);
    EXPECT_EQ(page("key_name=nobody")["total"], 0);
    EXPECT_EQ(page("key_name=%25")["total"], 0);  // LIKE metacharacters are literal
    EXPECT_EQ(page("status=error")["total"], 1);
    EXPECT_EQ(page("model=4o-mini")["total"], 6);
    EXPECT_EQ(page("model=%25")["total"], 0);  // LIKE metacharacters are literal
    EXPECT_EQ(page("provider=" + std::to_string(provider))["total"], 6);
    EXPECT_EQ(page("time_range=1h")["total"], 6);
    EXPECT_EQ(page("end_time=2000-01-01T00:00:00Z")["total"], 0);
    EXPECT_EQ(gw->admin("GET", "/admin/api/logs/query?page_size=500").status, 400);
    EXPECT_EQ(gw->admin("GET", "/admin/api/logs/query?time_range=2y").status, 400);
}

TEST_P(AdminApiTest, PluginsAreListed) {
    auto r = gw->admin("GET", "/admin/api/plugins");
    ASSERT_EQ(r.status, 200);
    auto j = r.json();
    EXPECT_EQ(j["host_abi"], "1.3");
    bool openai = false;
    for (const auto& p : j["loaded"]) {
        if (p["id"] == "openai") {
            openai = true;
            EXPECT_EQ(p["kind"], "provider");
            EXPECT_EQ(p["abi"], "1.3");
            EXPECT_FALSE(p["version"].get<std::string>().empty());
        }
    }
    EXPECT_TRUE(openai);
}

TEST_P(AdminApiTest, ModelKeyBindingsAreEditedFromTheModelSide) {
    auto bob = gw->create_key("bob", {embed_binding});
    auto carol = gw->create_key("carol", {chat_binding});
    int64_t model_id = 0;
    auto models = gw->admin("GET", "/admin/api/models").json();
    for (const auto& m : models["models"]) {
        if (m["name"] == "gpt-4o-mini") {
            model_id = m["id"].get<int64_t>();
            EXPECT_EQ(m["bound_key_count"], 1);
        }
    }
    ASSERT_GT(model_id, 0) << models.dump();
    std::string path = "/admin/api/models/" + std::to_string(model_id) + "/api-keys";
    auto view = gw->admin("GET", path);
    ASSERT_EQ(view.status, 200) << view.body;
    ASSERT_EQ(view.json()["bindings"].size(), 1u);
    EXPECT_EQ(view.json()["bindings"][0]["api_keys"][0]["name"], "carol");
    EXPECT_EQ(view.json()["unrestricted_keys"][0]["name"], "alice");

    // Taking carol's only model away would open her key to every model.
    auto refused =
        gw->admin("PUT", path, {{"provider_model_id", chat_binding}, {"api_key_ids", {bob.first}}});
    EXPECT_EQ(refused.status, 409) << refused.body;
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), bob.second).status, 403);

    auto added =
        gw->admin("PUT", path,
                  {{"provider_model_id", chat_binding},
                   {"api_key_ids", {bob.first, carol.first, gw->create_key("dave").first}}});
    ASSERT_EQ(added.status, 200) << added.body;
    EXPECT_EQ(added.json()["added"], nlohmann::json::array({bob.first}));
    EXPECT_EQ(added.json()["unrestricted"].size(), 1u);
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), bob.second).status, 200);

    auto removed = gw->admin("PUT", path,
                             {{"provider_model_id", chat_binding}, {"api_key_ids", {carol.first}}});
    ASSERT_EQ(removed.status, 200) << removed.body;
    EXPECT_EQ(removed.json()["removed"], nlohmann::json::array({bob.first}));
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), bob.second).status, 403);

    EXPECT_EQ(
        gw->admin("PUT", path, {{"provider_model_id", chat_binding}, {"api_key_ids", {999999}}})
            .status,
        400);
    EXPECT_EQ(
        gw->admin("PUT", path,
                  {{"provider_model_id", embed_binding}, {"api_key_ids", nlohmann::json::array()}})
            .status,
        400);
    EXPECT_EQ(gw->admin("PUT", path, {{"provider_model_id", chat_binding}}).status, 400);
    EXPECT_EQ(gw->admin("GET", "/admin/api/models/999999/api-keys").status, 404);
    EXPECT_EQ(http_request("GET", gw->url(path)).status, 401);
}

MODELGATE_BACKENDS(AdminApiTest);

}  // namespace modelgate::test

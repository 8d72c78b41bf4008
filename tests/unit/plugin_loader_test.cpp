// The loader's failure paths, on a corpus of deliberately broken libraries,
// and a gateway that starts anyway with the good ones.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <modelgate/host/adapter.hpp>

#include "plugins/plugin_host.hpp"
#include "support/fake_upstream.hpp"
#include "support/gateway.hpp"
#include "util/log.hpp"

using modelgate::core::plugins::PluginHost;
using nlohmann::json;

namespace {

std::string test_plugin(const std::string& name) {
    return std::string(MODELGATE_TEST_PLUGIN_DIR) + "/" + name + ".so";
}

std::string refusal(const std::string& name) {
    PluginHost host;
    EXPECT_FALSE(host.load_file(test_plugin(name))) << name << " was accepted";
    EXPECT_TRUE(host.loaded().empty());
    return host.refused().empty() ? std::string() : host.refused().front().reason;
}

}  // namespace

TEST(PluginLoader, RefusesAWrongAbiMajorPrecisely) {
    EXPECT_EQ(refusal("broken_abi_major"),
              "built for ABI 2.1, host is 1.3 (the major version must match)");
}

TEST(PluginLoader, RefusesANewerMinor) {
    EXPECT_EQ(refusal("broken_abi_minor"),
              "built for ABI 1.10, host is 1.3 (needs a newer gateway)");
}

TEST(PluginLoader, RefusesALibraryWithoutTheEntrySymbol) {
    EXPECT_NE(refusal("broken_no_entry").find("missing entry symbol 'modelgate_plugin_entry'"),
              std::string::npos);
}

TEST(PluginLoader, RefusesAThrowingEntry) {
    EXPECT_EQ(refusal("broken_throwing_entry"),
              "the entry function threw: cannot initialise the frobnicator");
}

TEST(PluginLoader, RefusesANullDescriptor) {
    EXPECT_NE(refusal("broken_null_descriptor").find("returned no descriptor"), std::string::npos);
}

TEST(PluginLoader, RefusesAProviderTableWithAHole) {
    EXPECT_EQ(refusal("broken_missing_hook"), "the provider table has a missing function");
}

TEST(PluginLoader, RefusesALibraryThatCannotBeLinked) {
    auto why = refusal("broken_undefined_symbol");
    EXPECT_NE(why.find("cannot load the library"), std::string::npos) << why;
    EXPECT_NE(why.find("modelgate_symbol_that_does_not_exist"), std::string::npos) << why;
}

TEST(PluginLoader, WhatAThrowingDecoderOrClassifierSaysReachesTheGatewayLog) {
    std::string log_file = modelgate::test::temp_dir("mg-log-") + "/gateway.log";
    ASSERT_TRUE(modelgate::core::log::set_file(log_file));
    PluginHost host;
    ASSERT_TRUE(
        host.load_file(std::string(MODELGATE_TEST_EXTRA_PLUGIN_DIR) + "/throwing_hooks.so"));
    auto adapter = modelgate::host::Adapter::create(*host.find_provider("throwing_hooks"), "t",
                                                    "http://upstream.invalid", json::object());
    ASSERT_TRUE(adapter.ok());
    modelgate::host::Call call;
    call.stream = true;
    call.model = "m";
    call.body = R"({"model":"m","messages":[]})";
    auto decoder = adapter.value->open_stream(call);
    ASSERT_TRUE(decoder.ok());
    int errors = 0;
    EXPECT_FALSE(decoder.value->feed("data: {}\n\n", [&](int32_t kind, uint32_t, std::string_view) {
        errors += kind == MG_EVENT_ERROR;
    }));
    EXPECT_EQ(errors, 1) << "the client still gets an error event";
    auto cls = adapter.value->classify_error(500, "", "{}");
    EXPECT_TRUE(cls.error.contains("message"));
    modelgate::core::log::set_file("");
    std::ifstream in(log_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("stream_feed failed: the decoder exploded on purpose"), std::string::npos)
        << text;
    EXPECT_NE(text.find("classify_error failed: the classifier exploded on purpose"),
              std::string::npos)
        << text;
}

TEST(PluginLoader, RefusesAMissingFile) {
    PluginHost host;
    EXPECT_FALSE(host.load_file("/nonexistent/plugin.so"));
    ASSERT_EQ(host.refused().size(), 1u);
}

TEST(PluginLoader, RefusesADuplicateId) {
    PluginHost host;
    std::string openai = std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so";
    EXPECT_TRUE(host.load_file(openai));
    // The same file again (as a copy) must not shadow the first.
    std::string copy = modelgate::test::temp_dir("mg-dup-") + "/openai-copy.so";
    std::filesystem::copy_file(openai, copy);
    EXPECT_FALSE(host.load_file(copy));
    EXPECT_NE(host.refused().front().reason.find("already provided"), std::string::npos);
}

// A gateway whose plugin folder holds every broken plugin, the OpenAI adapter,
// a feature plugin whose init throws and one that works.
class PluginGatewayTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = modelgate::test::temp_dir("mg-plugins-");
        for (const auto& entry : std::filesystem::directory_iterator(MODELGATE_TEST_PLUGIN_DIR)) {
            if (entry.path().extension() == ".so")
                std::filesystem::copy_file(entry.path(),
                                           dir_ + "/" + entry.path().filename().string());
        }
        std::filesystem::copy_file(std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so",
                                   dir_ + "/openai.so");
        ::setenv("MODELGATE_PLUGIN_CONFIG_ECHO", R"({"greeting": "bonjour"})", 1);
        gw_ = std::make_unique<modelgate::test::Gateway>(
            "sqlite", [this](modelgate::core::Config& c) { c.plugin_dir = dir_; });
    }
    void TearDown() override {
        gw_.reset();
        std::filesystem::remove_all(dir_);
    }
    std::string dir_;
    std::unique_ptr<modelgate::test::Gateway> gw_;
};

TEST_F(PluginGatewayTest, StartsWithTheGoodPluginsAndListsTheRefusedOnes) {
    auto r = gw_->admin("GET", "/admin/api/plugins");
    ASSERT_EQ(r.status, 200);
    auto j = r.json();
    std::set<std::string> loaded;
    for (const auto& p : j["loaded"])
        loaded.insert(p["id"]);
    EXPECT_EQ(loaded, (std::set<std::string>{"openai", "echo"}));
    std::map<std::string, std::string> refused;
    for (const auto& p : j["refused"])
        refused[std::filesystem::path(p["file"].get<std::string>()).stem()] = p["reason"];
    EXPECT_EQ(refused.size(), 8u) << j.dump(2);
    EXPECT_EQ(refused["broken_abi_major"],
              "built for ABI 2.1, host is 1.3 (the major version must match)");
    EXPECT_EQ(refused["broken_throwing_init"], "init failed: database of wisdom not found");
    // The throwing plugin's route was withdrawn with it.
    EXPECT_EQ(modelgate::test::http_request("GET", gw_->url("/plugins/throwing")).status, 404);
    EXPECT_EQ(
        modelgate::test::http_request("GET", gw_->url("/healthz")).json()["plugins"]["refused"], 8);
}

TEST_F(PluginGatewayTest, ApiKeyRoutesUseTheOneAuthenticatorOfV1) {
    auto [id, key] = gw_->create_key("plugin-user");
    auto whoami = [&](const std::string& authorization) {
        return modelgate::test::http_request("GET", gw_->url("/plugins/echo/whoami"), "",
                                             {{"Authorization", authorization}});
    };
    // The scheme in any case, on the plugin route and on /v1 alike.
    auto r = whoami("bearer " + key);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["api_key_id"], id);
    EXPECT_EQ(r.json()["api_key_name"], "plugin-user");
    EXPECT_EQ(modelgate::test::http_request("GET", gw_->url("/v1/models"), "",
                                            {{"Authorization", "bearer " + key}})
                  .status,
              200);
    EXPECT_EQ(whoami("").status, 401);
    EXPECT_EQ(whoami("Bearer sk-not-a-key").json()["error"]["code"], "invalid_api_key");
    // A key outside its time rules is refused there too, with the same answer.
    auto rule = gw_->admin("POST", "/admin/api/keys/" + std::to_string(id) + "/time-rules",
                           {{"rule_type", "date_range"},
                            {"allowed", false},
                            {"start_date", "2000-01-01"},
                            {"end_date", "2999-12-31"}});
    ASSERT_EQ(rule.status, 201) << rule.body;
    auto denied = whoami("Bearer " + key);
    EXPECT_EQ(denied.status, 403);
    EXPECT_EQ(denied.json()["error"]["code"], "access_time_restricted");
    auto v1 = modelgate::test::http_request("GET", gw_->url("/v1/models"), "",
                                            {{"Authorization", "Bearer " + key}});
    EXPECT_EQ(v1.status, 403);
    EXPECT_EQ(v1.json()["error"]["code"], "access_time_restricted");
}

TEST_F(PluginGatewayTest, APluginRouteNeverSeesDeeplyNestedJson) {
    std::string deep = std::string(100000, '[') + std::string(100000, ']');
    auto r = modelgate::test::http_request(
        "POST", gw_->url("/plugins/echo/notes"), R"({"id":1,"note":)" + deep + "}",
        {{"Content-Type", "application/json"}, {"Cookie", gw_->cookie()}});
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.json()["error"]["code"], "json_too_deep");
    EXPECT_EQ(modelgate::test::http_request("GET", gw_->url("/healthz")).status, 200);
}

TEST_F(PluginGatewayTest, FeaturePluginUsesEveryHostService) {
    auto echo = modelgate::test::http_request("GET", gw_->url("/plugins/echo/x?y=1"));
    ASSERT_EQ(echo.status, 200) << echo.body;
    auto j = echo.json();
    EXPECT_EQ(j["greeting"], "bonjour");  // validated config from the environment
    EXPECT_EQ(j["path"], "/plugins/echo/x");
    EXPECT_EQ(j["query"], "y=1");
    EXPECT_EQ(j["dialect"], "sqlite");
    EXPECT_EQ(j["zh"], "成功");
    EXPECT_EQ(j["fallback"], "Success");

    // Admin-only route: refused without a session, served with one.
    EXPECT_EQ(modelgate::test::http_request("POST", gw_->url("/plugins/echo/notes"), "{}").status,
              401);
    auto note = gw_->admin("POST", "/plugins/echo/notes", {{"id", 7}, {"note", "héllo"}});
    ASSERT_EQ(note.status, 201) << note.body;
    EXPECT_EQ(note.json()["rows"], json::parse(R"([{"id":7,"note":"héllo"}])"));
    EXPECT_EQ(note.json()["admin"], "admin");

    // The interval job runs.
    for (int i = 0; i < 60; ++i) {
        if (modelgate::test::http_request("GET", gw_->url("/plugins/echo"))
                .json()["job_runs"]
                .get<int>() > 0)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_GT(modelgate::test::http_request("GET", gw_->url("/plugins/echo"))
                  .json()["job_runs"]
                  .get<int>(),
              0);

    // An internal LLM call goes through the proxy pipeline and is logged.
    modelgate::test::FakeUpstream upstream;
    int64_t p = gw_->add_provider("acme", upstream.base_url());
    gw_->bind(p, "gpt-4o-mini");
    auto ask = gw_->admin("POST", "/plugins/echo/ask",
                          {{"model", "acme/gpt-4o-mini"},
                           {"messages", {{{"role", "user"}, {"content", "hi"}}}},
                           {"stream", true}});
    ASSERT_EQ(ask.status, 200) << ask.body;
    EXPECT_EQ(ask.json()["status"], 200);
    EXPECT_EQ(ask.json()["answer"]["choices"][0]["message"]["content"], "Hello world");
    EXPECT_EQ(upstream.requests().back().json()["stream"], false)
        << "internal calls are never streamed";
    auto row = gw_->wait_log([](const json& l) { return l["client_ip"] == "internal"; });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["api_key_name"], "internal:echo");
    EXPECT_EQ(row["status"], "success");
}

// A feature plugin built against the previous SDK (ABI 1.0, kept prebuilt in
// tests/fixtures/abi-1.0) still loads into this gateway and serves its routes.
TEST(PluginCompatibility, APluginBuiltForTheOlderMinorStillLoadsAndServes) {
    std::string dir = modelgate::test::temp_dir("mg-old-plugins-");
    std::filesystem::copy_file(
        std::string(MODELGATE_SOURCE_DIR) + "/tests/fixtures/abi-1.0/feature_echo.so",
        dir + "/feature_echo.so");
    std::filesystem::copy_file(std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so",
                               dir + "/openai.so");
    ::unsetenv("MODELGATE_PLUGIN_CONFIG_ECHO");
    {
        modelgate::test::Gateway gw("sqlite",
                                    [&](modelgate::core::Config& c) { c.plugin_dir = dir; });
        auto plugins = gw.admin("GET", "/admin/api/plugins").json();
        EXPECT_EQ(plugins["refused"].size(), 0u) << plugins.dump(2);
        bool found = false;
        for (const auto& p : plugins["loaded"]) {
            if (p["id"] != "echo") continue;
            found = true;
            EXPECT_EQ(p["abi"], "1.0");
        }
        EXPECT_TRUE(found) << plugins.dump(2);
        EXPECT_EQ(plugins["host_abi"], "1.3");
        auto echo = modelgate::test::http_request("GET", gw.url("/plugins/echo/x?y=1"));
        ASSERT_EQ(echo.status, 200) << echo.body;
        EXPECT_EQ(echo.json()["path"], "/plugins/echo/x");
        EXPECT_EQ(echo.json()["query"], "y=1");
        auto note = gw.admin("POST", "/plugins/echo/notes", {{"id", 1}, {"note", "old"}});
        ASSERT_EQ(note.status, 201) << note.body;
        EXPECT_EQ(note.json()["admin"], "admin");
    }
    std::filesystem::remove_all(dir);
}

// The loader's failure paths, on a corpus of deliberately broken libraries,
// and a gateway that starts anyway with the good ones.
#include <gtest/gtest.h>

#include <filesystem>

#include "plugins/plugin_host.hpp"
#include "support/fake_upstream.hpp"
#include "support/gateway.hpp"

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
              "built for ABI 2.1, host is 1.0 (the major version must match)");
}

TEST(PluginLoader, RefusesANewerMinor) {
    EXPECT_EQ(refusal("broken_abi_minor"),
              "built for ABI 1.7, host is 1.0 (needs a newer gateway)");
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
              "built for ABI 2.1, host is 1.0 (the major version must match)");
    EXPECT_EQ(refused["broken_throwing_init"], "init failed: database of wisdom not found");
    // The throwing plugin's route was withdrawn with it.
    EXPECT_EQ(modelgate::test::http_request("GET", gw_->url("/plugins/throwing")).status, 404);
    EXPECT_EQ(
        modelgate::test::http_request("GET", gw_->url("/healthz")).json()["plugins"]["refused"], 8);
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

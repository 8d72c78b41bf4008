// What the gateway does to requests on their way upstream (message merging,
// the outbound User-Agent) and the provider model sync.
#include <thread>

#include "integration/fixture.hpp"

namespace modelgate::test {

using nlohmann::json;

namespace {
json msg(const char* role, const char* content) {
    return {{"role", role}, {"content", content}};
}
}  // namespace

class PreprocessingTest : public GatewayTest {};

TEST_P(PreprocessingTest, MergingFollowsTheProviderSettingAndTheModel) {
    json messages = json::array({msg("system", "A"), msg("user", "hi"), msg("system", "B"),
                                 msg("user", "x"), msg("user", "y")});
    json body = {{"model", "acme/gpt-4o-mini"}, {"messages", messages}};
    // A text-only model: the system messages become one, first.
    ASSERT_EQ(gw->call("/v1/chat/completions", body, key).status, 200);
    EXPECT_EQ(upstream->requests().back().json()["messages"],
              json::array({msg("system", "A\n\nB"), msg("user", "hi"), msg("user", "x"),
                           msg("user", "y")}));
    // A multimodal model on a provider without merging: untouched.
    auto vision =
        gw->admin("POST", "/admin/api/models", {{"name", "gpt-4o"}, {"is_multimodal", true}});
    ASSERT_EQ(vision.status, 201) << vision.body;
    gw->bind(provider, "gpt-4o");
    body["model"] = "acme/gpt-4o";
    ASSERT_EQ(gw->call("/v1/chat/completions", body, key).status, 200);
    EXPECT_EQ(upstream->requests().back().json()["messages"], messages);
    // The provider setting on: both merges (the spec's example).
    ASSERT_EQ(gw->admin("PUT", "/admin/api/providers/" + std::to_string(provider),
                        {{"merge_consecutive_messages", true}})
                  .status,
              200);
    ASSERT_EQ(gw->call("/v1/chat/completions", body, key).status, 200);
    EXPECT_EQ(upstream->requests().back().json()["messages"],
              json::array({msg("system", "A\n\nB"), msg("user", "hi\n\nx\n\ny")}));
    // Embeddings bodies are left alone.
    json embed = {{"model", "acme/text-embedding-3-small"}, {"input", json::array({"a", "a"})}};
    ASSERT_EQ(gw->call("/v1/embeddings", embed, key).status, 200);
    EXPECT_EQ(upstream->requests().back().json()["input"], embed["input"]);
}

class UserAgentTest : public GatewayTest {};

TEST_P(UserAgentTest, TheOutboundUserAgentIsConfigurableWithoutARestart) {
    auto config = gw->admin("GET", "/admin/api/system/config");
    ASSERT_EQ(config.status, 200);
    std::string default_ua = config.json()["default_ua"];
    EXPECT_EQ(default_ua.rfind("modelgate/", 0), 0u);
    EXPECT_EQ(config.json()["ua_override"], "");
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    EXPECT_EQ(upstream->requests().back().header("user-agent"), default_ua);

    auto set = gw->admin("PUT", "/admin/api/system/config", {{"ua_override", "opencode/1.14.20"}});
    ASSERT_EQ(set.status, 200) << set.body;
    EXPECT_EQ(set.json()["effective_ua"], "opencode/1.14.20");
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    EXPECT_EQ(upstream->requests().back().header("user-agent"), "opencode/1.14.20");

    // A provider's own User-Agent wins over the gateway's.
    ASSERT_EQ(gw->admin("PUT", "/admin/api/providers/" + std::to_string(provider),
                        {{"user_agent", "acme-client/2.0"}})
                  .status,
              200);
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    EXPECT_EQ(upstream->requests().back().header("user-agent"), "acme-client/2.0");

    // Header injection is refused.
    EXPECT_EQ(
        gw->admin("PUT", "/admin/api/system/config", {{"ua_override", "a\r\nX-Evil: 1"}}).status,
        400);
    EXPECT_EQ(gw->admin("PUT", "/admin/api/providers/" + std::to_string(provider),
                        {{"user_agent", "a\nb"}})
                  .status,
              400);
    // Back to the default.
    ASSERT_EQ(gw->admin("PUT", "/admin/api/system/config", {{"ua_override", nullptr}}).status, 200);
    EXPECT_EQ(gw->admin("GET", "/admin/api/system/config").json()["effective_ua"], default_ua);
}

TEST_P(UserAgentTest, TodaysClientUserAgentsAreCounted) {
    auto call_as = [&](const std::string& ua) {
        return http_request("POST", gw->url("/v1/chat/completions"), chat_body().dump(),
                            {{"Content-Type", "application/json"},
                             {"Authorization", "Bearer " + key},
                             {"User-Agent", ua}})
            .status;
    };
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(call_as("OpenAI/JS 6.9.1"), 200);
    ASSERT_EQ(call_as("curl/7.88.1"), 200);
    ASSERT_FALSE(gw->wait_log([&](const json&) { return gw->logs().size() >= 4; }).is_null());
    auto stats = gw->admin("GET", "/admin/api/system/ua-stats?limit=10");
    ASSERT_EQ(stats.status, 200) << stats.body;
    auto j = stats.json();
    EXPECT_EQ(j["total"], 4);
    ASSERT_EQ(j["items"].size(), 2u);
    EXPECT_EQ(j["items"][0]["ua"], "OpenAI/JS 6.9.1");
    EXPECT_EQ(j["items"][0]["count"], 3);
    EXPECT_DOUBLE_EQ(j["items"][0]["pct"].get<double>(), 75.0);
    EXPECT_EQ(j["items"][1]["ua"], "curl/7.88.1");
    auto one = gw->admin("GET", "/admin/api/system/ua-stats?limit=1").json();
    EXPECT_EQ(one["items"].size(), 1u);
    EXPECT_EQ(gw->admin("GET", "/admin/api/system/ua-stats?limit=x").status, 400);
}

class ModelSyncTest : public GatewayTest {
  protected:
    // The upstream's model list, changed by the tests.
    void list(std::vector<std::string> ids) {
        std::lock_guard lock(mu_);
        ids_ = std::move(ids);
    }
    void SetUp() override {
        GatewayTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) return;
        upstream->set_script([this](const FakeRequest& req, FakeExchange& ex) {
            if (req.method == "GET" && req.path == "/v1/models") {
                json data = json::array();
                std::lock_guard lock(mu_);
                if (fail_) {
                    ex.respond_json(
                        500,
                        {{"error", {{"message", "models are down"}, {"type", "server_error"}}}});
                    return;
                }
                for (const auto& id : ids_)
                    data.push_back({{"id", id}, {"object", "model"}, {"owned_by", "acme"}});
                ex.respond_json(200, {{"object", "list"}, {"data", data}});
                return;
            }
            FakeUpstream::openai_script(req, ex);
        });
    }
    HttpResponse sync() {
        return gw->admin("POST",
                         "/admin/api/providers/" + std::to_string(provider) + "/sync-models");
    }
    json bindings() {
        return gw->admin("GET", "/admin/api/providers/" + std::to_string(provider) + "/models")
            .json()["bindings"];
    }
    json binding(const std::string& model) {
        for (const auto& b : bindings()) {
            if (b["model_name"] == model) return b;
        }
        return nullptr;
    }
    std::mutex mu_;
    std::vector<std::string> ids_;
    bool fail_ = false;
};

TEST_P(ModelSyncTest, SyncAddsListedModelsAndNeverTouchesManualBindings) {
    list({"gpt-4o-mini", "glm-4.6", "deepseek-chat"});
    auto r = sync();
    ASSERT_EQ(r.status, 200) << r.body;
    auto report = r.json();
    EXPECT_EQ(report["total"], 3);
    EXPECT_EQ(report["created_bindings"], json::array({"glm-4.6", "deepseek-chat"}));
    // The upstream's key and the gateway's User-Agent went with the listing.
    auto listing = upstream->requests().back();
    EXPECT_EQ(listing.header("authorization"), "Bearer sk-upstream-acme-0123456789");
    EXPECT_EQ(listing.header("user-agent").rfind("modelgate/", 0), 0u);
    EXPECT_EQ(binding("glm-4.6")["source"], "sync");
    EXPECT_EQ(binding("gpt-4o-mini")["source"], "manual");
    // Synced models are callable at once.
    json body = chat_body();
    body["model"] = "acme/glm-4.6";
    EXPECT_EQ(gw->call("/v1/chat/completions", body, key).status, 200);

    // A model leaves the list: its synced binding is switched off, not deleted;
    // the manual ones stay as they are even though they are not listed.
    list({"glm-4.6"});
    r = sync();
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["deactivated"], json::array({"deepseek-chat"}));
    EXPECT_EQ(binding("deepseek-chat")["is_active"], false);
    EXPECT_EQ(binding("gpt-4o-mini")["is_active"], true);
    EXPECT_EQ(binding("text-embedding-3-small")["is_active"], true);
    body["model"] = "acme/deepseek-chat";
    EXPECT_EQ(gw->call("/v1/chat/completions", body, key).status, 404);

    // It comes back: switched on again.
    list({"glm-4.6", "deepseek-chat"});
    r = sync();
    EXPECT_EQ(r.json()["reactivated"], json::array({"deepseek-chat"}));
    EXPECT_EQ(gw->call("/v1/chat/completions", body, key).status, 200);

    // An admin who edits a synced binding takes it over: the sync leaves it alone.
    auto id = binding("glm-4.6")["id"].get<int64_t>();
    ASSERT_EQ(gw->admin("PUT",
                        "/admin/api/providers/" + std::to_string(provider) + "/models/" +
                            std::to_string(id),
                        {{"model_name_override", "glm"}})
                  .status,
              200);
    list({"deepseek-chat"});
    r = sync();
    EXPECT_EQ(r.json()["deactivated"], json::array());
    EXPECT_EQ(binding("glm-4.6")["is_active"], true);
}

TEST_P(ModelSyncTest, AFailedListingChangesNothingAndSaysWhy) {
    {
        std::lock_guard lock(mu_);
        fail_ = true;
    }
    auto before = bindings();
    auto r = sync();
    EXPECT_EQ(r.status, 502);
    EXPECT_EQ(r.json()["error"]["code"], "model_sync_failed");
    EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("500"), std::string::npos);
    EXPECT_EQ(bindings(), before);
    EXPECT_EQ(gw->admin("POST", "/admin/api/providers/9999/sync-models").status, 404);
}

TEST_P(ModelSyncTest, TheScheduledJobSyncsProvidersThatAskForIt) {
    list({"gpt-4o-mini", "qwen3"});
    std::string summary;
    ASSERT_TRUE(gw->app().scheduler().run_now("sync_provider_models", summary));
    EXPECT_EQ(summary.rfind("0 providers synced", 0), 0u) << summary;
    EXPECT_TRUE(binding("qwen3").is_null());
    ASSERT_EQ(gw->admin("PUT", "/admin/api/providers/" + std::to_string(provider),
                        {{"auto_sync_models", true}})
                  .status,
              200);
    ASSERT_TRUE(gw->app().scheduler().run_now("sync_provider_models", summary));
    EXPECT_EQ(summary.rfind("1 providers synced", 0), 0u) << summary;
    EXPECT_EQ(binding("qwen3")["source"], "sync");
    // The option is the gateway's: the adapter never sees it.
    auto p = gw->admin("GET", "/admin/api/providers/" + std::to_string(provider)).json();
    EXPECT_EQ(p["options"]["auto_sync_models"], true);
    EXPECT_TRUE(p["status"]["usable"].get<bool>());
}

MODELGATE_BACKENDS(PreprocessingTest);
MODELGATE_BACKENDS(UserAgentTest);
MODELGATE_BACKENDS(ModelSyncTest);

}  // namespace modelgate::test

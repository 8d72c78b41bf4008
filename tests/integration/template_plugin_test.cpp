// The SDK's template plugin (sdk/template) as a third party ships it: built out
// of tree against the installed SDK (scripts/test.sh does that and passes the
// .so in MODELGATE_TEMPLATE_PLUGIN), dropped into a gateway's plugin folder,
// and called like any provider, in front of a fake upstream speaking the
// template's Acme wire format (sdk/template/README.md); and its feature plugin
// (notes.so) serving its routes and running its job.
#include <cstdlib>
#include <filesystem>

#include "integration/fixture.hpp"

namespace modelgate::test {

using nlohmann::json;

namespace {

// One line of an Acme NDJSON stream.
std::string acme_line(const json& event) {
    return event.dump() + "\n";
}

// The Acme Generate API, as far as these tests need it.
void acme_upstream(const FakeRequest& req, FakeExchange& ex) {
    if (req.method != "POST" || req.path != "/v1/generate") {
        ex.respond_json(404, {{"error", {{"type", "not_found"}, {"message", "no such endpoint"}}}});
        return;
    }
    json body = req.json();
    if (body["turns"].back()["text"] == "too fast") {
        ex.respond_json(
            429,
            {{"error", {{"type", "rate_limited"}, {"message", "Slow down"}, {"retry_in", 7}}}});
        return;
    }
    if (!body.value("stream", false)) {
        ex.respond_json(200, {{"id", "gen_1"},
                              {"model", body["model"]},
                              {"created", 1764160000},
                              {"text", "Hello from Acme"},
                              {"stop", "end_turn"},
                              {"usage", {{"input", 9}, {"output", 3}}}});
        return;
    }
    ex.start_stream(200, "application/x-ndjson");
    ex.chunk(acme_line({{"event", "start"}, {"id", "gen_2"}, {"model", body["model"]}}));
    ex.chunk(acme_line({{"event", "text"}, {"text", "Hello"}}));
    // An event split across two writes: the decoder must join it.
    std::string world = acme_line({{"event", "text"}, {"text", " world"}});
    ex.chunk(world.substr(0, 10));
    ex.chunk(world.substr(10));
    ex.chunk(acme_line(
        {{"event", "end"}, {"stop", "end_turn"}, {"usage", {{"input", 9}, {"output", 2}}}}));
    ex.end_stream();
}

}  // namespace

class TemplatePluginTest : public GatewayTest {
  protected:
    void SetUp() override {
        const char* so = std::getenv("MODELGATE_TEMPLATE_PLUGIN");
        if (so == nullptr || *so == '\0') {
            GTEST_SKIP() << "MODELGATE_TEMPLATE_PLUGIN is not set: it names the template plugin "
                            "(acme.so) built out of tree against the installed SDK, as "
                            "scripts/test.sh does";
        }
        ASSERT_TRUE(std::filesystem::is_regular_file(so)) << so << " does not exist";
        // A plugin folder holding only the template: nothing else could serve "acme".
        plugin_dir_ = temp_dir("mg-template-plugins-");
        std::filesystem::create_symlink(std::filesystem::absolute(so),
                                        std::filesystem::path(plugin_dir_) / "acme.so");
        // The feature template, built beside it, with its texts.
        auto dir = std::filesystem::absolute(so).parent_path();
        for (const char* name : {"notes.so", "notes.locales"}) {
            ASSERT_TRUE(std::filesystem::exists(dir / name)) << dir / name << " was not built";
            std::filesystem::create_symlink(dir / name, std::filesystem::path(plugin_dir_) / name);
        }
        GatewayTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        upstream->set_script(&acme_upstream);
    }
    void TearDown() override {
        GatewayTest::TearDown();
        std::error_code ec;
        if (!plugin_dir_.empty()) std::filesystem::remove_all(plugin_dir_, ec);
    }
    void tweak(core::Config& c) override { c.plugin_dir = plugin_dir_; }
    json provider_settings() override { return {{"adapter", "acme"}}; }

    std::string plugin_dir_;
};

TEST_P(TemplatePluginTest, TheGatewayLoadsItAndListsIt) {
    auto r = gw->admin("GET", "/admin/api/plugins");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("\"acme\""), std::string::npos) << r.body;
}

TEST_P(TemplatePluginTest, TheFeatureTemplateMigratesAndServesItsNotes) {
    auto added = gw->admin("POST", "/plugins/notes/items", {{"text", "buy milk"}});
    ASSERT_EQ(added.status, 201) << added.body;
    int64_t id = added.json()["id"];
    auto one = gw->admin("GET", "/plugins/notes/items/" + std::to_string(id));
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(one.json()["text"], "buy milk");
    EXPECT_EQ(gw->admin("GET", "/plugins/notes/items").json()["items"].size(), 1u);
    EXPECT_EQ(gw->admin("GET", "/plugins/notes/items/999").status, 404);
    EXPECT_EQ(gw->admin("POST", "/plugins/notes/items", {{"text", ""}}).status, 400);
    EXPECT_EQ(http_request("GET", gw->url("/plugins/notes/items")).status, 401);
    // Its daily job is in the scheduler, and runs.
    auto run = gw->admin("POST", "/admin/api/scheduler/tasks/notes:cleanup/trigger");
    ASSERT_LT(run.status, 300) << run.body;
    EXPECT_NE(run.body.find("Old notes deleted: 0"), std::string::npos) << run.body;
}

TEST_P(TemplatePluginTest, ChatCompletionGoesThroughTheTemplate) {
    auto r = gw->call("/v1/chat/completions", chat_body(), key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["id"], "chatcmpl-gen_1");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello from Acme");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["usage"]["total_tokens"], 12);

    // The upstream got Acme's format, and the secret where the plugin asked for it.
    auto reqs = upstream->requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].header("x-acme-key"), "sk-upstream-acme-0123456789");
    EXPECT_EQ(reqs[0].header("authorization"), "");
    json sent = reqs[0].json();
    EXPECT_EQ(sent["model"], "gpt-4o-mini");
    EXPECT_EQ(sent["turns"], json::parse(R"([{"speaker": "user", "text": "Say hello"}])"));
    EXPECT_EQ(sent["max_tokens"], 1024);  // the option's default, filled by the gateway
    EXPECT_EQ(sent["stream"], false);

    auto row =
        gw->wait_log([&](const json& l) { return l["request_id"] == r.header("x-request-id"); });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["prompt_tokens"], 9);
    EXPECT_EQ(row["completion_tokens"], 3);
    EXPECT_EQ(row["tokens_estimated"], false);
}

TEST_P(TemplatePluginTest, StreamGoesThroughTheTemplate) {
    auto body = chat_body(true);
    body["stream_options"] = {{"include_usage", true}};
    auto r = gw->call("/v1/chat/completions", body, key);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("content-type").rfind("text/event-stream", 0), 0u);
    EXPECT_EQ(upstream->requests().back().header("accept"), "application/x-ndjson");

    auto events = sse_data(r.body);
    ASSERT_GE(events.size(), 3u) << r.body;
    EXPECT_EQ(events.back(), "[DONE]");
    std::string text;
    std::string finish;
    json usage;
    for (const auto& e : events) {
        if (e == "[DONE]") continue;
        auto j = json::parse(e);
        EXPECT_EQ(j["object"], "chat.completion.chunk") << e;
        EXPECT_EQ(j["id"], "chatcmpl-gen_2") << e;
        if (j["choices"].empty()) {
            usage = j["usage"];
            continue;
        }
        const auto& choice = j["choices"][0];
        if (choice["delta"].contains("content")) text += choice["delta"]["content"];
        if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
    }
    EXPECT_EQ(text, "Hello world");
    EXPECT_EQ(finish, "stop");
    EXPECT_EQ(usage["prompt_tokens"], 9);
    EXPECT_EQ(usage["total_tokens"], 11);

    auto row = gw->wait_log([](const json& l) { return l["status"] == "success"; });
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    EXPECT_EQ(row["stream"], true);
    EXPECT_EQ(row["completion_tokens"], 2);
}

TEST_P(TemplatePluginTest, UpstreamErrorsAreClassifiedByTheTemplate) {
    auto body = chat_body();
    body["messages"][0]["content"] = "too fast";
    auto r = gw->call("/v1/chat/completions", body, key);
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(r.header("retry-after"), "7");  // from Acme's retry_in
    auto error = r.json()["error"];
    EXPECT_EQ(error["message"], "Slow down");
    EXPECT_EQ(error["type"], "rate_limit_error");
    EXPECT_EQ(error["code"], "rate_limited");
}

TEST_P(TemplatePluginTest, WhatTheTemplateCannotTranslateIsA400) {
    auto body = chat_body();
    body["tools"] = json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
    auto r = gw->call("/v1/chat/completions", body, key);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("Acme does not support tools"), std::string::npos) << r.body;
    EXPECT_EQ(upstream->request_count(), 0u);
}

// The plugin, not the database, is under test here: SQLite only keeps it fast.
INSTANTIATE_TEST_SUITE_P(Sqlite, TemplatePluginTest, ::testing::Values("sqlite"), backend_name);

}  // namespace modelgate::test

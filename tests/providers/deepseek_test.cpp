// The deepseek adapter: through the plugin loader, and end to end through the
// real gateway in front of a fake upstream that speaks DeepSeek's wire format
// (reasoning_content, its cache usage fields, its error statuses).
#include <modelgate/host/adapter.hpp>

#include "integration/fixture.hpp"
#include "plugins/plugin_host.hpp"

namespace modelgate::test {

using nlohmann::json;

namespace {

const json kUsage = {{"prompt_tokens", 13},
                     {"completion_tokens", 25},
                     {"total_tokens", 38},
                     {"prompt_tokens_details", {{"cached_tokens", 8}}},
                     {"completion_tokens_details", {{"reasoning_tokens", 18}}},
                     {"prompt_cache_hit_tokens", 8},
                     {"prompt_cache_miss_tokens", 5}};

json ds_chunk(const std::string& model, const json& delta, const json& finish = nullptr) {
    return {{"id", "8f3c9d2e-5b1a-4c7e-9a0d-1e2f3a4b5c6d"},
            {"object", "chat.completion.chunk"},
            {"created", 1739097227},
            {"model", model},
            {"system_fingerprint", "fp_7e73fd9a08"},
            {"choices",
             {{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish}}}}};
}

// DeepSeek's answers: a thinking stream (reasoning_content first, then content),
// or a whole answer with reasoning_content, both with DeepSeek's usage fields.
void deepseek_script(const FakeRequest& req, FakeExchange& ex) {
    json body = req.json();
    std::string model = body.value("model", "");
    if (!body.value("stream", false)) {
        ex.respond_json(200, {{"id", "931809f8-3d1c-44d9-b124-367d05e0f123"},
                              {"object", "chat.completion"},
                              {"created", 1739092483},
                              {"model", model},
                              {"choices",
                               {{{"index", 0},
                                 {"message",
                                  {{"role", "assistant"},
                                   {"content", "Hello!"},
                                   {"reasoning_content", "The user greets me."}}},
                                 {"logprobs", nullptr},
                                 {"finish_reason", "stop"}}}},
                              {"usage", kUsage},
                              {"system_fingerprint", "fp_7e73fd9a08"}});
        return;
    }
    ex.start_stream();
    ex.chunk(": keep-alive\n\n");
    ex.sse(
        ds_chunk(model, {{"role", "assistant"}, {"content", nullptr}, {"reasoning_content", ""}}));
    ex.sse(ds_chunk(model, {{"content", nullptr}, {"reasoning_content", "用户在"}}));
    ex.sse(ds_chunk(model, {{"content", nullptr}, {"reasoning_content", "打招呼。"}}));
    ex.sse(ds_chunk(model, {{"content", "Hello"}, {"reasoning_content", nullptr}}));
    ex.sse(ds_chunk(model, {{"content", "!"}, {"reasoning_content", nullptr}}));
    ex.sse(ds_chunk(model, {{"content", ""}, {"reasoning_content", nullptr}}, "stop"));
    json usage_chunk = ds_chunk(model, json::object());
    usage_chunk["choices"] = json::array();
    usage_chunk["usage"] = kUsage;
    ex.sse(usage_chunk);
    ex.done();
    ex.end_stream();
}

// A multi-turn tool conversation whose assistant turns carry no reasoning_content.
json tool_history() {
    return json::parse(R"([
      {"role": "user", "content": "Weather in Hangzhou?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_0", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\":\"Hangzhou\"}"}}]},
      {"role": "tool", "tool_call_id": "call_0", "content": "24°C"},
      {"role": "assistant", "content": "24°C.", "reasoning_content": "From the tool."},
      {"role": "user", "content": "Tomorrow?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"day\":1}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "26°C"}
    ])");
}

// The reasoning_content of every assistant message the upstream received, null
// where there was none.
std::vector<json> assistant_reasoning(const FakeRequest& req) {
    std::vector<json> out;
    const json body = req.json();
    for (const auto& m : body["messages"]) {
        if (m["role"] == "assistant") out.push_back(m.value("reasoning_content", json()));
    }
    return out;
}

}  // namespace

class DeepSeekTest : public GatewayTest {
  protected:
    void SetUp() override {
        GatewayTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) return;
        upstream->set_script(deepseek_script);
        gw->bind(provider, "deepseek-reasoner");
        gw->bind(provider, "deepseek-chat");
    }
    json provider_settings() override { return {{"adapter", "deepseek"}}; }

    static json body(const std::string& model, json messages, bool stream = false) {
        json b = {{"model", "acme/" + model}, {"messages", std::move(messages)}};
        if (stream) b["stream"] = true;
        return b;
    }
    json final_row(const HttpResponse& r) {
        return gw->wait_log([&](const json& l) {
            return l["request_id"] == r.header("x-request-id") && l["status"] != "pending";
        });
    }
};

TEST_P(DeepSeekTest, ReasoningIsStreamedToTheClientAndCacheUsageIsLogged) {
    json b = body("deepseek-reasoner", {{{"role", "user"}, {"content", "你好"}}}, true);
    b["stream_options"] = {{"include_usage", true}};
    auto r = gw->call("/v1/chat/completions", b, key);
    ASSERT_EQ(r.status, 200) << r.body;

    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), "[DONE]");
    std::string reasoning, content;
    json usage;
    for (const auto& e : events) {
        if (e == "[DONE]") continue;
        json j = json::parse(e);
        if (j.contains("usage") && j["usage"].is_object()) usage = j["usage"];
        if (j["choices"].empty()) continue;
        const json& delta = j["choices"][0]["delta"];
        if (delta.contains("reasoning_content") && delta["reasoning_content"].is_string())
            reasoning += delta["reasoning_content"].get<std::string>();
        if (delta.contains("content") && delta["content"].is_string())
            content += delta["content"].get<std::string>();
    }
    EXPECT_EQ(reasoning, "用户在打招呼。");
    EXPECT_EQ(content, "Hello!");
    // The client asked for usage: it gets DeepSeek's own, not an estimate.
    EXPECT_EQ(usage["prompt_cache_hit_tokens"], 8) << usage.dump();
    EXPECT_FALSE(usage.contains("estimated")) << usage.dump();

    auto row = final_row(r);
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["model"], "deepseek-reasoner");
    EXPECT_EQ(row["prompt_tokens"], 13);
    EXPECT_EQ(row["completion_tokens"], 25);
    EXPECT_EQ(row["tokens_estimated"], false);
    EXPECT_EQ(row["usage"]["prompt_cache_hit_tokens"], 8) << row.dump();
    EXPECT_EQ(row["usage"]["prompt_cache_miss_tokens"], 5);
    EXPECT_EQ(row["usage"]["completion_tokens_details"]["reasoning_tokens"], 18);
}

TEST_P(DeepSeekTest, WholeAnswerKeepsReasoningAndUsageFields) {
    auto r = gw->call("/v1/chat/completions",
                      body("deepseek-reasoner", {{{"role", "user"}, {"content", "Hi"}}}), key);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["choices"][0]["message"]["reasoning_content"], "The user greets me.");
    EXPECT_EQ(r.json()["usage"]["prompt_cache_miss_tokens"], 5);
    auto row = final_row(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["usage"], kUsage);
}

TEST_P(DeepSeekTest, ThinkingModelWithToolContextPatchesEveryAssistantTurn) {
    auto r = gw->call("/v1/chat/completions", body("deepseek-reasoner", tool_history(), true), key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto sent = upstream->requests().back();
    EXPECT_EQ(assistant_reasoning(sent), (std::vector<json>{"", "From the tool.", ""}))
        << sent.body;
    // The rest of the conversation reaches DeepSeek untouched.
    json messages = sent.json()["messages"];
    ASSERT_EQ(messages.size(), tool_history().size());
    EXPECT_EQ(messages[1]["tool_calls"], tool_history()[1]["tool_calls"]);
    EXPECT_EQ(messages[2], tool_history()[2]);
}

TEST_P(DeepSeekTest, ThinkingModelWithoutToolsPatchesOnlyAfterTheLastUserMessage) {
    json history = {{{"role", "user"}, {"content", "Tell a story"}},
                    {{"role", "assistant"}, {"content", "Once"}},
                    {{"role", "user"}, {"content", "Go on"}},
                    {{"role", "assistant"}, {"content", "upon a"}, {"prefix", true}}};
    auto r = gw->call("/v1/chat/completions", body("deepseek-reasoner", history), key);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(assistant_reasoning(upstream->requests().back()), (std::vector<json>{nullptr, ""}));
}

TEST_P(DeepSeekTest, NothingIsAddedWhenThinkingIsNotActive) {
    json disabled = body("deepseek-chat", tool_history());
    disabled["thinking"] = {{"type", "disabled"}};
    for (const json& b : {body("deepseek-chat", tool_history()), disabled}) {
        auto r = gw->call("/v1/chat/completions", b, key);
        ASSERT_EQ(r.status, 200) << r.body;
        auto sent = upstream->requests().back();
        EXPECT_EQ(assistant_reasoning(sent),
                  (std::vector<json>{nullptr, "From the tool.", nullptr}))
            << sent.body;
    }
}

TEST_P(DeepSeekTest, ThinkingRequestedInTheBodyActivatesThePatch) {
    json b = body("deepseek-chat", tool_history());
    b["thinking"] = {{"type", "enabled"}};
    auto r = gw->call("/v1/chat/completions", b, key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto sent = upstream->requests().back();
    EXPECT_EQ(sent.json()["thinking"]["type"], "enabled");
    EXPECT_EQ(assistant_reasoning(sent), (std::vector<json>{"", "From the tool.", ""}));
}

TEST_P(DeepSeekTest, ProviderOptionsChooseTheThinkingModels) {
    auto forced =
        gw->add_provider("forced", upstream->base_url(),
                         {{"adapter", "deepseek"}, {"options", {{"force_thinking", true}}}});
    gw->bind(forced, "deepseek-chat");
    auto custom =
        gw->add_provider("custom", upstream->base_url(),
                         {{"adapter", "deepseek"}, {"options", {{"thinking_models", {"my-r"}}}}});
    gw->bind(custom, "my-r1-distill");
    gw->bind(custom, "deepseek-reasoner");

    auto call = [&](const std::string& model) {
        json b = {{"model", model}, {"messages", tool_history()}};
        auto r = gw->call("/v1/chat/completions", b, key);
        EXPECT_EQ(r.status, 200) << model << ": " << r.body;
        return assistant_reasoning(upstream->requests().back());
    };
    std::vector<json> patched = {"", "From the tool.", ""};
    std::vector<json> untouched = {nullptr, "From the tool.", nullptr};
    EXPECT_EQ(call("forced/deepseek-chat"), patched);
    EXPECT_EQ(call("custom/my-r1-distill"), patched);
    EXPECT_EQ(call("custom/deepseek-reasoner"), untouched)
        << "the option replaces the default list";

    auto refused = gw->admin("POST", "/admin/api/providers",
                             {{"name", "broken"},
                              {"base_url", upstream->base_url()},
                              {"adapter", "deepseek"},
                              {"options", {{"thinking_models", {1, 2}}}}});
    EXPECT_EQ(refused.status, 400) << refused.body;
}

TEST_P(DeepSeekTest, ErrorStatusesReachTheClientAsOpenAIErrors) {
    struct Case {
        int status;
        const char* message;
        const char* type;
        const char* code;
        const char* log_status;
    };
    for (const Case& c :
         {Case{402, "Insufficient Balance", "insufficient_quota", "insufficient_quota",
               "rate_limited"},
          Case{422, "Invalid max_tokens value", "invalid_request_error", "invalid_parameters",
               "error"},
          Case{429, "Rate Limit Reached", "rate_limit_error", "rate_limit_exceeded",
               "rate_limited"},
          Case{503, "Server Overloaded", "server_error", "server_overloaded", "error"}}) {
        SCOPED_TRACE(c.status);
        upstream->set_script([c](const FakeRequest&, FakeExchange& ex) {
            ex.respond_json(c.status,
                            {{"error",
                              {{"message", c.message},
                               {"type", "unknown_error"},
                               {"param", nullptr},
                               {"code", "invalid_request_error"}}}},
                            {{"Retry-After", "3"}});
        });
        auto r = gw->call("/v1/chat/completions",
                          body("deepseek-chat", {{{"role", "user"}, {"content", "Hi"}}}), key);
        // Rate limits and quota refusals reach clients as OpenAI's 429.
        const bool limited = std::string(c.log_status) == "rate_limited";
        EXPECT_EQ(r.status, limited ? 429 : c.status) << r.body;
        EXPECT_EQ(r.json()["error"]["message"], c.message);
        EXPECT_EQ(r.json()["error"]["type"], c.type);
        EXPECT_EQ(r.json()["error"]["code"], c.code);
        EXPECT_EQ(r.header("retry-after"), "3");
        auto row = final_row(r);
        ASSERT_FALSE(row.is_null());
        EXPECT_EQ(row["status"], c.log_status);
        EXPECT_EQ(row["upstream_status_code"], c.status);
        EXPECT_EQ(row["error"], c.message);
        gw->resume_keys(provider);  // the refusal paused the key; the next case needs it
    }
}

TEST_P(DeepSeekTest, InterruptedStreamEndsWithAnErrorNotDone) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.start_stream();
        ex.sse(ds_chunk("deepseek-chat", {{"role", "assistant"}, {"content", "Half"}}));
        ex.sse(ds_chunk("deepseek-chat", {{"content", " an"}}, "insufficient_system_resource"));
        ex.done();
        ex.end_stream();
    });
    auto r = gw->call("/v1/chat/completions",
                      body("deepseek-chat", {{{"role", "user"}, {"content", "Hi"}}}, true), key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_NE(events.back(), "[DONE]");
    json last = json::parse(events.back());
    EXPECT_EQ(last["error"]["code"], "insufficient_system_resource") << r.body;
    std::string text;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
        json j = json::parse(events[i]);
        ASSERT_FALSE(j["choices"].empty()) << events[i];
        EXPECT_TRUE(j["choices"][0]["finish_reason"].is_null())
            << "an unknown finish reason reached the client: " << events[i];
        text += j["choices"][0]["delta"].value("content", "");
    }
    EXPECT_EQ(text, "Half an") << "what DeepSeek generated is still forwarded";
    auto row = final_row(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "error");
}

TEST_P(DeepSeekTest, EmbeddingsAreRefusedWithoutCallingTheUpstream) {
    auto r = gw->call("/v1/embeddings", {{"model", "acme/text-embedding-3-small"}, {"input", "hi"}},
                      key);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.json()["error"]["code"], "unsupported_operation");
    EXPECT_EQ(upstream->request_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeepSeekTest, ::testing::Values("sqlite"),
                         modelgate::test::backend_name);

// The adapter through the loader, without a gateway: what it declares and how it
// lists models.
class DeepSeekAdapterTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        host_ = new core::plugins::PluginHost();
        ASSERT_TRUE(host_->load_file(std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/deepseek.so"));
    }
    static core::plugins::PluginHost* host_;
};
core::plugins::PluginHost* DeepSeekAdapterTest::host_ = nullptr;

TEST_F(DeepSeekAdapterTest, DeclaresChatStreamAndModelsButNoEmbeddings) {
    const auto* plugin = host_->find_provider("deepseek");
    ASSERT_NE(plugin, nullptr);
    auto a = host::Adapter::create(*plugin, "deepseek", "", json::object());
    ASSERT_TRUE(a.ok()) << a.failure->message;
    EXPECT_TRUE(a.value->supports(MG_CAP_CHAT));
    EXPECT_TRUE(a.value->supports(MG_CAP_CHAT_STREAM));
    EXPECT_TRUE(a.value->supports(MG_CAP_LIST_MODELS));
    EXPECT_FALSE(a.value->supports(MG_CAP_EMBEDDINGS));

    host::Call models;
    models.op = MG_OP_LIST_MODELS;
    auto req = a.value->build_request(models);
    ASSERT_TRUE(req.ok()) << req.failure->message;
    EXPECT_EQ(req->method, "GET");
    EXPECT_EQ(req->url, "https://api.deepseek.com/models") << "the default base URL";
    auto list = a.value->parse_response(
        models, 200,
        R"({"object":"list","data":[{"id":"deepseek-chat","object":"model","owned_by":"deepseek"}]})");
    ASSERT_TRUE(list.ok()) << list.failure->message;
    EXPECT_EQ(json::parse(list->body)["data"][0]["id"], "deepseek-chat");
}

}  // namespace modelgate::test

// The /v1 pipeline before the slot, without a socket: prepare_call() with a
// real adapter (the bundled openai plugin) and a hand-built routing snapshot.
// Routing, the key's allowlist, the provider's state and capabilities, and the
// bounds on bodies are decided here, and must be the same for every transport.
#include "proxy/call_preparation.hpp"

#include <gtest/gtest.h>

#include "auth/api_key.hpp"
#include "plugins/plugin_host.hpp"
#include "util/timer_service.hpp"

using namespace modelgate::core;

namespace {

class CallPreparation : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string path = std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so";
        ASSERT_TRUE(plugins_.load_file(path)) << path;
        const auto* openai = plugins_.find_provider("openai");
        ASSERT_NE(openai, nullptr);
        auto adapter = modelgate::host::Adapter::create(*openai, "acme", "http://upstream.test/v1",
                                                        nlohmann::json::object());
        ASSERT_TRUE(adapter.ok());
        snap_ = std::make_shared<Snapshot>();
        add_provider(1, "acme", adapter.value);
        add_provider(2, "broken", nullptr);
        add_binding(1, 1, "acme", "gpt-4o-mini");
        add_binding(2, 1, "acme", "text-embedding-3-small");
        add_binding(3, 2, "broken", "llama3");
        all_ = add_key(1, "all", {});
        limited_ = add_key(2, "limited", {2});
    }

    void add_provider(int64_t id, const std::string& name,
                      std::shared_ptr<modelgate::host::Adapter> adapter) {
        auto p = std::make_shared<ProviderRuntime>();
        p->id = id;
        p->name = name;
        p->adapter = std::move(adapter);
        if (!p->adapter) p->adapter_problem = "its plugin is not loaded";
        p->limiter = AsyncSemaphore::create(4, timers_);
        p->keys = KeyPool::create(timers_);
        p->keys->configure({}, true, 4, {}, p->limiter);
        snap_->providers[name] = p;
    }
    void add_binding(int64_t id, int64_t provider_id, const std::string& provider,
                     const std::string& model) {
        BindingRuntime b;
        b.id = id;
        b.provider_id = provider_id;
        b.provider_name = provider;
        b.public_name = model;
        b.upstream_model = model;
        snap_->aliases[provider][model] = snap_->bindings.size();
        snap_->global_aliases[model].push_back(snap_->bindings.size());
        snap_->bindings.push_back(b);
    }
    const KeyRuntime* add_key(int64_t id, const std::string& name,
                              std::unordered_set<int64_t> allowed) {
        auto key = std::make_shared<KeyRuntime>();
        key->id = id;
        key->name = name;
        key->hash = auth::hash_api_key("sk-" + name);
        key->allowed_bindings = std::move(allowed);
        snap_->keys_by_hash[key->hash] = key;
        return key.get();
    }

    Status prepare(const KeyRuntime* key, const nlohmann::json& body, int32_t op = MG_OP_CHAT) {
        return prepare_raw(key, body.dump(), op);
    }
    Status prepare_raw(const KeyRuntime* key, const std::string& body, int32_t op = MG_OP_CHAT) {
        proxy::Caller caller;
        caller.key = key;
        caller.key_id = key->id;
        caller.key_name = key->name;
        init_ = proxy::CallInit{};
        return proxy::prepare_call(op, body, snap_, caller, true, {8}, init_);
    }
    static nlohmann::json chat(const std::string& model, bool stream = false) {
        return {{"model", model},
                {"stream", stream},
                {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};
    }

    TimerService timers_;
    plugins::PluginHost plugins_;
    std::shared_ptr<Snapshot> snap_;
    const KeyRuntime* all_ = nullptr;
    const KeyRuntime* limited_ = nullptr;
    proxy::CallInit init_;
};

}  // namespace

TEST_F(CallPreparation, ProviderSlashModelBecomesTheAdaptersUpstreamRequest) {
    auto st = prepare(all_, chat("acme/gpt-4o-mini", true));
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_EQ(init_.provider->name, "acme");
    EXPECT_EQ(init_.binding->id, 1);
    EXPECT_EQ(init_.requested_model, "acme/gpt-4o-mini");
    EXPECT_TRUE(init_.client_stream);
    EXPECT_EQ(init_.upstream.url, "http://upstream.test/v1/chat/completions");
    auto sent = nlohmann::json::parse(init_.upstream.body);
    EXPECT_EQ(sent["model"], "gpt-4o-mini") << "the upstream gets its own model name";
    EXPECT_EQ(sent["stream_options"]["include_usage"], true) << "usage is always asked for";
    EXPECT_FALSE(init_.include_usage) << "but the client did not ask for the usage chunk";
    // A bare name that one binding serves resolves too.
    ASSERT_TRUE(prepare(all_, chat("gpt-4o-mini")).ok());
    EXPECT_EQ(init_.binding->id, 1);
}

TEST_F(CallPreparation, TheKeysAllowlistDecides) {
    auto st = prepare(limited_, chat("acme/gpt-4o-mini"));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(http_status(st.error().code), 403);
    EXPECT_EQ(st.error().detail_code, "model_not_allowed");
    EXPECT_EQ(init_.provider->name, "acme") << "the refusal's log row names the provider";
    nlohmann::json embed = {{"model", "acme/text-embedding-3-small"}, {"input", "hello"}};
    EXPECT_TRUE(prepare(limited_, embed, MG_OP_EMBEDDINGS).ok());
    EXPECT_EQ(init_.upstream.url, "http://upstream.test/v1/embeddings");
}

TEST_F(CallPreparation, UnknownModelsAndUnusableProvidersAreRefused) {
    auto unknown = prepare(all_, chat("acme/nope"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(http_status(unknown.error().code), 404);
    EXPECT_EQ(unknown.error().detail_code, "model_not_found");
    EXPECT_EQ(init_.requested_model, "acme/nope");
    auto broken = prepare(all_, chat("broken/llama3"));
    ASSERT_FALSE(broken.ok());
    EXPECT_EQ(http_status(broken.error().code), 503);
    EXPECT_EQ(broken.error().detail_code, "provider_unavailable");
    EXPECT_NE(broken.error().message.find("not loaded"), std::string::npos);
}

TEST_F(CallPreparation, BodiesAreBounded) {
    auto not_json = prepare_raw(all_, "{\"model\":");
    ASSERT_FALSE(not_json.ok());
    EXPECT_EQ(not_json.error().detail_code, "invalid_json");
    std::string deep = R"({"model":"acme/gpt-4o-mini","x":)" + std::string(1000, '[') +
                       std::string(1000, ']') + "}";
    auto too_deep = prepare_raw(all_, deep);
    ASSERT_FALSE(too_deep.ok());
    EXPECT_EQ(too_deep.error().detail_code, "json_too_deep");
    nlohmann::json many = chat("acme/gpt-4o-mini");
    for (int i = 0; i < 8; ++i)
        many["messages"].push_back({{"role", "user"}, {"content", "again"}});
    auto too_many = prepare(all_, many);
    ASSERT_FALSE(too_many.ok()) << "9 messages over a limit of 8";
    EXPECT_EQ(http_status(too_many.error().code), 400);
    nlohmann::json no_messages = {{"model", "acme/gpt-4o-mini"}};
    auto missing = prepare(all_, no_messages);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(http_status(missing.error().code), 400);
}

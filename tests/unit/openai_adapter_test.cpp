// The bundled OpenAI-compatible adapter, loaded through the real plugin loader
// and driven through the C ABI exactly as the proxy drives it.
#include <gtest/gtest.h>

#include <algorithm>
#include <modelgate/host/adapter.hpp>
#include <nlohmann/json.hpp>

#include "plugins/plugin_host.hpp"

using AdapterInstance = modelgate::host::Adapter;
using CallSpec = modelgate::host::Call;
using modelgate::core::plugins::PluginHost;
using nlohmann::json;

namespace {

struct Event {
    int32_t kind;
    uint32_t flags;
    std::string data;
    bool operator==(const Event& o) const {
        return kind == o.kind && flags == o.flags && data == o.data;
    }
};

class OpenAiAdapterTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        host_ = new PluginHost();
        ASSERT_TRUE(host_->load_file(std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so"));
    }
    std::shared_ptr<AdapterInstance> make(json options = json::object(),
                                          const std::string& base = "https://api.example.com/v1/") {
        auto a = AdapterInstance::create(*host_->find_provider("openai"), "acme", base, options);
        EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.failure->message);
        return a.ok() ? a.value : nullptr;
    }
    static CallSpec chat(bool stream) {
        CallSpec c;
        c.op = MG_OP_CHAT;
        c.stream = stream;
        c.model = "gpt-4o";
        c.body = json{
            {"model", "gpt-4o"},
            {"messages", {{{"role", "user"}, {"content", "hi"}}}},
            {"stream",
             stream}}.dump();
        return c;
    }
    static std::vector<Event> decode(AdapterInstance& a, const std::string& stream,
                                     const std::vector<std::size_t>& cuts, bool finish = true) {
        auto dec = a.open_stream(chat(true));
        EXPECT_TRUE(dec.ok());
        std::vector<Event> out;
        auto on = [&](int32_t k, uint32_t f, std::string_view d) {
            out.push_back({k, f, std::string(d)});
        };
        std::size_t start = 0;
        for (std::size_t c : cuts) {
            dec.value->feed(std::string_view(stream).substr(start, c - start), on);
            start = c;
        }
        dec.value->feed(std::string_view(stream).substr(start), on);
        if (finish) dec.value->finish(on);
        return out;
    }
    static PluginHost* host_;
};
PluginHost* OpenAiAdapterTest::host_ = nullptr;

const std::string kStream =
    "data: "
    "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{"
    "\"role\":\"assistant\","
    "\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\r\n\r\n"
    ": OPENROUTER PROCESSING\n\n"
    "data: "
    "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{"
    "\"content\":\"你好\"},"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: "
    "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{"
    "\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"{\\\"a\\\":1}\"}}]},\"finish_reason\":\"tool_calls\"}],"
    "\"usage\":null}\n\n"
    "data: "
    "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_"
    "tokens\":5,"
    "\"completion_tokens\":2,\"total_tokens\":7}}\n\n"
    "data: [DONE]\n\n";

}  // namespace

TEST_F(OpenAiAdapterTest, BuildsChatEmbeddingsAndModelRequests) {
    auto a = make({{"extra_headers", {{"OpenAI-Organization", "org-7"}}}});
    auto r = a->build_request(chat(false));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->method, "POST");
    EXPECT_EQ(r->url, "https://api.example.com/v1/chat/completions");
    EXPECT_EQ(r->body, chat(false).body);  // forwarded byte for byte
    auto has = [&](const std::string& name, const std::string& value) {
        return std::find(r->headers.begin(), r->headers.end(), std::pair{name, value}) !=
               r->headers.end();
    };
    EXPECT_TRUE(has("OpenAI-Organization", "org-7"));
    EXPECT_TRUE(has("Content-Type", "application/json"));
    for (const auto& [name, value] : r->headers)
        EXPECT_NE(name, "Authorization") << "the secret is the core's business";
    EXPECT_EQ(r->secret_placement, MG_SECRET_BEARER);
    EXPECT_FALSE(r->stream);
    EXPECT_TRUE(a->build_request(chat(true))->stream);

    CallSpec e;
    e.op = MG_OP_EMBEDDINGS;
    e.body = R"({"model":"m","input":"x"})";
    EXPECT_EQ(a->build_request(e)->url, "https://api.example.com/v1/embeddings");
    CallSpec m;
    m.op = MG_OP_LIST_MODELS;
    auto models = a->build_request(m);
    EXPECT_EQ(models->method, "GET");
    EXPECT_EQ(models->url, "https://api.example.com/v1/models");
}

TEST_F(OpenAiAdapterTest, RejectsBadConfiguration) {
    const auto& plugin = *host_->find_provider("openai");
    EXPECT_FALSE(AdapterInstance::create(plugin, "x", "ftp://h", json::object()).ok());
    EXPECT_FALSE(AdapterInstance::create(plugin, "x", "https://h",
                                         {{"extra_headers", {{"X-Evil", "a\r\nInjected: 1"}}}})
                     .ok());
    EXPECT_FALSE(
        AdapterInstance::create(plugin, "x", "https://h", {{"extra_headers", "nope"}}).ok());
    EXPECT_FALSE(AdapterInstance::create(plugin, "x", "https://h", {{"unknown_option", 1}}).ok());
}

TEST_F(OpenAiAdapterTest, ParsesWholeAnswersAndSpotsErrorBodies) {
    auto a = make();
    std::string body =
        R"({"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})";
    auto ok = a->parse_response(chat(false), 200, body);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->body, body);
    EXPECT_EQ(json::parse(ok->usage)["total_tokens"], 4);

    auto err = a->parse_response(chat(false), 200, R"({"error":{"message":"overloaded"}})");
    EXPECT_EQ(err.status(), MG_ERR_UPSTREAM);
    auto garbage = a->parse_response(chat(false), 200, "<html>502 Bad Gateway</html>");
    EXPECT_FALSE(garbage.ok());
    EXPECT_NE(garbage.status(), MG_ERR_UPSTREAM);

    CallSpec m;
    m.op = MG_OP_LIST_MODELS;
    auto models = a->parse_response(m, 200, R"({"data":[{"id":"a","object":"model"},{"id":"b"}]})");
    ASSERT_TRUE(models.ok());
    auto j = json::parse(models->body);
    EXPECT_EQ(j["data"].size(), 2u);
    EXPECT_EQ(j["data"][1]["id"], "b");
    EXPECT_EQ(j["data"][1]["owned_by"], "acme");
}

TEST_F(OpenAiAdapterTest, DecodesAStreamIntoChunksUsageTextAndDone) {
    auto a = make();
    auto ev = decode(*a, kStream, {});
    std::vector<int32_t> kinds;
    for (const auto& e : ev)
        kinds.push_back(e.kind);
    // chunk, chunk+text, text(tool args)+chunk, usage+usage-only chunk, done
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), MG_EVENT_CHUNK), 4);
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), MG_EVENT_DONE), 1);
    EXPECT_EQ(kinds.back(), MG_EVENT_DONE);
    int usage_only = 0;
    std::string text;
    for (const auto& e : ev) {
        if (e.kind == MG_EVENT_CHUNK && (e.flags & MG_CHUNK_USAGE_ONLY)) ++usage_only;
        if (e.kind == MG_EVENT_TEXT) text += e.data;
        if (e.kind == MG_EVENT_USAGE) {
            EXPECT_EQ(json::parse(e.data)["total_tokens"], 7);
        }
        if (e.kind == MG_EVENT_CHUNK) {
            EXPECT_TRUE(json::parse(e.data).is_object());
        }
    }
    EXPECT_EQ(usage_only, 1);
    EXPECT_EQ(text, "你好{\"a\":1}");
}

TEST_F(OpenAiAdapterTest, StreamSplitAtEveryByteBoundaryDecodesTheSame) {
    auto a = make();
    auto whole = decode(*a, kStream, {});
    for (std::size_t i = 1; i < kStream.size(); ++i) {
        ASSERT_EQ(decode(*a, kStream, {i}), whole) << "split at byte " << i;
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < kStream.size(); ++i)
        every.push_back(i);
    EXPECT_EQ(decode(*a, kStream, every), whole);
}

TEST_F(OpenAiAdapterTest, StreamEndings) {
    auto a = make();
    const std::string partial =
        "data: "
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n";
    auto truncated = decode(*a, partial, {});
    ASSERT_FALSE(truncated.empty());
    EXPECT_EQ(truncated.back().kind, MG_EVENT_ERROR);
    EXPECT_EQ(json::parse(truncated.back().data)["code"], "stream_truncated");

    // finish_reason seen, [DONE] missing: complete.
    auto no_done = decode(
        *a, partial + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
        {});
    EXPECT_EQ(no_done.back().kind, MG_EVENT_DONE);

    auto in_band = decode(
        *a,
        partial + "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
        {});
    EXPECT_EQ(in_band.back().kind, MG_EVENT_ERROR);
    EXPECT_EQ(json::parse(in_band.back().data)["message"], "overloaded");

    auto garbage = decode(*a, "data: {not json\n\n", {});
    EXPECT_EQ(garbage.back().kind, MG_EVENT_ERROR);
    // Nothing after [DONE] counts.
    auto after = decode(*a, "data: [DONE]\n\ndata: {\"x\":1}\n\n", {});
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].kind, MG_EVENT_DONE);
}

TEST_F(OpenAiAdapterTest, ClassifiesErrors) {
    auto a = make();
    auto rl = a->classify_error(
        429, "retry-after: 12\ncontent-type: application/json\n",
        R"({"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}})");
    EXPECT_EQ(rl.error_class, MG_ERRCLASS_RATE_LIMITED);
    EXPECT_EQ(rl.retry_after_ms, 12000);
    EXPECT_EQ(rl.error["message"], "slow down");
    EXPECT_EQ(rl.error["code"], "rate_limit_exceeded");
    EXPECT_EQ(a->classify_error(401, "", "{}").error_class, MG_ERRCLASS_AUTH);
    EXPECT_EQ(a->classify_error(400, "", "{}").error_class, MG_ERRCLASS_INVALID_REQUEST);
    auto html = a->classify_error(503, "", "<html>down</html>");
    EXPECT_EQ(html.error_class, MG_ERRCLASS_RETRYABLE);
    EXPECT_NE(html.error["message"].get<std::string>().find("503"), std::string::npos);
}

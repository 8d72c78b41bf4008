// The zhipu adapter: through the plugin loader, and end to end through the real
// gateway in front of a fake upstream that speaks Zhipu's wire format (no
// "object" fields, usage in the last stream chunk, finish reasons and business
// error codes of its own, float-only embeddings).
#include <bit>
#include <modelgate/host/adapter.hpp>
#include <random>

#include "integration/fixture.hpp"
#include "plugins/plugin_host.hpp"

namespace modelgate::test {

using nlohmann::json;

namespace {

json glm_chunk(const json& delta, const char* finish = nullptr) {
    json c = {{"id", "2025100912345678"},
              {"created", 1760000000},
              {"model", "glm-4.6"},
              {"choices", {{{"index", 0}, {"delta", delta}}}}};
    if (finish != nullptr) c["choices"][0]["finish_reason"] = finish;
    return c;
}

const json kUsage = {{"prompt_tokens", 8},
                     {"completion_tokens", 12},
                     {"total_tokens", 20},
                     {"prompt_tokens_details", {{"cached_tokens", 2}}}};

// A GLM stream: reasoning, then content, and the usage in the last chunk together
// with its finish reason.
void glm_stream(FakeExchange& ex, const char* finish = "stop") {
    ex.start_stream();
    ex.sse(glm_chunk({{"role", "assistant"}, {"reasoning_content", "用户在打招呼"}}));
    ex.sse(glm_chunk({{"role", "assistant"}, {"content", "你好"}}));
    ex.sse(glm_chunk({{"role", "assistant"}, {"content", "！"}}));
    json last = glm_chunk({{"role", "assistant"}, {"content", ""}}, finish);
    last["usage"] = kUsage;
    ex.sse(last);
    ex.done();
    ex.end_stream();
}

json glm_answer(const char* finish) {
    return {{"choices",
             {{{"finish_reason", finish},
               {"index", 0},
               {"message", {{"content", "你好！"}, {"role", "assistant"}}}}}},
            {"created", 1760000000},
            {"id", "20251009123456789abc"},
            {"model", "glm-4.6"},
            {"request_id", "20251009123456789abc"},
            {"usage", kUsage}};
}

void zhipu_script(const FakeRequest& req, FakeExchange& ex) {
    json body = req.json();
    if (req.path == "/v1/embeddings") {
        json data = json::array();
        json input = body["input"].is_array() ? body["input"] : json::array({body["input"]});
        for (std::size_t i = 0; i < input.size(); ++i) {
            data.push_back({{"embedding", {0.5, -0.25, 0.1 * static_cast<double>(i + 1)}},
                            {"index", i},
                            {"object", "embedding"}});
        }
        ex.respond_json(
            200,
            {{"model", body["model"]},
             {"data", data},
             {"object", "list"},
             {"usage", {{"completion_tokens", 0}, {"prompt_tokens", 3}, {"total_tokens", 3}}}});
        return;
    }
    if (body.value("stream", false))
        glm_stream(ex);
    else
        ex.respond_json(200, glm_answer("stop"));
}

std::vector<float> decode_float32_base64(const std::string& s) {
    static const std::string kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : s) {
        if (c == '=') break;
        auto v = kAlphabet.find(c);
        if (v == std::string::npos) return {};
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(static_cast<char>((acc >> bits) & 0xffu));
        }
    }
    std::vector<float> out;
    for (std::size_t i = 0; i + 4 <= bytes.size(); i += 4) {
        uint32_t u = 0;
        for (int b = 3; b >= 0; --b)
            u = (u << 8) | static_cast<uint8_t>(bytes[i + static_cast<std::size_t>(b)]);
        out.push_back(std::bit_cast<float>(u));
    }
    return out;
}

}  // namespace

class ZhipuTest : public GatewayTest {
  protected:
    void SetUp() override {
        GatewayTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) return;
        upstream->set_script(zhipu_script);
        gw->bind(provider, "glm-4.6");
        gw->bind(provider, "embedding-3");
    }
    json provider_settings() override { return {{"adapter", "zhipu"}}; }

    static json glm_body(bool stream = false) {
        json b = {{"model", "acme/glm-4.6"},
                  {"messages", {{{"role", "user"}, {"content", "你好"}}}}};
        if (stream) b["stream"] = true;
        return b;
    }
    json final_row(const HttpResponse& r) {
        return gw->wait_log([&](const json& l) {
            return l["request_id"] == r.header("x-request-id") && l["status"] != "pending";
        });
    }
};

TEST_P(ZhipuTest, StreamIsOpenAIShapedWithOneUsageChunkAndNoStreamOptionsUpstream) {
    json b = glm_body(true);
    b["stream_options"] = {{"include_usage", true}};
    auto r = gw->call("/v1/chat/completions", b, key);
    ASSERT_EQ(r.status, 200) << r.body;

    json sent = upstream->requests().back().json();
    EXPECT_FALSE(sent.contains("stream_options")) << sent.dump();
    EXPECT_EQ(sent["stream"], true);

    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), "[DONE]");
    std::string content, reasoning;
    std::vector<json> usages;
    for (const auto& e : events) {
        if (e == "[DONE]") continue;
        json j = json::parse(e);
        EXPECT_EQ(j["object"], "chat.completion.chunk") << e;
        if (j.contains("usage") && !j["usage"].is_null()) {
            EXPECT_TRUE(j["choices"].empty()) << "usage must come in its own chunk: " << e;
            usages.push_back(j["usage"]);
            continue;
        }
        const json& delta = j["choices"][0]["delta"];
        content += delta.value("content", "");
        reasoning += delta.value("reasoning_content", "");
    }
    EXPECT_EQ(content, "你好！");
    EXPECT_EQ(reasoning, "用户在打招呼");
    ASSERT_EQ(usages.size(), 1u) << r.body;
    EXPECT_EQ(usages[0], kUsage) << "Zhipu's usage, not an estimate";

    auto row = final_row(r);
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["prompt_tokens"], 8);
    EXPECT_EQ(row["completion_tokens"], 12);
    EXPECT_EQ(row["tokens_estimated"], false);
    EXPECT_EQ(row["usage"], kUsage);
}

TEST_P(ZhipuTest, StreamWithoutIncludeUsageShowsNoUsageButIsStillAccounted) {
    auto r = gw->call("/v1/chat/completions", glm_body(true), key);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& e : sse_data(r.body)) {
        if (e == "[DONE]") continue;
        json j = json::parse(e);
        EXPECT_TRUE(!j.contains("usage") || j["usage"].is_null()) << "usage leaked: " << e;
        EXPECT_FALSE(j["choices"].empty()) << e;
    }
    auto row = final_row(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["total_tokens"], 20);
    EXPECT_EQ(row["tokens_estimated"], false);
}

TEST_P(ZhipuTest, RequestFieldsZhipuRejectsAreAdapted) {
    json b = glm_body();
    b["n"] = 1;
    b["max_completion_tokens"] = 256;
    auto r = gw->call("/v1/chat/completions", b, key);
    ASSERT_EQ(r.status, 200) << r.body;
    json sent = upstream->requests().back().json();
    EXPECT_FALSE(sent.contains("n")) << sent.dump();
    EXPECT_FALSE(sent.contains("max_completion_tokens"));
    EXPECT_EQ(sent["max_tokens"], 256);
    EXPECT_EQ(sent["model"], "glm-4.6");
    EXPECT_EQ(upstream->requests().back().header("authorization"),
              "Bearer sk-upstream-acme-0123456789");

    json answer = r.json();
    EXPECT_EQ(answer["object"], "chat.completion");
    EXPECT_EQ(answer["choices"][0]["message"]["content"], "你好！");
    auto row = final_row(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["usage"], kUsage);
}

TEST_P(ZhipuTest, SensitiveFinishReasonBecomesContentFilter) {
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        if (req.json().value("stream", false))
            glm_stream(ex, "sensitive");
        else
            ex.respond_json(200, glm_answer("sensitive"));
    });
    auto whole = gw->call("/v1/chat/completions", glm_body(), key);
    ASSERT_EQ(whole.status, 200) << whole.body;
    EXPECT_EQ(whole.json()["choices"][0]["finish_reason"], "content_filter");

    auto streamed = gw->call("/v1/chat/completions", glm_body(true), key);
    ASSERT_EQ(streamed.status, 200) << streamed.body;
    EXPECT_EQ(streamed.body.find("sensitive"), std::string::npos) << streamed.body;
    auto events = sse_data(streamed.body);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events.back(), "[DONE]");
    EXPECT_EQ(json::parse(events[events.size() - 2])["choices"][0]["finish_reason"],
              "content_filter");
}

TEST_P(ZhipuTest, NetworkErrorFinishReasonIsAnError) {
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        if (req.json().value("stream", false))
            glm_stream(ex, "network_error");
        else
            ex.respond_json(200, glm_answer("network_error"));
    });
    auto whole = gw->call("/v1/chat/completions", glm_body(), key);
    EXPECT_EQ(whole.status, 503) << whole.body;  // a retryable error inside a 2xx answer
    EXPECT_EQ(whole.json()["error"]["code"], "zhipu_network_error");
    auto whole_row = final_row(whole);
    ASSERT_FALSE(whole_row.is_null());
    EXPECT_EQ(whole_row["status"], "error");

    auto streamed = gw->call("/v1/chat/completions", glm_body(true), key);
    ASSERT_EQ(streamed.status, 200) << streamed.body;
    auto events = sse_data(streamed.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(streamed.body.find("[DONE]"), std::string::npos) << streamed.body;
    EXPECT_EQ(json::parse(events.back())["error"]["code"], "zhipu_network_error");
    auto stream_row = final_row(streamed);
    ASSERT_FALSE(stream_row.is_null());
    EXPECT_EQ(stream_row["status"], "error");
    EXPECT_EQ(stream_row["total_tokens"], 20) << "the usage Zhipu reported is still recorded";
}

TEST_P(ZhipuTest, BusinessErrorCodesReachTheClientAsOpenAIErrors) {
    struct Case {
        int status;
        const char* zhipu_code;
        const char* message;
        const char* type;
        const char* code;
        const char* log_status;
    };
    const Case cases[] = {
        {429, "1302", "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。",
         "rate_limit_error", "zhipu_1302", "rate_limited"},
        {429, "1305", "该模型当前访问量过大，请您稍后再试", "rate_limit_error", "zhipu_1305",
         "rate_limited"},
        {401, "1002", "Authorization Token非法，请确认Authorization Token正确传递。",
         "authentication_error", "zhipu_1002", "error"},
        {400, "1211", "模型不存在，请检查模型代码。", "invalid_request_error", "model_not_found",
         "error"},
        {400, "1301", "系统检测到输入或生成内容可能包含不安全或敏感内容。", "invalid_request_error",
         "content_filter", "error"},
        {400, "1261", "Prompt 超长", "invalid_request_error", "zhipu_1261", "error"},
        {429, "1113", "余额不足或无可用资源包,请充值。", "insufficient_quota", "zhipu_1113",
         "rate_limited"},
        {500, "500", "Internal Error", "server_error", "zhipu_500", "error"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.zhipu_code);
        upstream->set_script([c](const FakeRequest&, FakeExchange& ex) {
            ex.respond_json(c.status, {{"error", {{"code", c.zhipu_code}, {"message", c.message}}}},
                            {{"Retry-After", "2"}});
        });
        auto r = gw->call("/v1/chat/completions", glm_body(), key);
        EXPECT_EQ(r.status, c.status) << r.body;
        json error = r.json()["error"];
        EXPECT_EQ(error["message"], c.message);
        EXPECT_EQ(error["type"], c.type);
        EXPECT_EQ(error["code"], c.code);
        EXPECT_EQ(error["zhipu_code"], c.zhipu_code);
        EXPECT_EQ(r.header("retry-after"), "2");
        auto row = final_row(r);
        ASSERT_FALSE(row.is_null());
        EXPECT_EQ(row["status"], c.log_status);
        EXPECT_EQ(row["upstream_status_code"], c.status);
        EXPECT_EQ(row["downstream_status_code"], c.status);
        EXPECT_EQ(row["error"], c.message);
        gw->resume_keys(provider);  // a rate limit paused the key; the next case needs it
    }
}

TEST_P(ZhipuTest, ErrorInsideAStreamIsMapped) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.start_stream();
        ex.sse(glm_chunk({{"role", "assistant"}, {"content", "好的"}}));
        ex.sse({{"error", {{"code", "1301"}, {"message", "内容不安全"}}}});
        ex.end_stream();
    });
    auto r = gw->call("/v1/chat/completions", glm_body(true), key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto events = sse_data(r.body);
    ASSERT_EQ(events.size(), 2u) << r.body;
    json error = json::parse(events.back())["error"];
    EXPECT_EQ(error["code"], "content_filter");
    EXPECT_EQ(error["type"], "invalid_request_error");
    EXPECT_EQ(error["message"], "内容不安全");
    auto row = final_row(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "error");
    EXPECT_EQ(row["error"], "内容不安全");
}

TEST_P(ZhipuTest, Base64EmbeddingsAreEncodedFromZhipusFloats) {
    // What the openai npm SDK sends by default.
    auto r = gw->call("/v1/embeddings",
                      {{"model", "acme/embedding-3"},
                       {"input", {"你好", "世界"}},
                       {"dimensions", 3},
                       {"encoding_format", "base64"}},
                      key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto sent = upstream->requests().back();
    EXPECT_EQ(sent.path, "/v1/embeddings");
    EXPECT_FALSE(sent.json().contains("encoding_format")) << sent.body;
    EXPECT_EQ(sent.json()["dimensions"], 3);

    json answer = r.json();
    ASSERT_EQ(answer["data"].size(), 2u) << r.body;
    for (std::size_t i = 0; i < 2; ++i) {
        const json& item = answer["data"][i];
        ASSERT_TRUE(item["embedding"].is_string()) << item.dump();
        EXPECT_EQ(decode_float32_base64(item["embedding"]),
                  (std::vector<float>{0.5f, -0.25f, static_cast<float>(0.1 * (i + 1))}));
    }
    auto row = final_row(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["prompt_tokens"], 3);

    auto floats =
        gw->call("/v1/embeddings", {{"model", "acme/embedding-3"}, {"input", "hello"}}, key);
    ASSERT_EQ(floats.status, 200) << floats.body;
    EXPECT_EQ(floats.json()["data"][0]["embedding"], json({0.5, -0.25, 0.1}));
}

INSTANTIATE_TEST_SUITE_P(Backends, ZhipuTest, ::testing::Values("sqlite"),
                         modelgate::test::backend_name);

// The adapter through the loader, without a gateway.
class ZhipuAdapterTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        host_ = new core::plugins::PluginHost();
        ASSERT_TRUE(host_->load_file(std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/zhipu.so"));
    }
    std::shared_ptr<host::Adapter> make() {
        auto a = host::Adapter::create(*host_->find_provider("zhipu"), "zhipu", "", json::object());
        EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.failure->message);
        return a.ok() ? a.value : nullptr;
    }
    static core::plugins::PluginHost* host_;
};
core::plugins::PluginHost* ZhipuAdapterTest::host_ = nullptr;

TEST_F(ZhipuAdapterTest, DeclaresChatStreamAndEmbeddingsButNoModelList) {
    auto a = make();
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->supports(MG_CAP_CHAT));
    EXPECT_TRUE(a->supports(MG_CAP_CHAT_STREAM));
    EXPECT_TRUE(a->supports(MG_CAP_EMBEDDINGS));
    EXPECT_FALSE(a->supports(MG_CAP_LIST_MODELS));
    host::Call models;
    models.op = MG_OP_LIST_MODELS;
    EXPECT_EQ(a->build_request(models).status(), MG_ERR_UNSUPPORTED);

    host::Call chat;
    chat.model = "glm-4.6";
    chat.body = R"({"model":"glm-4.6","messages":[{"role":"user","content":"hi"}]})";
    auto req = a->build_request(chat);
    ASSERT_TRUE(req.ok()) << req.failure->message;
    EXPECT_EQ(req->url, "https://open.bigmodel.cn/api/paas/v4/chat/completions")
        << "the default base URL";
}

TEST_F(ZhipuAdapterTest, Base64EmbeddingsRoundTripExactlyAsFloat32) {
    auto a = make();
    ASSERT_TRUE(a);
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    for (std::size_t n : {1u, 2u, 3u, 4u, 1024u, 2047u}) {  // every base64 padding case
        SCOPED_TRACE(n);
        json vec = json::array();
        for (std::size_t i = 0; i < n; ++i)
            vec.push_back(dist(rng));
        host::Call call;
        call.op = MG_OP_EMBEDDINGS;
        call.model = "embedding-3";
        call.body = R"({"model":"embedding-3","input":"x","encoding_format":"base64"})";
        json upstream_answer = {
            {"model", "embedding-3"},
            {"object", "list"},
            {"data", {{{"embedding", vec}, {"index", 0}, {"object", "embedding"}}}},
            {"usage", {{"prompt_tokens", 1}, {"total_tokens", 1}}}};
        auto parsed = a->parse_response(call, 200, upstream_answer.dump());
        ASSERT_TRUE(parsed.ok()) << parsed.failure->message;
        std::string b64 = json::parse(parsed->body)["data"][0]["embedding"];
        EXPECT_EQ(b64.size(), (n * 4 + 2) / 3 * 4);
        auto decoded = decode_float32_base64(b64);
        ASSERT_EQ(decoded.size(), n);
        for (std::size_t i = 0; i < n; ++i)
            ASSERT_EQ(decoded[i], static_cast<float>(vec[i].get<double>())) << i;
    }
}

}  // namespace modelgate::test

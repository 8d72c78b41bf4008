// The ollama adapter end to end: the real gateway (loader, pipeline, logging)
// in front of a fake upstream that speaks Ollama's native API (/api/chat with
// NDJSON streaming, /api/embed, {"error": "..."} bodies), called the way an
// OpenAI client calls the gateway.
#include <cstring>

#include "integration/fixture.hpp"

namespace modelgate::test {

using nlohmann::json;

namespace {

constexpr const char* kCreatedAt = "2025-05-29T09:35:56.305517Z";
constexpr int64_t kCreatedUnix = 1748511356;

// One NDJSON line of a streamed /api/chat answer.
std::string line(const json& message, bool done = false, const json& extra = json::object()) {
    json j = {
        {"model", "llama3"}, {"created_at", kCreatedAt}, {"message", message}, {"done", done}};
    j.update(extra);
    return j.dump() + "\n";
}

std::vector<float> decode_float32_base64(const std::string& text) {
    static const std::string kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=') break;
        auto pos = kAlphabet.find(c);
        if (pos == std::string::npos) return {};
        acc = (acc << 6) | static_cast<uint32_t>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    std::vector<float> out(bytes.size() / 4);
    for (std::size_t i = 0; i < out.size(); ++i) {
        uint32_t v = 0;
        for (int b = 3; b >= 0; --b)
            v = (v << 8) | static_cast<uint8_t>(bytes[i * 4 + static_cast<std::size_t>(b)]);
        std::memcpy(&out[i], &v, sizeof v);
    }
    return out;
}

}  // namespace

class OllamaProviderTest : public GatewayTest {
  protected:
    void SetUp() override {
        GatewayTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        gw->bind(provider, "llama3");
        gw->bind(provider, "nomic-embed-text");
        gw->bind(provider, "ghost");
        upstream->set_script([](const FakeRequest& req, FakeExchange& ex) { ollama(req, ex); });
    }

    json provider_settings() override {
        return {{"adapter", "ollama"},
                {"base_url", "http://127.0.0.1:" + std::to_string(upstream->port())}};
    }

    // Ollama's native API, as far as these tests need it.
    static void ollama(const FakeRequest& req, FakeExchange& ex) {
        json body = req.json();
        std::string model = body.value("model", "");
        if (model == "ghost") {
            ex.respond_json(404, {{"error", "model \"ghost\" not found, try pulling it first"}});
            return;
        }
        if (req.path == "/api/embed") {
            ex.respond_json(200, {{"model", model},
                                  {"embeddings", {{0.5, -0.25, 0.125}, {1.0, 0.0, -2.5}}},
                                  {"total_duration", 14143917},
                                  {"load_duration", 1019500},
                                  {"prompt_eval_count", 6}});
            return;
        }
        if (req.path != "/api/chat") {
            ex.respond_json(404, {{"error", "404 page not found"}});
            return;
        }
        const json user = body["messages"].back()["content"];
        if (!body.value("stream", true)) {
            ex.respond_json(200, {{"model", model},
                                  {"created_at", kCreatedAt},
                                  {"message",
                                   {{"role", "assistant"},
                                    {"content", "Hello from Ollama"},
                                    {"thinking", "A greeting is due."}}},
                                  {"done_reason", "stop"},
                                  {"done", true},
                                  {"total_duration", 5191566416},
                                  {"load_duration", 2154458},
                                  {"prompt_eval_count", 26},
                                  {"prompt_eval_duration", 383809000},
                                  {"eval_count", 5},
                                  {"eval_duration", 4799921000}});
            return;
        }
        ex.start_stream(200, "application/x-ndjson");
        std::string lines = line({{"role", "assistant"}, {"content", ""}, {"thinking", "Let me"}}) +
                            line({{"role", "assistant"}, {"content", ""}, {"thinking", " think."}});
        lines.insert(lines.size() - 1, "\r");  // a CRLF line ending
        lines += line({{"role", "assistant"}, {"content", "Hello"}});
        if (user == "break") {
            lines += json{{"error", "an error was encountered while running the model"}}.dump();
            lines += "\n";
        } else if (user != "truncate") {
            lines += line({{"role", "assistant"}, {"content", " world"}});
            lines += line({{"role", "assistant"}, {"content", ""}}, true,
                          {{"done_reason", "stop"},
                           {"total_duration", 4883583458},
                           {"prompt_eval_count", 12},
                           {"eval_count", 3}});
        }
        // Chunk boundaries that fall inside lines, as TCP reads do.
        for (std::size_t at = 0; at < lines.size(); at += 37)
            ex.chunk(lines.substr(at, 37));
        ex.end_stream();
    }

    json chat(const std::string& model, const std::string& content, bool stream) const {
        json b = {{"model", "acme/" + model},
                  {"messages", {{{"role", "user"}, {"content", content}}}}};
        if (stream) b["stream"] = true;
        return b;
    }

    json log_of(const HttpResponse& r) {
        std::string id = r.header("x-request-id");
        return gw->wait_log(
            [&](const json& l) { return l["request_id"] == id && l["status"] != "pending"; });
    }
};

TEST_P(OllamaProviderTest, WholeAnswerIsAChatCompletionAndItsCountsAreLogged) {
    auto body = chat("llama3", "Say hello", false);
    body["max_tokens"] = 64;
    body["temperature"] = 0.25;
    auto r = gw->call("/v1/chat/completions", body, key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u) << j["id"];
    EXPECT_EQ(j["created"], kCreatedUnix);
    EXPECT_EQ(j["model"], "llama3");
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello from Ollama");
    EXPECT_EQ(j["choices"][0]["message"]["reasoning_content"], "A greeting is due.");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["usage"],
              (json{{"prompt_tokens", 26}, {"completion_tokens", 5}, {"total_tokens", 31}}));

    // The upstream got Ollama's native request, with the provider's secret.
    auto reqs = upstream->requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].method, "POST");
    EXPECT_EQ(reqs[0].path, "/api/chat");
    EXPECT_EQ(reqs[0].header("authorization"), "Bearer sk-upstream-acme-0123456789");
    auto sent = reqs[0].json();
    EXPECT_EQ(sent["model"], "llama3");
    EXPECT_EQ(sent["stream"], false);
    EXPECT_EQ(sent["options"]["num_predict"], 64);
    EXPECT_EQ(sent["options"]["temperature"], 0.25);
    EXPECT_FALSE(sent.contains("max_tokens"));
    EXPECT_EQ(sent["messages"], (json{{{"role", "user"}, {"content", "Say hello"}}}));

    auto row = log_of(r);
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["provider_name"], "acme");
    EXPECT_EQ(row["model"], "llama3");
    EXPECT_EQ(row["prompt_tokens"], 26);
    EXPECT_EQ(row["completion_tokens"], 5);
    EXPECT_EQ(row["total_tokens"], 31);
    EXPECT_EQ(row["tokens_estimated"], false);
}

TEST_P(OllamaProviderTest, NdjsonStreamBecomesOpenAiSseWithReasoningAndUsage) {
    auto body = chat("llama3", "Say hello", true);
    body["stream_options"] = {{"include_usage", true}};
    auto r = gw->call("/v1/chat/completions", body, key);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("content-type").rfind("text/event-stream", 0), 0u);
    auto events = sse_data(r.body);
    ASSERT_GE(events.size(), 4u) << r.body;
    EXPECT_EQ(events.back(), "[DONE]");

    std::string reasoning, content, finish, id;
    json usage;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
        auto j = json::parse(events[i], nullptr, false);
        ASSERT_TRUE(j.is_object()) << events[i];
        EXPECT_EQ(j["object"], "chat.completion.chunk");
        EXPECT_EQ(j["model"], "llama3");
        if (id.empty()) id = j["id"].get<std::string>();
        EXPECT_EQ(j["id"], id) << "every chunk of one answer shares its id";
        if (j.contains("usage") && j["usage"].is_object()) usage = j["usage"];
        if (j["choices"].empty()) continue;
        const auto& choice = j["choices"][0];
        if (i == 0) {
            EXPECT_EQ(choice["delta"]["role"], "assistant");
        }
        if (choice["delta"].contains("reasoning_content"))
            reasoning += choice["delta"]["reasoning_content"].get<std::string>();
        if (choice["delta"].contains("content"))
            content += choice["delta"]["content"].get<std::string>();
        if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
    }
    EXPECT_EQ(id.rfind("chatcmpl-", 0), 0u);
    EXPECT_EQ(reasoning, "Let me think.");
    EXPECT_EQ(content, "Hello world");
    EXPECT_EQ(finish, "stop");
    EXPECT_EQ(usage["prompt_tokens"], 12);
    EXPECT_EQ(usage["completion_tokens"], 3);
    EXPECT_EQ(usage["total_tokens"], 15);
    EXPECT_FALSE(usage.contains("estimated")) << "the upstream's counts, not an estimate";

    auto reqs = upstream->requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].path, "/api/chat");
    EXPECT_EQ(reqs[0].json()["stream"], true);
    EXPECT_FALSE(reqs[0].json().contains("stream_options")) << "not an Ollama field";

    auto row = log_of(r);
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["stream"], true);
    EXPECT_EQ(row["prompt_tokens"], 12);
    EXPECT_EQ(row["completion_tokens"], 3);
    EXPECT_EQ(row["tokens_estimated"], false);
}

TEST_P(OllamaProviderTest, StreamUsageIsLoggedButNotSentToAClientThatDidNotAsk) {
    auto r = gw->call("/v1/chat/completions", chat("llama3", "Say hello", true), key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), "[DONE]");
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
        auto j = json::parse(events[i]);
        EXPECT_FALSE(j["choices"].empty()) << "usage chunk leaked: " << events[i];
    }
    auto row = log_of(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["prompt_tokens"], 12);
    EXPECT_EQ(row["completion_tokens"], 3);
}

TEST_P(OllamaProviderTest, ErrorLineInTheStreamEndsItWithAnErrorEvent) {
    auto r = gw->call("/v1/chat/completions", chat("llama3", "break", true), key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_NE(events.back(), "[DONE]");
    auto last = json::parse(events.back());
    EXPECT_EQ(last["error"]["message"], "an error was encountered while running the model");
    auto row = log_of(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "error");
}

TEST_P(OllamaProviderTest, StreamWithoutADoneLineIsTruncated) {
    auto r = gw->call("/v1/chat/completions", chat("llama3", "truncate", true), key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_NE(events.back(), "[DONE]");
    auto last = json::parse(events.back());
    EXPECT_EQ(last["error"]["code"], "stream_truncated");
    auto row = log_of(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "error");
}

TEST_P(OllamaProviderTest, EmbeddingsAsFloats) {
    auto r = gw->call(
        "/v1/embeddings",
        {{"model", "acme/nomic-embed-text"}, {"input", {"a", "b"}}, {"encoding_format", "float"}},
        key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["object"], "list");
    ASSERT_EQ(j["data"].size(), 2u);
    EXPECT_EQ(j["data"][0]["object"], "embedding");
    EXPECT_EQ(j["data"][1]["index"], 1);
    EXPECT_EQ(j["data"][0]["embedding"], (json{0.5, -0.25, 0.125}));
    EXPECT_EQ(j["data"][1]["embedding"], (json{1.0, 0.0, -2.5}));
    EXPECT_EQ(j["usage"]["prompt_tokens"], 6);

    auto sent = upstream->requests().back();
    EXPECT_EQ(sent.path, "/api/embed");
    EXPECT_EQ(sent.json(), (json{{"model", "nomic-embed-text"}, {"input", {"a", "b"}}}));

    auto row = log_of(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["endpoint"], "embeddings");
    EXPECT_EQ(row["prompt_tokens"], 6);
    EXPECT_EQ(row["tokens_estimated"], false);
}

TEST_P(OllamaProviderTest, EmbeddingsAsBase64LikeTheOpenAiSdkAsks) {
    auto r = gw->call(
        "/v1/embeddings",
        {{"model", "acme/nomic-embed-text"}, {"input", {"a", "b"}}, {"encoding_format", "base64"}},
        key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    ASSERT_EQ(j["data"].size(), 2u);
    ASSERT_TRUE(j["data"][0]["embedding"].is_string()) << j.dump();
    EXPECT_EQ(decode_float32_base64(j["data"][0]["embedding"]),
              (std::vector<float>{0.5f, -0.25f, 0.125f}));
    EXPECT_EQ(decode_float32_base64(j["data"][1]["embedding"]),
              (std::vector<float>{1.0f, 0.0f, -2.5f}));
}

TEST_P(OllamaProviderTest, ModelNotFoundKeepsItsStatusInOpenAiShape) {
    auto r = gw->call("/v1/chat/completions", chat("ghost", "Hi", false), key);
    EXPECT_EQ(r.status, 404) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["error"]["message"], "model \"ghost\" not found, try pulling it first");
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_EQ(j["error"]["code"], "model_not_found");
    auto row = log_of(r);
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "error");
    EXPECT_EQ(row["upstream_status_code"], 404);
    EXPECT_EQ(row["downstream_status_code"], 404);
}

TEST_P(OllamaProviderTest, ImageUrlsAreRefusedBeforeTheUpstreamIsCalled) {
    json body = {
        {"model", "acme/llama3"},
        {"messages",
         {{{"role", "user"},
           {"content",
            {{{"type", "text"}, {"text", "Describe"}},
             {{"type", "image_url"}, {"image_url", {{"url", "https://example.com/cat.png"}}}}}}}}}};
    auto r = gw->call("/v1/chat/completions", body, key);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("data: URL"), std::string::npos)
        << r.body;
    EXPECT_EQ(upstream->request_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, OllamaProviderTest, ::testing::Values("sqlite"), backend_name);

}  // namespace modelgate::test

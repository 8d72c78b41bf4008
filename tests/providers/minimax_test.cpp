// The MiniMax adapter end to end: a real gateway in front of a fake upstream
// that speaks MiniMax's wire format (OpenAI-style JSON and SSE with <think> and
// <minimax:tool_call> markup inside content, zero usage placeholders, a closing
// chat.completion frame, base_resp errors in HTTP 200 answers, HTTP 529).
#include <regex>
#include <string>
#include <vector>

#include "integration/fixture.hpp"

namespace modelgate::test {

using nlohmann::json;

namespace {

const char* kModel = "MiniMax-M2";

json tools() {
    return json::parse(R"([
      {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                       "metric": {"type": "boolean"}}}}},
      {"type": "function", "function": {"name": "set_alarm", "parameters": {"type": "object",
        "properties": {"time": {"type": "string"}, "repeat": {"type": "array"}}}}}
    ])");
}

const std::string kMarkup =
    "<minimax:tool_call>\n<invoke name=\"get_weather\">\n"
    "<parameter name=\"city\">Paris</parameter>\n<parameter name=\"days\">3</parameter>\n"
    "<parameter name=\"metric\">true</parameter>\n</invoke>\n"
    "<invoke name=\"set_alarm\">\n<parameter name=\"time\">0730</parameter>\n"
    "<parameter name=\"repeat\">[\"mon\"]</parameter>\n</invoke>\n</minimax:tool_call>";

json minimax_chunk(const json& delta, const json& finish_reason = nullptr) {
    return {{"id", "05f4b1c0e8d1"},
            {"object", "chat.completion.chunk"},
            {"created", 1764160000},
            {"model", kModel},
            {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}}},
            // MiniMax puts a zero placeholder into every chunk before the real usage.
            {"usage", {{"total_tokens", 0}, {"total_characters", 0}}},
            {"input_sensitive", false},
            {"output_sensitive", false}};
}

json minimax_answer(const std::string& content) {
    return {{"id", "05f4b1c0e8d2"},
            {"object", "chat.completion"},
            {"created", 1764160000},
            {"model", kModel},
            {"choices",
             {{{"index", 0},
               {"message", {{"role", "assistant"}, {"name", "MiniMax AI"}, {"content", content}}},
               {"finish_reason", "stop"}}}},
            {"usage", {{"prompt_tokens", 40}, {"completion_tokens", 25}, {"total_tokens", 65}}},
            {"base_resp", {{"status_code", 0}, {"status_msg", ""}}}};
}

json base_resp_error(int code, const std::string& message) {
    return {{"id", "05f4b1c0e8d3"},
            {"choices", nullptr},
            {"created", 1764160000},
            {"model", kModel},
            {"object", "chat.completion"},
            {"usage", {{"total_tokens", 0}}},
            {"base_resp", {{"status_code", code}, {"status_msg", message}}}};
}

// What a client assembled from a stream's chunks.
struct Assembled {
    std::string content, reasoning;
    std::vector<json> tool_calls;
    std::string finish_reason;
    int usage_chunks = 0;
    json usage;
    std::vector<std::string> events;
};

Assembled assemble(const std::string& body) {
    Assembled a;
    a.events = sse_data(body);
    for (const auto& e : a.events) {
        if (e == "[DONE]") continue;
        json j = json::parse(e, nullptr, false);
        if (!j.is_object() || !j.contains("choices")) continue;
        if (j.contains("usage") && j["usage"].is_object()) {
            ++a.usage_chunks;
            a.usage = j["usage"];
        }
        for (const auto& c : j["choices"]) {
            const json& d = c["delta"];
            if (d.contains("content") && d["content"].is_string())
                a.content += d["content"].get<std::string>();
            if (d.contains("reasoning_content") && d["reasoning_content"].is_string())
                a.reasoning += d["reasoning_content"].get<std::string>();
            if (d.contains("tool_calls"))
                for (const auto& t : d["tool_calls"])
                    a.tool_calls.push_back(t);
            if (c.contains("finish_reason") && c["finish_reason"].is_string())
                a.finish_reason = c["finish_reason"].get<std::string>();
        }
    }
    return a;
}

bool is_call_id(const json& id) {
    static const std::regex re("call_[0-9a-f]{24}");
    return id.is_string() && std::regex_match(id.get<std::string>(), re);
}

}  // namespace

class MiniMaxTest : public GatewayTest {
  protected:
    json provider_settings() override { return {{"adapter", "minimax"}}; }

    void SetUp() override {
        GatewayTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        minimax_binding = gw->bind(provider, kModel);
    }

    static json minimax_body(bool stream = false) {
        json b = {{"model", "acme/MiniMax-M2"},
                  {"messages", {{{"role", "user"}, {"content", "Weather in Paris, and wake me"}}}},
                  {"tools", tools()}};
        if (stream) {
            b["stream"] = true;
            b["stream_options"] = {{"include_usage", true}};
        }
        return b;
    }

    // The stream MiniMax-M2 sends for minimax_body(): reasoning and tool-call
    // markup inside content, tags cut across chunks, text before the markup in
    // the same chunk, MiniMax's closing full-message frame with the usage.
    static void markup_stream(FakeExchange& ex, bool byte_by_byte) {
        std::string wire;
        auto add = [&wire](const json& j) { wire += "data: " + j.dump() + "\n\n"; };
        std::string m = kMarkup;
        add(minimax_chunk({{"role", "assistant"}, {"content", "<thi"}}));
        add(minimax_chunk({{"content", "nk>\nThe user wants weather"}}));
        add(minimax_chunk({{"content", " and an alarm.\n</th"}}));
        add(minimax_chunk({{"content", "ink>\n\nOn it." + m.substr(0, 9)}}));
        add(minimax_chunk({{"content", m.substr(9, 60)}}));
        add(minimax_chunk({{"content", m.substr(69, m.size() - 69 - 6)}}));
        add(minimax_chunk({{"content", m.substr(m.size() - 6)}}));
        add(minimax_chunk({{"content", ""}}, "stop"));
        json closing =
            minimax_answer("<think>The user wants weather and an alarm.</think>On it." + m);
        closing["choices"][0]["finish_reason"] = "stop";
        add(closing);
        wire += "data: [DONE]\n\n";
        ex.start_stream();
        if (byte_by_byte) {
            for (char c : wire)
                ex.chunk(std::string(1, c));
        } else {
            ex.chunk(wire);
        }
        ex.end_stream();
    }

    void expect_markup_stream_decoded(const HttpResponse& r) {
        ASSERT_EQ(r.status, 200) << r.body;
        for (const char* leak : {"<think", "</think", "think>", "minimax:tool_call", "<invoke",
                                 "<parameter", "total_characters"}) {
            EXPECT_EQ(r.body.find(leak), std::string::npos) << leak << " leaked:\n" << r.body;
        }
        auto a = assemble(r.body);
        ASSERT_FALSE(a.events.empty());
        EXPECT_EQ(a.events.back(), "[DONE]");
        EXPECT_EQ(a.reasoning, "The user wants weather and an alarm.");
        EXPECT_EQ(a.content, "On it.");
        ASSERT_EQ(a.tool_calls.size(), 2u) << r.body;
        EXPECT_EQ(a.tool_calls[0]["index"], 0);
        EXPECT_TRUE(is_call_id(a.tool_calls[0]["id"])) << a.tool_calls[0];
        EXPECT_EQ(a.tool_calls[0]["type"], "function");
        EXPECT_EQ(a.tool_calls[0]["function"]["name"], "get_weather");
        EXPECT_EQ(json::parse(a.tool_calls[0]["function"]["arguments"].get<std::string>()),
                  json({{"city", "Paris"}, {"days", 3}, {"metric", true}}));
        EXPECT_EQ(a.tool_calls[1]["index"], 1);
        EXPECT_TRUE(is_call_id(a.tool_calls[1]["id"]));
        EXPECT_NE(a.tool_calls[0]["id"], a.tool_calls[1]["id"]);
        EXPECT_EQ(a.tool_calls[1]["function"]["name"], "set_alarm");
        EXPECT_EQ(json::parse(a.tool_calls[1]["function"]["arguments"].get<std::string>()),
                  json({{"time", "0730"}, {"repeat", {"mon"}}}));  // a string stays a string
        EXPECT_EQ(a.finish_reason, "tool_calls");
        EXPECT_EQ(a.usage_chunks, 1) << "exactly one usage chunk, not MiniMax's placeholders";
        EXPECT_EQ(a.usage["prompt_tokens"], 40);
        EXPECT_EQ(a.usage["completion_tokens"], 25);
    }

    int64_t minimax_binding = 0;
};

TEST_P(MiniMaxTest, WholeAnswerGetsReasoningAndTypedToolCalls) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond_json(200,
                        minimax_answer("<think>\nThe user wants weather and an alarm.\n</think>\n\n"
                                       "On it.\n" +
                                       kMarkup));
    });
    auto r = gw->call("/v1/chat/completions", minimax_body(), key);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find("<think"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("minimax:tool_call"), std::string::npos) << r.body;
    auto j = r.json();
    const json& choice = j["choices"][0];
    EXPECT_EQ(choice["finish_reason"], "tool_calls");
    EXPECT_EQ(choice["message"]["reasoning_content"], "The user wants weather and an alarm.");
    EXPECT_EQ(choice["message"]["content"], "On it.");
    const json& calls = choice["message"]["tool_calls"];
    ASSERT_EQ(calls.size(), 2u) << r.body;
    EXPECT_TRUE(is_call_id(calls[0]["id"])) << calls[0];
    EXPECT_EQ(calls[0]["type"], "function");
    EXPECT_EQ(calls[0]["function"]["name"], "get_weather");
    EXPECT_EQ(json::parse(calls[0]["function"]["arguments"].get<std::string>()),
              json({{"city", "Paris"}, {"days", 3}, {"metric", true}}));
    EXPECT_EQ(calls[1]["function"]["name"], "set_alarm");
    EXPECT_EQ(json::parse(calls[1]["function"]["arguments"].get<std::string>()),
              json({{"time", "0730"}, {"repeat", {"mon"}}}));

    // The upstream got MiniMax's path, the secret as a bearer, the body as sent
    // (no reasoning_split unless the provider option asks for it).
    auto req = upstream->requests().back();
    EXPECT_EQ(req.path, "/v1/chat/completions");
    EXPECT_EQ(req.header("authorization"), "Bearer sk-upstream-acme-0123456789");
    EXPECT_EQ(req.json()["model"], kModel);
    EXPECT_EQ(req.json()["tools"], tools());
    EXPECT_FALSE(req.json().contains("reasoning_split"));

    auto row =
        gw->wait_log([&](const json& l) { return l["request_id"] == r.header("x-request-id"); });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["model"], kModel);
    EXPECT_EQ(row["prompt_tokens"], 40);
    EXPECT_EQ(row["completion_tokens"], 25);
    EXPECT_EQ(row["tokens_estimated"], false);
}

TEST_P(MiniMaxTest, StreamCarriesReasoningAndToolCallsWithoutMarkup) {
    upstream->set_script(
        [](const FakeRequest&, FakeExchange& ex) { markup_stream(ex, /*byte_by_byte=*/false); });
    auto r = gw->call("/v1/chat/completions", minimax_body(true), key);
    expect_markup_stream_decoded(r);
    EXPECT_EQ(upstream->requests().back().json()["stream_options"]["include_usage"], true);
    auto row = gw->wait_log([](const json& l) { return l["status"] == "success"; });
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    EXPECT_EQ(row["stream"], true);
    EXPECT_EQ(row["prompt_tokens"], 40);
    EXPECT_EQ(row["completion_tokens"], 25);
    EXPECT_EQ(row["tokens_estimated"], false);
}

TEST_P(MiniMaxTest, StreamDeliveredOneByteAtATimeDecodesTheSame) {
    upstream->set_script(
        [](const FakeRequest&, FakeExchange& ex) { markup_stream(ex, /*byte_by_byte=*/true); });
    auto r = gw->call("/v1/chat/completions", minimax_body(true), key);
    expect_markup_stream_decoded(r);
}

TEST_P(MiniMaxTest, OverloadedIsARateLimitAnsweredAs429) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond(529, "overloaded", "text/plain", {{"Retry-After", "3"}});
    });
    auto r = gw->call("/v1/chat/completions", minimax_body(), key);
    // 529 is MiniMax's "overloaded": a rate limit, so clients see OpenAI's 429.
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(r.header("retry-after"), "3");
    EXPECT_EQ(r.json()["error"]["type"], "rate_limit_error");
    EXPECT_EQ(r.json()["error"]["code"], "overloaded");
    auto row =
        gw->wait_log([&](const json& l) { return l["request_id"] == r.header("x-request-id"); });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "rate_limited");
    EXPECT_EQ(row["upstream_status_code"], 529);
    EXPECT_EQ(row["downstream_status_code"], 429);
}

TEST_P(MiniMaxTest, BaseRespErrorInA200IsAnOpenAIError) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond_json(200, base_resp_error(1008, "insufficient balance"));
    });
    auto r = gw->call("/v1/chat/completions", minimax_body(), key);
    // A quota error inside a 2xx answer: the client gets OpenAI's 429.
    EXPECT_EQ(r.status, 429) << r.body;
    auto err = r.json()["error"];
    EXPECT_EQ(err["message"], "insufficient balance (1008)");
    EXPECT_EQ(err["type"], "insufficient_quota");
    EXPECT_EQ(err["code"], "1008");
    auto row =
        gw->wait_log([&](const json& l) { return l["request_id"] == r.header("x-request-id"); });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "rate_limited");
    EXPECT_EQ(row["upstream_status_code"], 200);
    EXPECT_EQ(row["downstream_status_code"], 429);
    EXPECT_EQ(row["error"], "insufficient balance (1008)");
}

TEST_P(MiniMaxTest, BaseRespErrorInAStreamEndsItWithAnErrorEvent) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.start_stream();
        ex.sse(minimax_chunk({{"role", "assistant"}, {"content", "Hel"}}));
        ex.sse(base_resp_error(1002, "rate limit exceeded(RPM)"));
        ex.done();
        ex.end_stream();
    });
    auto r = gw->call("/v1/chat/completions", minimax_body(true), key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    for (const auto& e : events)
        EXPECT_NE(e, "[DONE]");
    auto last = json::parse(events.back(), nullptr, false);
    ASSERT_TRUE(last.is_object() && last.contains("error")) << r.body;
    EXPECT_EQ(last["error"]["message"], "rate limit exceeded(RPM) (1002)");
    EXPECT_EQ(last["error"]["type"], "rate_limit_error");
    EXPECT_EQ(last["error"]["code"], "1002");
    EXPECT_EQ(assemble(r.body).content, "Hel");
    auto row =
        gw->wait_log([](const json& l) { return l["status"] != "pending" && l["stream"] == true; });
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    EXPECT_EQ(row["status"], "error");
    EXPECT_EQ(row["error"], "rate limit exceeded(RPM) (1002)");
}

TEST_P(MiniMaxTest, ReasoningSplitOptionAsksForSeparateReasoning) {
    auto split =
        gw->add_provider("mmsplit", upstream->base_url(),
                         {{"adapter", "minimax"}, {"options", {{"reasoning_split", true}}}});
    gw->bind(split, kModel);
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        json answer = minimax_answer("Hello!");
        answer["choices"][0]["message"]["reasoning_details"] = {
            {{"type", "reasoning.text"}, {"id", "reasoning-text-1"}, {"text", "A greeting."}}};
        ex.respond_json(200, answer);
    });
    auto body = minimax_body();
    body["model"] = "mmsplit/MiniMax-M2";
    auto r = gw->call("/v1/chat/completions", body, key);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(upstream->requests().back().json()["reasoning_split"], true);
    auto message = r.json()["choices"][0]["message"];
    EXPECT_EQ(message["content"], "Hello!");
    EXPECT_EQ(message["reasoning_content"], "A greeting.");
}

TEST_P(MiniMaxTest, AdapterIsLoadedAndOffersNoModelList) {
    auto plugins = gw->admin("GET", "/admin/api/plugins");
    ASSERT_EQ(plugins.status, 200) << plugins.body;
    EXPECT_NE(plugins.body.find("\"minimax\""), std::string::npos) << plugins.body;
    // MiniMax has no /v1/models and no OpenAI-shaped embeddings.
    auto e =
        gw->call("/v1/embeddings", {{"model", "acme/text-embedding-3-small"}, {"input", "a"}}, key);
    EXPECT_EQ(e.status, 400) << e.body;
    EXPECT_EQ(upstream->request_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, MiniMaxTest, ::testing::Values("sqlite"),
                         modelgate::test::backend_name);

}  // namespace modelgate::test

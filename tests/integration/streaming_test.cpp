// Streaming: the SSE contract, the pending -> final log lifecycle, and what
// happens when either side goes away or stalls.
#include <thread>

#include "integration/fixture.hpp"

namespace modelgate::test {

using nlohmann::json;

class StreamingTest : public GatewayTest {
  protected:
    nlohmann::json provider_settings() override {
        return {{"first_byte_timeout_ms", 1000}, {"idle_timeout_ms", 1000}};
    }
};

TEST_P(StreamingTest, StreamRoundTripEndsWithDoneAndLogsPendingThenSuccess) {
    // Hold the upstream mid-stream so the pending row can be observed.
    upstream->set_script([this](const FakeRequest& req, FakeExchange& ex) {
        std::string model = req.json()["model"];
        ex.start_stream();
        ex.sse(FakeUpstream::chunk(model, "Hello"));
        upstream->wait_release();
        ex.sse(FakeUpstream::chunk(model, " world"));
        ex.sse(FakeUpstream::chunk(model, "", "stop"));
        ex.sse(FakeUpstream::usage_chunk(model, 11, 2));
        ex.done();
        ex.end_stream();
    });
    HttpResponse r;
    std::thread client([&] {
        r = http_stream(gw->url("/v1/chat/completions"), chat_body(true).dump(), auth(key),
                        [](const std::string&) { return true; });
    });
    auto pending = gw->wait_log([](const json& l) { return l["status"] == "pending"; });
    ASSERT_FALSE(pending.is_null()) << "no pending row while the stream was open";
    EXPECT_EQ(pending["stream"], true);
    upstream->release();
    client.join();

    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("content-type").rfind("text/event-stream", 0), 0u);
    auto events = sse_data(r.body);
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events.back(), "[DONE]");
    std::string text;
    for (const auto& e : events) {
        if (e == "[DONE]") continue;
        auto j = json::parse(e);
        EXPECT_EQ(j["object"], "chat.completion.chunk");
        EXPECT_FALSE(j["choices"].empty())
            << "usage chunk leaked to a client that did not ask: " << e;
        if (j["choices"][0]["delta"].contains("content"))
            text += j["choices"][0]["delta"]["content"].get<std::string>();
    }
    EXPECT_EQ(text, "Hello world");
    // Usage was requested upstream even though the client did not ask.
    EXPECT_EQ(upstream->requests().back().json()["stream_options"]["include_usage"], true);

    auto done = gw->wait_log([&](const json& l) {
        return l["request_id"] == pending["request_id"] && l["status"] == "success";
    });
    ASSERT_FALSE(done.is_null()) << gw->logs().dump();
    EXPECT_EQ(done["prompt_tokens"], 11);
    EXPECT_EQ(done["completion_tokens"], 2);
    EXPECT_EQ(done["tokens_estimated"], false);
    EXPECT_TRUE(done["ttft_ms"].is_number());
    EXPECT_EQ(gw->logs().size(), 1u) << "the pending row must be updated, not duplicated";
}

TEST_P(StreamingTest, IncludeUsageIsHonoured) {
    auto body = chat_body(true);
    body["stream_options"] = {{"include_usage", true}};
    auto r = gw->call("/v1/chat/completions", body, key);
    ASSERT_EQ(r.status, 200);
    auto events = sse_data(r.body);
    ASSERT_GE(events.size(), 2u);
    EXPECT_EQ(events.back(), "[DONE]");
    auto usage = json::parse(events[events.size() - 2]);
    EXPECT_TRUE(usage["choices"].empty());
    EXPECT_EQ(usage["usage"]["prompt_tokens"], 9);
    EXPECT_EQ(usage["usage"]["total_tokens"], 12);
}

TEST_P(StreamingTest, UpstreamWithoutUsageGetsAnEstimateMarkedAsSuch) {
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        std::string model = req.json()["model"];
        ex.start_stream();
        ex.sse(FakeUpstream::chunk(model, "你好，世界"));
        ex.sse(FakeUpstream::chunk(model, "", "stop"));
        ex.done();
        ex.end_stream();
    });
    auto body = chat_body(true);
    body["stream_options"] = {{"include_usage", true}};
    auto r = gw->call("/v1/chat/completions", body, key);
    ASSERT_EQ(r.status, 200);
    auto events = sse_data(r.body);
    auto usage = json::parse(events[events.size() - 2]);
    EXPECT_EQ(usage["usage"]["estimated"], true);
    EXPECT_GE(usage["usage"]["completion_tokens"].get<int>(),
              5);  // CJK: about a token per character
    auto row = gw->wait_log([](const json& l) { return l["status"] == "success"; });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["tokens_estimated"], true);
    EXPECT_GE(row["completion_tokens"].get<int>(), 5);
}

TEST_P(StreamingTest, ClientDisconnectCancelsUpstreamAndLogsCancelled) {
    std::atomic<bool> upstream_saw_close{false};
    upstream->set_script([&](const FakeRequest& req, FakeExchange& ex) {
        std::string model = req.json()["model"];
        ex.start_stream();
        ex.sse(FakeUpstream::chunk(model, "Once upon a time"));
        // Keep the stream open; the gateway must close this connection when its
        // client goes away.
        upstream_saw_close = ex.wait_peer_closed(std::chrono::seconds(5));
    });
    auto r = http_stream(
        gw->url("/v1/chat/completions"), chat_body(true).dump(), auth(key),
        [](const std::string& chunk) { return chunk.find("Once upon") == std::string::npos; });
    EXPECT_FALSE(r.error.empty());  // we hung up
    auto row = gw->wait_log([](const json& l) { return l["status"] == "cancelled"; });
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    EXPECT_EQ(row["stream"], true);
    EXPECT_EQ(row["tokens_estimated"], true);
    EXPECT_GE(row["completion_tokens"].get<int>(), 1);
    for (int i = 0; i < 100 && !upstream_saw_close; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(upstream_saw_close) << "the upstream connection stayed open after the client left";
    // The slot came back.
    EXPECT_TRUE(eventually([&] {
        return gw->app().config_cache().current()->providers.at("acme")->limiter->in_use() == 0;
    }));
}

TEST_P(StreamingTest, UpstreamResetMidStreamIsAnErrorEventNotACleanEnd) {
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        std::string model = req.json()["model"];
        ex.start_stream();
        ex.sse(FakeUpstream::chunk(model, "partial"));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ex.reset();
    });
    auto r = gw->call("/v1/chat/completions", chat_body(true), key);
    ASSERT_EQ(r.status, 200);
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    EXPECT_NE(events.back(), "[DONE]");
    for (const auto& e : events)
        EXPECT_NE(e, "[DONE]");
    auto last = json::parse(events.back());
    ASSERT_TRUE(last.contains("error")) << r.body;
    EXPECT_EQ(last["error"]["type"], "upstream_error");
    auto row = gw->wait_log([](const json& l) { return l["status"] == "error"; });
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    EXPECT_EQ(row["stream"], true);
    EXPECT_FALSE(row["error"].is_null());
}

TEST_P(StreamingTest, UpstreamThatEndsWithoutFinishingIsAnError) {
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        std::string model = req.json()["model"];
        ex.start_stream();
        ex.sse(FakeUpstream::chunk(model, "cut"));
        ex.end_stream();  // clean HTTP end, but no finish_reason and no [DONE]
    });
    auto r = gw->call("/v1/chat/completions", chat_body(true), key);
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    auto last = json::parse(events.back(), nullptr, false);
    ASSERT_TRUE(last.is_object() && last.contains("error")) << r.body;
    EXPECT_EQ(last["error"]["code"], "stream_truncated");
}

TEST_P(StreamingTest, UpstreamThatHangsTimesOut) {
    upstream->set_script([this](const FakeRequest&, FakeExchange&) {
        upstream->wait_release(std::chrono::seconds(5));
    });
    auto r = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(r.status, 504);
    EXPECT_EQ(r.json()["error"]["type"], "timeout_error");
    EXPECT_EQ(r.json()["error"]["code"], "upstream_timeout");
    auto row = gw->wait_log([](const json& l) { return l["status"] == "timeout"; });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["downstream_status_code"], 504);
    upstream->release();
}

TEST_P(StreamingTest, StreamThatStallsMidwayTimesOutWithAnErrorEvent) {
    upstream->set_script([this](const FakeRequest& req, FakeExchange& ex) {
        ex.start_stream();
        ex.sse(FakeUpstream::chunk(req.json()["model"], "slow"));
        upstream->wait_release(std::chrono::seconds(5));
    });
    auto r = gw->call("/v1/chat/completions", chat_body(true), key);
    ASSERT_EQ(r.status, 200);
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty());
    auto last = json::parse(events.back(), nullptr, false);
    ASSERT_TRUE(last.is_object() && last.contains("error")) << r.body;
    EXPECT_EQ(last["error"]["code"], "upstream_timeout");
    auto row = gw->wait_log([](const json& l) { return l["status"] == "timeout"; });
    ASSERT_FALSE(row.is_null());
    upstream->release();
}

TEST_P(StreamingTest, UpstreamErrorStatusOnAStreamIsAJsonError) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond_json(
            400, {{"error", {{"message", "bad temperature"}, {"type", "invalid_request_error"}}}});
    });
    auto r = gw->call("/v1/chat/completions", chat_body(true), key);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()["error"]["message"], "bad temperature");
    auto row = gw->wait_log([](const json& l) { return l["status"] == "error"; });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["upstream_status_code"], 400);
    EXPECT_EQ(gw->logs().size(), 1u);
}

TEST_P(StreamingTest, SlowClientPausesTheUpstreamInsteadOfBuffering) {
    // 8 MB of stream; the client reads slowly at first. The gateway must not
    // balloon: the stream arrives whole and in order.
    const int chunks = 2000;
    const std::string piece(4000, 'z');
    upstream->set_script([&](const FakeRequest& req, FakeExchange& ex) {
        std::string model = req.json()["model"];
        ex.start_stream();
        for (int i = 0; i < chunks; ++i) {
            if (!ex.sse(FakeUpstream::chunk(model, piece))) return;
        }
        ex.sse(FakeUpstream::chunk(model, "", "stop"));
        ex.done();
        ex.end_stream();
    });
    std::size_t received = 0;
    int calls = 0;
    auto r = http_stream(gw->url("/v1/chat/completions"), chat_body(true).dump(), auth(key),
                         [&](const std::string& c) {
                             received += c.size();
                             if (++calls < 20)
                                 std::this_thread::sleep_for(std::chrono::milliseconds(20));
                             return true;
                         });
    ASSERT_EQ(r.status, 200);
    auto events = sse_data(r.body);
    EXPECT_EQ(events.back(), "[DONE]");
    EXPECT_EQ(static_cast<int>(events.size()), chunks + 2);
}

MODELGATE_BACKENDS(StreamingTest);

}  // namespace modelgate::test

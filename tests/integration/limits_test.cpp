// The per-provider concurrency limit: never more than N calls upstream, FIFO
// waiting, a clear 429 when the wait is too long, and slots always returned.
#include <algorithm>
#include <thread>

#include "integration/fixture.hpp"

namespace modelgate::test {

using nlohmann::json;

class LimitsTest : public GatewayTest {
  protected:
    nlohmann::json provider_settings() override {
        return {{"max_concurrency", 2}, {"queue_timeout_ms", 20000}};
    }
};

TEST_P(LimitsTest, LimitOfNHoldsUnder4NParallelCalls) {
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        FakeUpstream::openai_script(req, ex);
    });
    const int n = 2, calls = 4 * n;
    std::vector<std::thread> threads;
    std::vector<long> statuses(calls, 0);
    for (int i = 0; i < calls; ++i) {
        threads.emplace_back([&, i] {
            bool stream = i % 2 == 1;
            statuses[i] = stream
                              ? http_stream(gw->url("/v1/chat/completions"), chat_body(true).dump(),
                                            auth(key), [](const std::string&) { return true; })
                                    .status
                              : gw->call("/v1/chat/completions", chat_body(), key).status;
        });
    }
    for (auto& t : threads)
        t.join();
    for (int i = 0; i < calls; ++i)
        EXPECT_EQ(statuses[i], 200) << "call " << i;
    EXPECT_EQ(upstream->request_count(), static_cast<std::size_t>(calls));
    EXPECT_LE(upstream->max_in_flight(), n) << "the upstream saw more than the limit";
    EXPECT_EQ(upstream->max_in_flight(), n) << "the limit was not used fully";
    auto& limiter = *gw->app().config_cache().current()->providers.at("acme")->limiter;
    EXPECT_TRUE(eventually([&] { return limiter.in_use() == 0; })) << "a slot leaked";
    EXPECT_TRUE(eventually([&] { return limiter.waiting() == 0; }));
    // Every call was logged once, with its wait for a slot (streams are written
    // "pending" first and finalized just after the client's last byte).
    EXPECT_TRUE(eventually([&] {
        auto logs = gw->logs();
        return logs.size() >= static_cast<std::size_t>(calls) &&
               std::none_of(logs.begin(), logs.end(),
                            [](const json& l) { return l["status"] == "pending"; });
    })) << gw->logs().dump();
    double max_queue = 0;
    for (const auto& row : gw->logs()) {
        EXPECT_EQ(row["status"], "success");
        max_queue = std::max(max_queue, row["queue_ms"].get<double>());
    }
    EXPECT_GT(max_queue, 100.0) << "with 8 calls through 2 slots someone must have waited";
}

class QueueTimeoutTest : public GatewayTest {
  protected:
    nlohmann::json provider_settings() override {
        return {{"max_concurrency", 1}, {"queue_timeout_ms", 200}};
    }
};

TEST_P(QueueTimeoutTest, WaitingTooLongIs429InOpenAIShape) {
    upstream->set_script([this](const FakeRequest& req, FakeExchange& ex) {
        upstream->wait_release(std::chrono::seconds(5));
        FakeUpstream::openai_script(req, ex);
    });
    HttpResponse first;
    std::thread holder([&] { first = gw->call("/v1/chat/completions", chat_body(), key); });
    // Wait until the first call holds the only slot.
    for (int i = 0; i < 200 && upstream->in_flight() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(upstream->in_flight(), 1);
    auto second = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(second.status, 429);
    EXPECT_EQ(second.json()["error"]["type"], "rate_limit_error");
    EXPECT_EQ(second.json()["error"]["code"], "concurrency_limit_reached");
    EXPECT_FALSE(second.header("retry-after").empty());
    upstream->release();
    holder.join();
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(upstream->request_count(), 1u);
    auto row = gw->wait_log([](const json& l) { return l["status"] == "local_rate_limited"; });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["downstream_status_code"], 429);
    EXPECT_TRUE(row["upstream_status_code"].is_null()) << "the upstream was never called";
    // The slot is free again.
    upstream->set_script(&FakeUpstream::openai_script);
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
}

TEST_P(QueueTimeoutTest, ClientLeavingTheQueueFreesItsPlace) {
    upstream->set_script([this](const FakeRequest& req, FakeExchange& ex) {
        upstream->wait_release(std::chrono::seconds(5));
        FakeUpstream::openai_script(req, ex);
    });
    std::thread holder([&] { gw->call("/v1/chat/completions", chat_body(), key); });
    for (int i = 0; i < 200 && upstream->in_flight() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    // A queued caller gives up after 50 ms.
    auto gone =
        http_request("POST", gw->url("/v1/chat/completions"), chat_body().dump(), auth(key), 50);
    EXPECT_FALSE(gone.error.empty());
    auto row = gw->wait_log([](const json& l) { return l["status"] == "cancelled"; });
    ASSERT_FALSE(row.is_null()) << gw->logs().dump();
    upstream->release();
    holder.join();
    EXPECT_EQ(upstream->request_count(), 1u);
    EXPECT_TRUE(eventually([&] {
        return gw->app().config_cache().current()->providers.at("acme")->limiter->waiting() == 0;
    }));
}

MODELGATE_BACKENDS(LimitsTest);
MODELGATE_BACKENDS(QueueTimeoutTest);

}  // namespace modelgate::test

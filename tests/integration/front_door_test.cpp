// The front door as a hostile client tries it: bodies that are too large or
// come without credentials, framing that is ambiguous, pipelined and HTTP/1.0
// requests, Expect: 100-continue, JSON nested too deeply, and a reactor that
// must keep answering /healthz throughout. Raw sockets, so every byte is the
// test's choice.
#include <soci/soci.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "integration/fixture.hpp"
#include "support/raw_client.hpp"

namespace modelgate::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::string post_head(const std::string& path, std::size_t length, const std::string& extra = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + extra +
           "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

std::string nested(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

// Polls /healthz on fresh connections until stopped; remembers the slowest.
class HealthProbe {
  public:
    // Returns once the first probe has answered, so the attack runs under watch.
    explicit HealthProbe(uint16_t port) : port_(port) {
        thread_ = std::thread([this] {
            while (!stop_.load()) {
                auto t = timed_get(port_, "/healthz", 10s);
                if (t.status != 200) failures_.fetch_add(1);
                double seen = worst_.load();
                while (t.ms > seen && !worst_.compare_exchange_weak(seen, t.ms)) {
                }
                probes_.fetch_add(1);
                std::this_thread::sleep_for(20ms);
            }
        });
        for (int i = 0; i < 500 && probes_.load() == 0; ++i)
            std::this_thread::sleep_for(10ms);
    }
    ~HealthProbe() { stop(); }
    void stop() {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
    }
    double worst_ms() const { return worst_.load(); }
    int failures() const { return failures_.load(); }
    int probes() const { return probes_.load(); }

  private:
    uint16_t port_;
    std::atomic<bool> stop_{false};
    std::atomic<double> worst_{0};
    std::atomic<int> failures_{0}, probes_{0};
    std::thread thread_;
};

// Health answers stay fast while the front door is attacked. The bound is
// loose (sanitizer builds on two busy cores); the breaks it guards against
// stalled /healthz for seconds to minutes.
constexpr double kResponsiveMs = 1000;

class FrontDoorTest : public GatewayTest {
  protected:
    uint16_t port() { return gw->app().port(); }
    std::string auth_header() const { return "Authorization: Bearer " + key + "\r\n"; }
};

TEST_P(FrontDoorTest, ALargeBodyWithoutAKeyIsRefusedBeforeItIsRead) {
    HealthProbe probe(port());
    const std::size_t size = 30u << 20;
    for (const std::string path : {"/v1/chat/completions", "/nope", "/admin/api/auth/login"}) {
        RawClient c(port());
        ASSERT_TRUE(c.send(post_head(path, size)));
        // Push the body in pieces, as a slow client would, until refused.
        std::string piece(64 * 1024, 'a');
        std::size_t sent = 0;
        while (sent < size && c.send(piece)) {
            sent += piece.size();
            if (!c.pending().empty() || !c.read_some(0ms).empty()) break;
        }
        auto r = c.read_responses(1, 5s);
        ASSERT_EQ(r.size(), 1u) << path;
        EXPECT_EQ(r[0].status, path == "/nope"                   ? 404
                               : path == "/admin/api/auth/login" ? 413
                                                                 : 401)
            << path << " " << r[0].body;
        EXPECT_EQ(r[0].header("connection"), "close");
        EXPECT_LT(sent, size / 2) << path << ": the body was read before it was refused";
        auto err = json::parse(r[0].body, nullptr, false);
        EXPECT_TRUE(err["error"]["message"].is_string()) << r[0].body;
        EXPECT_TRUE(c.closed_by_server(5s));
    }
    probe.stop();
    EXPECT_GT(probe.probes(), 0);
    EXPECT_EQ(probe.failures(), 0);
    EXPECT_LT(probe.worst_ms(), kResponsiveMs);
}

TEST_P(FrontDoorTest, AChunkedBodyIsRefusedAsSoonAsItPassesTheLimit) {
    RawClient c(port());
    ASSERT_TRUE(
        c.send("POST /admin/api/auth/login HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
               "Content-Type: application/json\r\n\r\n"));
    std::string chunk = "4000\r\n" + std::string(0x4000, 'a') + "\r\n";  // 16 KiB
    int sent = 0;
    while (sent < 200 && c.send(chunk)) {
        ++sent;
        if (!c.read_some(20ms).empty()) break;
    }
    auto r = c.read_responses(1, 5s);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 413) << r[0].body;
    EXPECT_EQ(json::parse(r[0].body)["error"]["code"], "request_too_large");
    EXPECT_LT(sent, 20) << "an anonymous chunked body is refused past 64 KiB";
}

TEST_P(FrontDoorTest, AKeyMayNotSendMoreThanTheLimitEither) {
    RawClient c(port());
    ASSERT_TRUE(c.send(post_head("/v1/chat/completions", (16u << 20) + 1, auth_header())));
    auto r = c.read_responses(1, 5s);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 413);
    EXPECT_NE(r[0].body.find("the limit is 16777216 bytes"), std::string::npos) << r[0].body;
}

TEST_P(FrontDoorTest, PipelinedRequestsAreAnsweredInOrder) {
    std::string chat = chat_body().dump();
    std::string admin_get = "GET /admin/api/auth/check HTTP/1.1\r\nHost: t\r\n\r\n";  // a worker
    RawClient c(port());
    ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" + admin_get +
                       post_head("/v1/chat/completions", chat.size(), auth_header()) + chat +
                       "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n" +
                       "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    auto r = c.read_responses(5, 10s);
    ASSERT_EQ(r.size(), 5u);
    EXPECT_EQ(r[0].status, 200);
    EXPECT_TRUE(json::parse(r[0].body).contains("database"));
    EXPECT_EQ(r[1].status, 200);
    EXPECT_EQ(json::parse(r[1].body)["authenticated"], false);
    EXPECT_EQ(r[2].status, 200);
    EXPECT_EQ(json::parse(r[2].body)["choices"][0]["message"]["content"], "Hello world");
    EXPECT_EQ(r[3].status, 404);
    EXPECT_EQ(r[4].status, 200);
    EXPECT_EQ(r[4].header("connection"), "close");
    EXPECT_TRUE(c.closed_by_server(2s));
}

TEST_P(FrontDoorTest, ConnectionCloseAndHttp10CloseRightAfterTheAnswer) {
    for (const std::string req : {"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                                  "GET /healthz HTTP/1.0\r\n\r\n"}) {
        RawClient c(port());
        auto t0 = std::chrono::steady_clock::now();
        ASSERT_TRUE(c.send(req));
        auto r = c.read_until_close(10s);
        EXPECT_EQ(r.status, 200) << req;
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << req;
    }
    // HTTP/1.0 with keep-alive asked for stays open.
    RawClient c(port());
    ASSERT_TRUE(c.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.read_responses(1, 5s);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].header("connection"), "keep-alive");
    EXPECT_FALSE(c.closed_by_server(300ms));
}

TEST_P(FrontDoorTest, AnHttp10StreamIsNotChunkedAndEndsWithTheConnection) {
    std::string body = chat_body(true).dump();
    RawClient c(port());
    ASSERT_TRUE(c.send("POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\n" +
                       auth_header() + "Content-Length: " + std::to_string(body.size()) +
                       "\r\n\r\n" + body));
    auto r = c.read_until_close(10s);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("transfer-encoding"), "");
    EXPECT_EQ(r.header("connection"), "close");
    auto events = sse_data(r.body);
    ASSERT_FALSE(events.empty()) << r.body;
    EXPECT_EQ(events.back(), "[DONE]");
}

TEST_P(FrontDoorTest, ExpectContinueIsAnsweredOnlyForCallersWhoMaySend) {
    std::string body = chat_body().dump();
    RawClient ok(port());
    ASSERT_TRUE(ok.send(post_head("/v1/chat/completions", body.size(),
                                  auth_header() + "Expect: 100-continue\r\n")));
    auto interim = ok.read_responses(1, 2s);
    ASSERT_EQ(interim.size(), 1u);
    EXPECT_EQ(interim[0].status, 100);
    ASSERT_TRUE(ok.send(body));
    auto final_answer = ok.read_responses(1, 5s);
    ASSERT_EQ(final_answer.size(), 1u);
    EXPECT_EQ(final_answer[0].status, 200);

    RawClient no_key(port());
    ASSERT_TRUE(
        no_key.send(post_head("/v1/chat/completions", body.size(), "Expect: 100-continue\r\n")));
    auto refused = no_key.read_responses(1, 2s);
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].status, 401);
    EXPECT_TRUE(no_key.closed_by_server(3s));
}

TEST_P(FrontDoorTest, BadFramingGetsAnOpenAIErrorAndAClosedConnection) {
    struct Case {
        std::string request;
        int status;
    };
    const std::string h = "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\n" + auth_header();
    const std::vector<Case> cases = {
        {h + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400},
        {h + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
        {h + "Content-Length: -1\r\n\r\n", 400},
        {h + "Content-Length: 99999999999999999999\r\n\r\n", 413},
        {h + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", 413},
        {h + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/3.0\r\nHost: t\r\n\r\n", 505},
        {"GET /\x01 HTTP/1.1\r\nHost: t\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: t\r\nX: " + std::string(40000, 'a') + "\r\n\r\n", 431},
    };
    for (const auto& c : cases) {
        RawClient client(port());
        ASSERT_TRUE(client.send(c.request));
        auto r = client.read_responses(1, 5s);
        ASSERT_EQ(r.size(), 1u) << c.request.substr(0, 120);
        EXPECT_EQ(r[0].status, c.status) << c.request.substr(0, 120);
        auto err = json::parse(r[0].body, nullptr, false);
        EXPECT_TRUE(err["error"]["message"].is_string()) << r[0].body;
        EXPECT_TRUE(err["error"]["type"].is_string()) << r[0].body;
        EXPECT_EQ(r[0].header("content-type"), "application/json");
        EXPECT_TRUE(client.closed_by_server(3s)) << c.request.substr(0, 120);
    }
    // An odd Content-Type is not a framing problem: the JSON is read as JSON.
    std::string body = chat_body().dump();
    auto odd = http_request("POST", gw->url("/v1/chat/completions"), body,
                            {{"Authorization", "Bearer " + key}, {"Content-Type", ";;;"}});
    EXPECT_EQ(odd.status, 200) << odd.body;
    auto not_json = http_request("POST", gw->url("/v1/chat/completions"), "a=b",
                                 {{"Authorization", "Bearer " + key},
                                  {"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(not_json.status, 400);
    EXPECT_EQ(not_json.json()["error"]["code"], "invalid_json");
}

TEST_P(FrontDoorTest, DeeplyNestedJsonIsRefusedOnEveryPath) {
    const std::string deep = nested(100000);
    auto chat_with = [&](const std::string& fragment_key, const std::string& value) {
        std::string body = R"({"model":"acme/gpt-4o-mini","messages":[{"role":"user","content":)" +
                           (fragment_key == "content" ? value : std::string("\"hi\"")) + "}]" +
                           (fragment_key == "x" ? ",\"x\":" + value : std::string()) + "}";
        return http_request("POST", gw->url("/v1/chat/completions"), body, auth(key));
    };
    for (const char* where : {"x", "content"}) {
        auto r = chat_with(where, deep);
        EXPECT_EQ(r.status, 400) << where;
        EXPECT_EQ(r.json()["error"]["code"], "json_too_deep") << where << " " << r.body;
    }
    // 128 levels are fine (not every deep document is an attack).
    EXPECT_EQ(chat_with("x", nested(100)).status, 200);
    auto embed =
        http_request("POST", gw->url("/v1/embeddings"),
                     R"({"model":"acme/text-embedding-3-small","input":)" + deep + "}", auth(key));
    EXPECT_EQ(embed.status, 400);
    EXPECT_EQ(embed.json()["error"]["code"], "json_too_deep");
    // The admin API: a raw body, since the helper would build it with nlohmann.
    auto put = http_request("PUT", gw->url("/admin/api/providers/" + std::to_string(provider)),
                            R"({"options":{"a":)" + deep + "}}",
                            {{"Content-Type", "application/json"}, {"Cookie", gw->cookie()}});
    EXPECT_EQ(put.status, 400) << put.body;
    EXPECT_EQ(put.json()["error"]["code"], "json_too_deep");
    // An upstream that answers with deep JSON gets a 502, whole or streamed.
    upstream->set_script([&](const FakeRequest& req, FakeExchange& ex) {
        if (req.json().value("stream", false)) {
            ex.start_stream();
            ex.chunk("data: {\"choices\":" + deep + "}\n\n");
            ex.end_stream();
            return;
        }
        ex.respond(200, R"({"id":"x","usage":)" + deep + "}");
    });
    auto whole = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(whole.status, 502) << whole.body;
    auto streamed =
        http_request("POST", gw->url("/v1/chat/completions"), chat_body(true).dump(), auth(key));
    EXPECT_EQ(streamed.status, 200);
    auto events = sse_data(streamed.body);
    ASSERT_FALSE(events.empty());
    EXPECT_TRUE(json::parse(events.back(), nullptr, false).contains("error")) << streamed.body;
    EXPECT_EQ(http_request("GET", gw->url("/healthz")).status, 200) << "the gateway survived";
}

class ManyMessagesTest : public FrontDoorTest {
  protected:
    void tweak(core::Config& c) override {
        c.max_messages = 500000;
        c.max_body_bytes = 32u << 20;
    }
    json provider_settings() override { return {{"merge_consecutive_messages", true}}; }
};

TEST_P(ManyMessagesTest, MergingHundredsOfThousandsOfMessagesLeavesTheReactorFree) {
    std::string body = R"({"model":"acme/gpt-4o-mini","messages":[)";
    for (int i = 0; i < 400000; ++i) {
        if (i > 0) body += ',';
        body += R"({"role":"user","content":"message number )" + std::to_string(i) + "\"}";
    }
    body += "]}";
    ASSERT_GT(body.size(), 14u << 20);
    HealthProbe probe(port());
    auto r = http_request("POST", gw->url("/v1/chat/completions"), body, auth(key), 120000);
    probe.stop();
    EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
    auto sent = upstream->requests().back().json()["messages"];
    ASSERT_EQ(sent.size(), 1u) << "400,000 user messages in a row become one";
    EXPECT_EQ(probe.failures(), 0);
    EXPECT_LT(probe.worst_ms(), kResponsiveMs);
}

TEST_P(FrontDoorTest, TooManyMessagesAreRefused) {
    json body = chat_body();
    body["messages"] = json::array();
    for (int i = 0; i < 10001; ++i)
        body["messages"].push_back({{"role", "user"}, {"content", "x"}});
    auto r = gw->call("/v1/chat/completions", body, key);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()["error"]["code"], "too_many_messages");
}

class SmallServerTest : public FrontDoorTest {
  protected:
    void tweak(core::Config& c) override {
        c.max_connections = 16;
        c.max_body_bytes = 1u << 20;
        c.max_buffered_bytes = 1u << 20;
        c.http_header_timeout_ms = 500;
        c.http_idle_timeout_ms = 1500;
    }
};

TEST_P(SmallServerTest, BodiesHeldAcrossConnectionsAreBounded) {
    RawClient first(port());
    ASSERT_TRUE(first.send(post_head("/v1/chat/completions", 800 * 1024, auth_header())));
    ASSERT_TRUE(first.send(std::string(1024, ' ')));
    std::this_thread::sleep_for(200ms);
    RawClient second(port());
    ASSERT_TRUE(second.send(post_head("/v1/chat/completions", 800 * 1024, auth_header())));
    auto r = second.read_responses(1, 5s);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 503);
    EXPECT_EQ(json::parse(r[0].body)["error"]["code"], "server_busy");
}

TEST_P(SmallServerTest, ConnectionsOverTheCapAreRefused) {
    std::vector<std::unique_ptr<RawClient>> open;
    for (int i = 0; i < 16; ++i)
        open.push_back(std::make_unique<RawClient>(port()));
    std::this_thread::sleep_for(200ms);
    RawClient extra(port());
    auto r = extra.read_responses(1, 3s);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 503);
    EXPECT_EQ(json::parse(r[0].body)["error"]["code"], "too_many_connections");
    open.clear();
    EXPECT_TRUE(eventually([&] { return timed_get(port(), "/healthz").status == 200; }, 5s));
}

TEST_P(SmallServerTest, SlowHeadsGet408AndIdleConnectionsAreClosed) {
    RawClient slow(port());
    ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\nHost"));
    auto r = slow.read_responses(1, 5s);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 408);
    EXPECT_TRUE(slow.closed_by_server(4s));

    RawClient idle(port());
    ASSERT_TRUE(idle.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_EQ(idle.read_responses(1, 2s).size(), 1u);
    EXPECT_TRUE(idle.closed_by_server(5s)) << "an idle keep-alive connection is closed";
    // Both sockets are still open on the client's side; the server let go of
    // them (only the connection asking for the metrics remains).
    EXPECT_TRUE(eventually(
        [&] {
            return http_request("GET", gw->url("/metrics"))
                       .body.find("modelgate_http_connections 1\n") != std::string::npos;
        },
        5s));
}

MODELGATE_BACKENDS(FrontDoorTest);
INSTANTIATE_TEST_SUITE_P(Sqlite, ManyMessagesTest, ::testing::Values("sqlite"), backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, SmallServerTest, ::testing::Values("sqlite"), backend_name);

}  // namespace
}  // namespace modelgate::test

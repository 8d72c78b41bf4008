// The proxy's request/response contract against a real server, database and
// an upstream speaking OpenAI's wire format.
#include "integration/fixture.hpp"

namespace modelgate::test {

using nlohmann::json;

class ProxyTest : public GatewayTest {};

TEST_P(ProxyTest, NonStreamingRoundTripIsLoggedWithUsage) {
    auto r = gw->call("/v1/chat/completions", chat_body(), key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello world");
    EXPECT_FALSE(r.header("x-request-id").empty());

    // The upstream got the upstream model name, the provider's secret, our UA.
    auto reqs = upstream->requests();
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].path, "/v1/chat/completions");
    EXPECT_EQ(reqs[0].json()["model"], "gpt-4o-mini");
    EXPECT_EQ(reqs[0].header("authorization"), "Bearer sk-upstream-acme-0123456789");
    EXPECT_EQ(reqs[0].header("user-agent").rfind("modelgate/", 0), 0u);

    auto row =
        gw->wait_log([&](const json& l) { return l["request_id"] == r.header("x-request-id"); });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["stream"], false);
    EXPECT_EQ(row["api_key_name"], "alice");
    EXPECT_EQ(row["provider_name"], "acme");
    EXPECT_EQ(row["model"], "gpt-4o-mini");
    EXPECT_EQ(row["requested_model"], "acme/gpt-4o-mini");
    EXPECT_EQ(row["upstream_status_code"], 200);
    EXPECT_EQ(row["downstream_status_code"], 200);
    EXPECT_EQ(row["prompt_tokens"], 9);
    EXPECT_EQ(row["completion_tokens"], 2);
    EXPECT_EQ(row["total_tokens"], 11);
    EXPECT_EQ(row["tokens_estimated"], false);
    EXPECT_EQ(row["client_ip"], "127.0.0.1");
    EXPECT_TRUE(row["latency_ms"].is_number());
    EXPECT_TRUE(row["error"].is_null());
}

TEST_P(ProxyTest, EmbeddingsRoundTrip) {
    auto r = gw->call("/v1/embeddings",
                      {{"model", "acme/text-embedding-3-small"}, {"input", {"a", "b"}}}, key);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["data"].size(), 2u);
    EXPECT_EQ(upstream->requests().back().path, "/v1/embeddings");
    EXPECT_FALSE(upstream->requests().back().json().contains("messages"));  // not treated as chat
    auto row = gw->wait_log([](const json& l) { return l["endpoint"] == "embeddings"; });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "success");
    EXPECT_EQ(row["prompt_tokens"], 4);
    EXPECT_EQ(row["total_tokens"], 4);
}

TEST_P(ProxyTest, ModelsAreFilteredByTheKeysAllowlist) {
    auto all = http_request("GET", gw->url("/v1/models"), "", auth(key));
    ASSERT_EQ(all.status, 200);
    auto ids = [](const json& j) {
        std::vector<std::string> out;
        for (const auto& m : j["data"])
            out.push_back(m["id"]);
        return out;
    };
    EXPECT_EQ(all.json()["object"], "list");
    EXPECT_EQ(ids(all.json()),
              (std::vector<std::string>{"acme/gpt-4o-mini", "acme/text-embedding-3-small"}));
    EXPECT_EQ(all.json()["data"][0]["owned_by"], "acme");

    auto limited = gw->create_key("bob", {embed_binding}).second;
    auto some = http_request("GET", gw->url("/v1/models"), "", auth(limited));
    ASSERT_EQ(some.status, 200);
    EXPECT_EQ(ids(some.json()), (std::vector<std::string>{"acme/text-embedding-3-small"}));

    auto one =
        http_request("GET", gw->url("/v1/models/acme/text-embedding-3-small"), "", auth(limited));
    EXPECT_EQ(one.status, 200);
    auto hidden = http_request("GET", gw->url("/v1/models/acme/gpt-4o-mini"), "", auth(limited));
    EXPECT_EQ(hidden.status, 404);

    auto anon = http_request("GET", gw->url("/v1/models"));
    EXPECT_EQ(anon.status, 401);
}

TEST_P(ProxyTest, BadKeysAreRejectedWith401AndNothingReachesUpstream) {
    auto missing = http_request("POST", gw->url("/v1/chat/completions"), chat_body().dump(),
                                {{"Content-Type", "application/json"}});
    EXPECT_EQ(missing.status, 401);
    EXPECT_EQ(missing.json()["error"]["type"], "authentication_error");
    EXPECT_EQ(missing.json()["error"]["code"], "missing_api_key");

    auto wrong = gw->call("/v1/chat/completions", chat_body(),
                          "sk-000000000000000000000000000000000000000000000000");
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.json()["error"]["code"], "invalid_api_key");

    auto [id, secret] = gw->create_key("carol");
    ASSERT_EQ(
        gw->admin("PUT", "/admin/api/keys/" + std::to_string(id), {{"is_active", false}}).status,
        200);
    auto disabled = gw->call("/v1/chat/completions", chat_body(), secret);
    EXPECT_EQ(disabled.status, 401);
    EXPECT_EQ(disabled.json()["error"]["code"], "api_key_disabled");
    EXPECT_EQ(upstream->request_count(), 0u);
}

TEST_P(ProxyTest, DisallowedModelIs403) {
    auto limited = gw->create_key("bob", {embed_binding}).second;
    auto r = gw->call("/v1/chat/completions", chat_body(), limited);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.json()["error"]["type"], "permission_error");
    EXPECT_EQ(r.json()["error"]["code"], "model_not_allowed");
    EXPECT_EQ(upstream->request_count(), 0u);
}

TEST_P(ProxyTest, UnknownModelIs404) {
    for (const char* model : {"acme/gpt-9", "nosuch/gpt-4o-mini", "gpt-9"}) {
        auto body = chat_body();
        body["model"] = model;
        auto r = gw->call("/v1/chat/completions", body, key);
        EXPECT_EQ(r.status, 404) << model;
        EXPECT_EQ(r.json()["error"]["code"], "model_not_found") << model;
        EXPECT_EQ(r.json()["error"]["type"], "invalid_request_error");
    }
    // A bare name that only one provider serves is routed there.
    auto body = chat_body();
    body["model"] = "gpt-4o-mini";
    EXPECT_EQ(gw->call("/v1/chat/completions", body, key).status, 200);
}

TEST_P(ProxyTest, MalformedRequestsAre400) {
    auto r = http_request("POST", gw->url("/v1/chat/completions"),
                          "{\"model\": \"acme/gpt-4o-mini\", ", auth(key));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json()["error"]["code"], "invalid_json");
    EXPECT_EQ(r.json()["error"]["type"], "invalid_request_error");

    auto no_messages = gw->call("/v1/chat/completions", {{"model", "acme/gpt-4o-mini"}}, key);
    EXPECT_EQ(no_messages.status, 400);
    EXPECT_EQ(no_messages.json()["error"]["code"], "missing_messages");

    auto no_model =
        gw->call("/v1/chat/completions",
                 {{"messages", json::array({{{"role", "user"}, {"content", "x"}}})}}, key);
    EXPECT_EQ(no_model.status, 400);

    auto bad_stream = chat_body();
    bad_stream["stream"] = "yes";
    EXPECT_EQ(gw->call("/v1/chat/completions", bad_stream, key).status, 400);
    EXPECT_EQ(upstream->request_count(), 0u);
}

TEST_P(ProxyTest, OversizedBodyIs413) {
    auto body = chat_body();
    body["messages"][0]["content"] = std::string(gw->app().config().max_body_bytes + 10, 'x');
    auto r = gw->call("/v1/chat/completions", body, key);
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.json()["error"]["code"], "request_too_large");
    EXPECT_EQ(upstream->request_count(), 0u);
}

TEST_P(ProxyTest, UpstreamErrorsPassThroughWithTheirStatusAndAreLogged) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond_json(429,
                        {{"error",
                          {{"message", "Rate limit reached for requests"},
                           {"type", "requests"},
                           {"code", "rate_limit_exceeded"}}}},
                        {{"Retry-After", "7"}});
    });
    auto r = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.header("retry-after"), "7");
    EXPECT_EQ(r.json()["error"]["message"], "Rate limit reached for requests");
    EXPECT_EQ(r.json()["error"]["code"], "rate_limit_exceeded");
    auto row =
        gw->wait_log([&](const json& l) { return l["request_id"] == r.header("x-request-id"); });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "rate_limited");
    EXPECT_EQ(row["upstream_status_code"], 429);
    EXPECT_EQ(row["downstream_status_code"], 429);
    EXPECT_EQ(row["error"], "Rate limit reached for requests");

    // The 429 paused the provider's only key: the next call is answered at once
    // with a 429 and a Retry-After, without reaching the upstream.
    const auto calls_before = upstream->request_count();
    auto paused = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(paused.status, 429);
    EXPECT_FALSE(paused.header("retry-after").empty());
    EXPECT_EQ(upstream->request_count(), calls_before);

    // Other upstream errors keep their status (on a provider that is not paused).
    auto other = gw->add_provider("other", upstream->base_url());
    gw->bind(other, "gpt-4o-mini");
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond(500, "internal meltdown", "text/plain");
    });
    auto body = chat_body();
    body["model"] = "other/gpt-4o-mini";
    auto e = gw->call("/v1/chat/completions", body, key);
    EXPECT_EQ(e.status, 500);
    EXPECT_TRUE(e.json()["error"]["message"].get<std::string>().find("internal meltdown") !=
                std::string::npos);
    auto row2 =
        gw->wait_log([&](const json& l) { return l["request_id"] == e.header("x-request-id"); });
    ASSERT_FALSE(row2.is_null());
    EXPECT_EQ(row2["status"], "error");
    EXPECT_EQ(row2["upstream_status_code"], 500);
}

TEST_P(ProxyTest, A2xxErrorBodyIsNotASuccess) {
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond_json(200,
                        {{"error", {{"message", "model overloaded"}, {"type", "server_error"}}}});
    });
    auto r = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(r.status, 502);
    EXPECT_EQ(r.json()["error"]["message"], "model overloaded");
    auto row =
        gw->wait_log([&](const json& l) { return l["request_id"] == r.header("x-request-id"); });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "error");
    EXPECT_EQ(row["upstream_status_code"], 200);
}

TEST_P(ProxyTest, UnreachableUpstreamIs502AndLogged) {
    auto dead = gw->add_provider("dead", "http://127.0.0.1:9/v1");
    gw->bind(dead, "ghost");
    auto body = chat_body();
    body["model"] = "dead/ghost";
    auto r = gw->call("/v1/chat/completions", body, key);
    EXPECT_EQ(r.status, 502);
    EXPECT_EQ(r.json()["error"]["code"], "upstream_unreachable");
    auto row =
        gw->wait_log([&](const json& l) { return l["request_id"] == r.header("x-request-id"); });
    ASSERT_FALSE(row.is_null());
    EXPECT_EQ(row["status"], "error");
    EXPECT_TRUE(row["upstream_status_code"].is_null());
    EXPECT_NE(http_request("GET", gw->url("/metrics"))
                  .body.find("modelgate_upstream_retries_total{provider=\"dead\",reason="
                             "\"connection\"} 1\n"),
              std::string::npos)
        << "a refused connection is tried once more, and only once";
}

TEST_P(ProxyTest, AConnectionRefusedBeforeTheRequestWasSentIsTriedOnceMore) {
    uint16_t port = 0;
    {
        FakeUpstream probe;  // finds a free port, then frees it
        port = probe.port();
    }
    auto late = gw->add_provider("late", "http://127.0.0.1:" + std::to_string(port) + "/v1");
    gw->bind(late, "gpt-4o-mini");
    auto body = chat_body();
    body["model"] = "late/gpt-4o-mini";
    HttpResponse r;
    std::thread caller([&] { r = gw->call("/v1/chat/completions", body, key); });
    // The first attempt is refused; the retry comes 100-300 ms later. Start the
    // upstream in between.
    bool retried = eventually(
        [&] {
            return http_request("GET", gw->url("/metrics"))
                       .body.find("modelgate_upstream_retries_total{provider=\"late\"") !=
                   std::string::npos;
        },
        std::chrono::seconds(5));
    std::unique_ptr<FakeUpstream> revived;
    if (retried) revived = std::make_unique<FakeUpstream>(port);
    caller.join();
    ASSERT_TRUE(retried);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(revived->request_count(), 1u);
}

TEST_P(ProxyTest, TimeRulesDenyWith403) {
    auto [id, secret] = gw->create_key("nightshift");
    // A deny rule covering every weekday.
    auto rule =
        gw->admin("POST", "/admin/api/keys/" + std::to_string(id) + "/time-rules",
                  {{"rule_type", "weekday"}, {"allowed", false}, {"weekdays", "0,1,2,3,4,5,6"}});
    ASSERT_EQ(rule.status, 201) << rule.body;
    auto r = gw->call("/v1/chat/completions", chat_body(), secret);
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.json()["error"]["code"], "access_time_restricted");
    // Removing the rule opens the key again.
    auto rid = rule.json()["id"].get<int64_t>();
    ASSERT_EQ(gw->admin("DELETE", "/admin/api/keys/" + std::to_string(id) + "/time-rules/" +
                                      std::to_string(rid))
                  .status,
              200);
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), secret).status, 200);
}

TEST_P(ProxyTest, ModelNameOverrideIsAnAliasTranslatedUpstream) {
    gw->bind(provider, "gpt-4.1", {{"model_name_override", "smart"}});
    auto body = chat_body();
    body["model"] = "acme/smart";
    auto r = gw->call("/v1/chat/completions", body, key);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(upstream->requests().back().json()["model"], "gpt-4.1");
}

MODELGATE_BACKENDS(ProxyTest);

}  // namespace modelgate::test

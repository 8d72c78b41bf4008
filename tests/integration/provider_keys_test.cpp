// Several upstream keys per provider: per-key limits, stickiness per gateway
// key, the automatic cool-down after a rate limit or an exhausted quota (and
// its end), the admin's own switch, and keys never shown in full.
#include "domain/provider_keys.hpp"

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "integration/fixture.hpp"
#include "store/config_store.hpp"
#include "util/crypto.hpp"
#include "util/time.hpp"

namespace modelgate::test {

using nlohmann::json;

namespace {
constexpr const char* kDefaultSecret = "sk-upstream-acme-0123456789";
constexpr const char* kSecondSecret = "sk-second-key-abcdefghijklmnop";
}  // namespace

class ProviderKeysTest : public GatewayTest {
  protected:
    json provider_settings() override {
        return {{"max_concurrency", 8}, {"queue_timeout_ms", 300}};
    }
    std::string keys_path() const {
        return "/admin/api/providers/" + std::to_string(provider) + "/keys";
    }
    json keys() {
        auto r = gw->admin("GET", keys_path());
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json()["keys"];
    }
    int64_t key_id(const std::string& label) {
        for (const auto& k : keys()) {
            if (k["label"] == label) return k["id"].get<int64_t>();
        }
        return -1;
    }
    // Adds the second key and gives both keys a limit.
    void two_keys(int limit) {
        auto r = gw->admin(
            "POST", keys_path(),
            {{"api_key", kSecondSecret}, {"label", "second"}, {"max_concurrency", limit}});
        ASSERT_EQ(r.status, 201) << r.body;
        r = gw->admin("PUT", keys_path() + "/" + std::to_string(key_id("default")),
                      {{"max_concurrency", limit}});
        ASSERT_EQ(r.status, 200) << r.body;
    }
    static std::string bearer(const FakeRequest& r) { return r.header("authorization"); }
    std::string metrics() { return http_request("GET", gw->url("/metrics")).body; }
};

TEST_P(ProviderKeysTest, KeysAreListedMaskedAndDuplicatesRefused) {
    auto r = gw->admin("POST", keys_path(), {{"api_key", kSecondSecret}, {"label", "second"}});
    ASSERT_EQ(r.status, 201) << r.body;
    auto dup = gw->admin("POST", keys_path(), {{"api_key", kSecondSecret}, {"label", "again"}});
    EXPECT_EQ(dup.status, 409);
    EXPECT_EQ(dup.json()["error"]["code"], "duplicate_key");
    auto bad = gw->admin("POST", keys_path(), {{"api_key", "sk-a\r\nX-Evil: 1"}});
    EXPECT_EQ(bad.status, 400);
    auto listing = gw->admin("GET", keys_path());
    ASSERT_EQ(listing.status, 200);
    EXPECT_EQ(listing.body.find(kSecondSecret), std::string::npos) << "a key came back in full";
    EXPECT_EQ(listing.body.find(kDefaultSecret), std::string::npos);
    auto list = listing.json()["keys"];
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0]["label"], "default");
    EXPECT_EQ(list[1]["api_key"], "sk-s…mnop");
    EXPECT_EQ(list[1]["state"], "active");
    EXPECT_TRUE(list[1]["max_concurrency"].is_null());
    auto providers = gw->admin("GET", "/admin/api/providers");
    EXPECT_EQ(providers.body.find(kSecondSecret), std::string::npos);
    EXPECT_EQ(providers.json()["providers"][0]["keys_count"], 2);
    // Unknown provider or key.
    EXPECT_EQ(gw->admin("GET", "/admin/api/providers/9999/keys").status, 404);
    EXPECT_EQ(gw->admin("PUT", keys_path() + "/9999", {{"label", "x"}}).status, 404);
    // Deleting a key.
    auto del = gw->admin("DELETE", keys_path() + "/" + std::to_string(key_id("second")));
    EXPECT_EQ(del.status, 200);
    EXPECT_EQ(keys().size(), 1u);
}

TEST_P(ProviderKeysTest, EachKeyHasItsOwnLimitAndCallsSpreadOverThem) {
    two_keys(1);
    upstream->set_script([this](const FakeRequest& req, FakeExchange& ex) {
        upstream->wait_release(std::chrono::seconds(5));
        FakeUpstream::openai_script(req, ex);
    });
    auto bob = gw->create_key("bob").second;
    std::vector<std::thread> callers;
    std::vector<long> statuses(2, 0);
    callers.emplace_back(
        [&] { statuses[0] = gw->call("/v1/chat/completions", chat_body(), key).status; });
    callers.emplace_back(
        [&] { statuses[1] = gw->call("/v1/chat/completions", chat_body(), bob).status; });
    ASSERT_TRUE(eventually([&] { return upstream->in_flight() == 2; }));
    // Two keys of limit 1: a third call has no slot and times out in the queue.
    auto third = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(third.status, 429);
    EXPECT_EQ(third.json()["error"]["code"], "concurrency_limit_reached");
    upstream->release();
    for (auto& t : callers)
        t.join();
    EXPECT_EQ(statuses, (std::vector<long>{200, 200}));
    std::set<std::string> used;
    for (const auto& r : upstream->requests())
        used.insert(bearer(r));
    EXPECT_EQ(used, (std::set<std::string>{std::string("Bearer ") + kDefaultSecret,
                                           std::string("Bearer ") + kSecondSecret}));
    auto& limiter = *gw->app().config_cache().current()->providers.at("acme")->limiter;
    EXPECT_EQ(limiter.limit(), 2) << "the provider takes what its keys carry";
    EXPECT_TRUE(eventually([&] { return limiter.in_use() == 0; })) << "a slot leaked";
}

TEST_P(ProviderKeysTest, AGatewayKeyStaysOnOneUpstreamKey) {
    two_keys(4);
    std::vector<std::string> callers = {key};
    for (int i = 0; i < 3; ++i)
        callers.push_back(gw->create_key("user" + std::to_string(i)).second);
    std::map<std::string, std::set<std::string>> seen;
    for (int round = 0; round < 3; ++round) {
        for (const auto& k : callers) {
            std::size_t before = upstream->requests().size();
            ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), k).status, 200);
            seen[k].insert(bearer(upstream->requests().at(before)));
        }
    }
    std::set<std::string> all;
    for (const auto& [k, used] : seen) {
        EXPECT_EQ(used.size(), 1u) << "a gateway key moved between upstream keys";
        all.insert(used.begin(), used.end());
    }
    EXPECT_EQ(all.size(), 2u) << "different gateway keys should be spread over both keys";
}

TEST_P(ProviderKeysTest, ARateLimitedModelIsRetriedOnAnotherKeyAndComesBack) {
    two_keys(4);
    // The default key is rate limited on gpt-4o-mini for 2 s; the second one answers.
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        if (req.header("authorization") == std::string("Bearer ") + kDefaultSecret) {
            ex.respond_json(429,
                            {{"error",
                              {{"message", "Rate limit reached for requests"},
                               {"type", "requests"},
                               {"code", "rate_limit_exceeded"}}}},
                            {{"Retry-After", "2"}});
            return;
        }
        FakeUpstream::openai_script(req, ex);
    });
    for (int i = 0; i < 6; ++i) {
        auto who = gw->create_key("caller" + std::to_string(i)).second;
        auto r = gw->call("/v1/chat/completions", chat_body(), who);
        EXPECT_EQ(r.status, 200) << "the call should have been retried on the second key: "
                                 << r.body;
    }
    auto hits_on_default = [&] {
        int n = 0;
        for (const auto& r : upstream->requests())
            n += bearer(r) == std::string("Bearer ") + kDefaultSecret ? 1 : 0;
        return n;
    };
    EXPECT_EQ(hits_on_default(), 1) << "after its first 429 the model on that key is skipped";
    EXPECT_NE(metrics().find("modelgate_upstream_retries_total{provider=\"acme\",reason=\"another_"
                             "key\"} 1\n"),
              std::string::npos);
    json def = keys()[0];
    ASSERT_EQ(def["label"], "default");
    EXPECT_EQ(def["state"], "active") << "a rate limit pauses one model, not the key";
    EXPECT_TRUE(def["is_active"].get<bool>()) << "a cool-down never flips the admin's switch";
    ASSERT_EQ(def["pauses"].size(), 1u) << def.dump();
    json pause = def["pauses"][0];
    EXPECT_EQ(pause["scope"], "model");
    EXPECT_EQ(pause["model"], "gpt-4o-mini");
    EXPECT_TRUE(pause["active"].get<bool>());
    EXPECT_NE(pause["reason"].get<std::string>().find("rate limited"), std::string::npos);
    EXPECT_FALSE(pause["until"].get<std::string>().empty());
    // The pause is written to the database (for restarts and other instances).
    EXPECT_TRUE(eventually([&] {
        auto stored = core::store::ConfigStore(gw->app().database()).list_model_pauses();
        return stored && stored.value().size() == 1 &&
               stored.value()[0].key_id == def["id"].get<int64_t>() &&
               stored.value()[0].model == "gpt-4o-mini";
    }));
    // After the reset the key is used again and the pause is gone.
    std::this_thread::sleep_for(std::chrono::milliseconds(2300));
    upstream->set_script(&FakeUpstream::openai_script);
    for (int i = 0; i < 6; ++i) {
        auto who = gw->create_key("later" + std::to_string(i)).second;
        EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), who).status, 200);
    }
    EXPECT_GE(hits_on_default(), 2) << "the key did not come back after its reset";
    EXPECT_TRUE(keys()[0]["pauses"].empty()) << keys()[0].dump();
    EXPECT_TRUE(eventually([&] {
        auto stored = core::store::ConfigStore(gw->app().database()).list_model_pauses();
        return stored && stored.value().empty();
    })) << "a successful call clears the stored pause";
}

TEST_P(ProviderKeysTest, ARateLimitOnOneModelLeavesTheKeysOtherModelsUsable) {
    gw->bind(provider, "gpt-4o");
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        if (req.json().value("model", "") == "gpt-4o-mini") {
            ex.respond_json(429, {{"error", {{"message", "slow down"}, {"type", "rate_limit"}}}},
                            {{"Retry-After", "30"}});
            return;
        }
        FakeUpstream::openai_script(req, ex);
    });
    auto first = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(first.status, 429);
    EXPECT_EQ(first.json()["error"]["message"], "slow down") << "the upstream's own error";
    auto again = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(again.status, 429);
    EXPECT_EQ(again.json()["error"]["code"], "upstream_keys_cooling_down");
    long retry = std::stol(again.header("retry-after"));
    EXPECT_GT(retry, 25);
    EXPECT_LE(retry, 30);
    EXPECT_EQ(upstream->request_count(), 1u) << "the paused model was called again";
    json other = chat_body();
    other["model"] = "acme/gpt-4o";
    EXPECT_EQ(gw->call("/v1/chat/completions", other, key).status, 200)
        << "a rate limit on one model must not stop the key's other models";
    auto status = gw->admin("GET", "/admin/api/providers/" + std::to_string(provider)).json();
    EXPECT_TRUE(status["paused_until"].is_null()) << "the provider as a whole is not paused";
    // The admin's resume ends model pauses too.
    auto r =
        gw->admin("PUT", keys_path() + "/" + std::to_string(key_id("default")), {{"resume", true}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.json()["pauses"].empty()) << r.body;
    upstream->set_script(&FakeUpstream::openai_script);
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
}

TEST_P(ProviderKeysTest, TheFirstCallAfterAPauseProbesAndARefusedProbeDoublesThePause) {
    std::atomic<bool> hold{false};
    std::atomic<bool> refuse{true};
    upstream->set_script([&](const FakeRequest& req, FakeExchange& ex) {
        if (hold.load()) upstream->wait_release(std::chrono::seconds(5));
        if (refuse.load()) {
            ex.respond_json(429, {{"error", {{"message", "slow down"}, {"type", "rate_limit"}}}},
                            {{"Retry-After", "1"}});
            return;
        }
        FakeUpstream::openai_script(req, ex);
    });
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 429);
    json first = keys()[0]["pauses"];
    ASSERT_EQ(first.size(), 1u) << first.dump();
    EXPECT_EQ(first[0]["strikes"], 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    // The pause is over: one call probes, the others wait for its answer.
    hold = true;
    HttpResponse probe;
    std::thread prober([&] { probe = gw->call("/v1/chat/completions", chat_body(), key); });
    ASSERT_TRUE(eventually([&] { return upstream->in_flight() == 1; }));
    EXPECT_TRUE(keys()[0]["pauses"][0]["probing"].get<bool>());
    auto during = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(during.status, 429);
    EXPECT_EQ(during.json()["error"]["code"], "upstream_keys_cooling_down");
    EXPECT_EQ(upstream->request_count(), 2u) << "a second call went out during the probe";
    hold = false;
    upstream->release();
    prober.join();
    EXPECT_EQ(probe.status, 429);
    // Refused again: twice as long as before, though the upstream said 1 s.
    json again = keys()[0]["pauses"];
    ASSERT_EQ(again.size(), 1u) << again.dump();
    EXPECT_EQ(again[0]["strikes"], 2);
    EXPECT_FALSE(again[0]["probing"].get<bool>());
    auto left = *core::parse_iso8601(again[0]["until"].get<std::string>()) - core::unix_ms_now();
    EXPECT_GT(left, 1500) << "the refused probe should have doubled the pause";
    EXPECT_LE(left, 2000);
    // A successful probe ends the pause and its strikes.
    refuse = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(left + 100));
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    EXPECT_TRUE(keys()[0]["pauses"].empty()) << keys()[0].dump();
}

TEST_P(ProviderKeysTest, AnExhaustedQuotaPausesTheKeyForEveryModel) {
    gw->bind(provider, "gpt-4o");
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond_json(429, {{"error",
                               {{"message", "You exceeded your current quota"},
                                {"type", "insufficient_quota"},
                                {"code", "insufficient_quota"}}}});
    });
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 429);
    json other = chat_body();
    other["model"] = "acme/gpt-4o";
    auto r = gw->call("/v1/chat/completions", other, key);
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.json()["error"]["code"], "upstream_keys_cooling_down");
    EXPECT_EQ(upstream->request_count(), 1u) << "a key out of quota was used for another model";
    json def = keys()[0];
    EXPECT_EQ(def["state"], "paused");
    ASSERT_EQ(def["pauses"].size(), 1u) << def.dump();
    EXPECT_EQ(def["pauses"][0]["scope"], "key");
    EXPECT_TRUE(def["pauses"][0]["model"].is_null());
    EXPECT_NE(def["pauses"][0]["reason"].get<std::string>().find("quota"), std::string::npos);
}

TEST_P(ProviderKeysTest, AllKeysCoolingDownGivesA429WithRetryAfterAtOnce) {
    // One key, out of quota until a time the upstream names.
    upstream->set_script([](const FakeRequest&, FakeExchange& ex) {
        ex.respond_json(
            429,
            {{"error",
              {{"message", "You exceeded your current quota. It resets at 2099-01-01 00:00:00"},
               {"type", "insufficient_quota"},
               {"code", "insufficient_quota"}}}});
    });
    auto first = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(first.status, 429);
    EXPECT_EQ(first.json()["error"]["code"], "insufficient_quota");
    auto t0 = std::chrono::steady_clock::now();
    auto second = gw->call("/v1/chat/completions", chat_body(true), key);
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(second.status, 429);
    EXPECT_EQ(second.json()["error"]["type"], "rate_limit_error");
    EXPECT_EQ(second.json()["error"]["code"], "upstream_keys_cooling_down");
    EXPECT_NE(second.json()["error"]["message"].get<std::string>().find("quota"),
              std::string::npos);
    long retry = std::stol(second.header("retry-after"));
    EXPECT_GT(retry, 3600) << "the quota resets in 2099, a long way off";
    EXPECT_LE(retry, 7 * 24 * 3600) << "capped at a week";
    EXPECT_LT(waited, std::chrono::milliseconds(250)) << "no waiting in the queue";
    EXPECT_EQ(upstream->request_count(), 1u) << "the paused key was used again";
    auto provider_row = gw->admin("GET", "/admin/api/providers/" + std::to_string(provider)).json();
    EXPECT_FALSE(provider_row["paused_until"].is_null());
    // Wait for the pause to reach the database before lifting it.
    int64_t id = key_id("default");
    ASSERT_TRUE(eventually([&] {
        auto stored = core::store::ConfigStore(gw->app().database()).get_provider_key(id);
        return stored && stored.value() && stored.value()->paused_until.has_value();
    }));
    // The admin switches the key back on: the pause ends at once.
    auto r = gw->admin("PUT", keys_path() + "/" + std::to_string(id), {{"resume", true}});
    ASSERT_EQ(r.status, 200);
    upstream->set_script(&FakeUpstream::openai_script);
    EXPECT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
}

TEST_P(ProviderKeysTest, AKeyTheAdminSwitchedOffStaysOff) {
    two_keys(4);
    auto off = gw->admin("PUT", keys_path() + "/" + std::to_string(key_id("second")),
                         {{"is_active", false}});
    ASSERT_EQ(off.status, 200);
    for (int i = 0; i < 4; ++i) {
        auto who = gw->create_key("c" + std::to_string(i)).second;
        ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), who).status, 200);
    }
    for (const auto& r : upstream->requests())
        EXPECT_EQ(bearer(r), std::string("Bearer ") + kDefaultSecret);
    EXPECT_EQ(keys()[1]["state"], "disabled");
    // With every key switched off the provider is unusable, and says why.
    ASSERT_EQ(gw->admin("PUT", keys_path() + "/" + std::to_string(key_id("default")),
                        {{"is_active", false}})
                  .status,
              200);
    auto none = gw->call("/v1/chat/completions", chat_body(), key);
    EXPECT_EQ(none.status, 503);
    EXPECT_EQ(none.json()["error"]["code"], "provider_unavailable");
}

TEST_P(ProviderKeysTest, AProviderWithoutKeysPausesAsAWhole) {
    auto local = gw->add_provider("local", upstream->base_url(), {{"api_key", nullptr}});
    gw->bind(local, "llama3");
    upstream->set_script([](const FakeRequest& req, FakeExchange& ex) {
        EXPECT_TRUE(req.header("authorization").empty()) << "a keyless provider sent a key";
        ex.respond_json(429, {{"error", {{"message", "slow down"}, {"type", "rate_limit"}}}},
                        {{"Retry-After", "30"}});
    });
    json body = chat_body();
    body["model"] = "local/llama3";
    EXPECT_EQ(gw->call("/v1/chat/completions", body, key).status, 429);
    auto paused = gw->call("/v1/chat/completions", body, key);
    EXPECT_EQ(paused.status, 429);
    EXPECT_EQ(paused.json()["error"]["code"], "upstream_keys_cooling_down");
    EXPECT_EQ(upstream->request_count(), 1u);
    // Switching the provider on ends its pause (once it is in the database).
    ASSERT_TRUE(eventually([&] {
        auto stored = core::store::ConfigStore(gw->app().database()).list_model_pauses();
        return stored && stored.value().size() == 1 && stored.value()[0].provider_id == local &&
               stored.value()[0].key_id == 0 && stored.value()[0].model == "llama3";
    }));
    ASSERT_EQ(
        gw->admin("PUT", "/admin/api/providers/" + std::to_string(local), {{"is_active", true}})
            .status,
        200);
    upstream->set_script(&FakeUpstream::openai_script);
    EXPECT_EQ(gw->call("/v1/chat/completions", body, key).status, 200);
}

TEST_P(ProviderKeysTest, TheProviderApiKeyFieldIsTheDefaultKey) {
    auto id = std::to_string(provider);
    ASSERT_EQ(
        gw->admin("PUT", "/admin/api/providers/" + id, {{"api_key", "sk-replaced-0000000000"}})
            .status,
        200);
    ASSERT_EQ(keys().size(), 1u);
    EXPECT_EQ(keys()[0]["api_key"], "sk…00");  // 22 characters: 2 + 2 shown
    ASSERT_EQ(gw->call("/v1/chat/completions", chat_body(), key).status, 200);
    EXPECT_EQ(bearer(upstream->requests().back()), "Bearer sk-replaced-0000000000");
    ASSERT_EQ(gw->admin("PUT", "/admin/api/providers/" + id, {{"api_key", ""}}).status, 200);
    EXPECT_EQ(keys().size(), 0u);
    EXPECT_EQ(gw->admin("GET", "/admin/api/providers/" + id).json()["has_api_key"], false);
}

TEST_P(ProviderKeysTest, AKeyStoredOnTheProviderRowMovesToTheKeyList) {
    // What a database from the first schema holds: the key sealed on the provider row.
    core::store::ConfigStore store(gw->app().database());
    auto key_file = gw->data_dir() + "/master.key";
    std::ifstream in(key_file);
    std::string hex;
    in >> hex;
    core::crypto::SecretBox box(*core::crypto::hex_decode(hex));
    core::store::ProviderRecord p;
    p.name = "legacy";
    p.base_url = upstream->base_url();
    p.api_key_sealed = box.seal("sk-legacy-key-1234567890");
    p.api_key_hint = core::crypto::mask_secret("sk-legacy-key-1234567890");
    auto id = store.create_provider(p);
    ASSERT_TRUE(id);
    ASSERT_TRUE(core::adopt_legacy_provider_keys(store, box));
    auto moved = store.list_provider_keys(id.value());
    ASSERT_TRUE(moved);
    ASSERT_EQ(moved->size(), 1u);
    EXPECT_EQ(moved->front().label, "default");
    EXPECT_EQ(box.open(moved->front().api_key_sealed), "sk-legacy-key-1234567890");
    auto row = store.get_provider(id.value());
    ASSERT_TRUE(row && row.value());
    EXPECT_FALSE(row.value()->api_key_sealed.has_value());
    // Running it again changes nothing.
    ASSERT_TRUE(core::adopt_legacy_provider_keys(store, box));
    EXPECT_EQ(store.list_provider_keys(id.value())->size(), 1u);
}

MODELGATE_BACKENDS(ProviderKeysTest);

}  // namespace modelgate::test

// The fixture every integration suite shares: a fake upstream speaking OpenAI's
// wire format, a real gateway on port 0 over the backend under test (SQLite or
// PostgreSQL), one provider "acme" with a chat and an embeddings model, and one
// unrestricted key.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <thread>

#include "support/fake_upstream.hpp"
#include "support/gateway.hpp"

namespace modelgate::test {

class GatewayTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        std::string why;
        if (GetParam() == "postgresql" && !TestDatabase::postgres_available(&why)) {
            if (std::getenv("MODELGATE_TEST_SKIP_PG") != nullptr) GTEST_SKIP() << why;
            FAIL() << why;
        }
        upstream = std::make_unique<FakeUpstream>();
        gw = std::make_unique<Gateway>(GetParam(), [this](core::Config& c) { tweak(c); });
        provider = gw->add_provider("acme", upstream->base_url(), provider_settings());
        chat_binding = gw->bind(provider, "gpt-4o-mini");
        embed_binding = gw->bind(provider, "text-embedding-3-small");
        key = gw->create_key("alice").second;
    }
    void TearDown() override {
        if (gw) gw->stop();
        gw.reset();
        upstream.reset();
    }
    virtual void tweak(core::Config&) {}
    virtual nlohmann::json provider_settings() { return nlohmann::json::object(); }

    static nlohmann::json chat_body(bool stream = false) {
        nlohmann::json b = {{"model", "acme/gpt-4o-mini"},
                            {"messages", {{{"role", "user"}, {"content", "Say hello"}}}}};
        if (stream) b["stream"] = true;
        return b;
    }
    Headers auth(const std::string& k) const {
        return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + k}};
    }

    std::unique_ptr<FakeUpstream> upstream;
    std::unique_ptr<Gateway> gw;
    int64_t provider = 0, chat_binding = 0, embed_binding = 0;
    std::string key;
};

// Polls pred until it holds or the timeout passes. For state that settles on
// another thread just after the client got its answer (a slot is released
// after the last byte is written).
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& info) {
    return info.param;
}

#define MODELGATE_BACKENDS(Suite)                                                        \
    INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgresql"), \
                             ::modelgate::test::backend_name)

}  // namespace modelgate::test

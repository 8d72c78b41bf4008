#include "proxy/usage.hpp"

#include <gtest/gtest.h>

using namespace modelgate::core::proxy;
using nlohmann::json;

TEST(Usage, ReadsOpenAIAndVariantNames) {
    auto t = tokens_from_usage(
        json{{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}, 0, 0);
    EXPECT_EQ(*t.prompt, 10);
    EXPECT_EQ(*t.completion, 5);
    EXPECT_EQ(*t.total, 15);
    EXPECT_FALSE(t.estimated);
    auto anthropic = tokens_from_usage(json{{"input_tokens", "12"}, {"output_tokens", 3.9}}, 0, 0);
    EXPECT_EQ(*anthropic.prompt, 12);
    EXPECT_EQ(*anthropic.completion, 3);
    EXPECT_EQ(*anthropic.total, 15);
    EXPECT_FALSE(anthropic.estimated);
    auto derived = tokens_from_usage(json{{"total_tokens", 20}, {"completion_tokens", 8}}, 0, 0);
    EXPECT_EQ(*derived.prompt, 12);
    EXPECT_FALSE(derived.estimated);
    auto embeddings = tokens_from_usage(json{{"prompt_tokens", 4}, {"total_tokens", 4}}, 0, 99);
    EXPECT_EQ(*embeddings.completion, 0);
    EXPECT_FALSE(embeddings.estimated);
}

TEST(Usage, EstimatesWhenMissingAndSaysSo) {
    auto t = tokens_from_usage(json::object(), 30, 7);
    EXPECT_EQ(*t.prompt, 30);
    EXPECT_EQ(*t.completion, 7);
    EXPECT_EQ(*t.total, 37);
    EXPECT_TRUE(t.estimated);
    auto bad = tokens_from_usage(json{{"prompt_tokens", true}}, 2, 1);
    EXPECT_EQ(*bad.prompt, 2) << "booleans are not counts";
}

TEST(Usage, EstimationIsCjkAware) {
    EXPECT_EQ(estimate_tokens(""), 0);
    EXPECT_EQ(estimate_tokens("a"), 1);
    EXPECT_EQ(estimate_tokens("Hello, world! How are you?"), 7);  // 26 chars / 4
    EXPECT_EQ(estimate_tokens("你好世界"), 4);                    // a token per ideograph
    EXPECT_EQ(estimate_tokens("こんにちは"), 5);
    EXPECT_GT(estimate_tokens("你好世界"), estimate_tokens("abcd"));
}

TEST(Usage, PromptEstimateLooksAtMessages) {
    std::string body = json{{"model", "m"},
                            {"temperature", 0.5},
                            {"messages", {{{"role", "user"}, {"content", std::string(400, 'a')}}}}}
                           .dump();
    auto n = estimate_prompt_tokens(body);
    EXPECT_GE(n, 100);
    EXPECT_LE(n, 110);
}

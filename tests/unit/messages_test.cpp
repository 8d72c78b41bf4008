#include "proxy/messages.hpp"

#include <gtest/gtest.h>

using modelgate::core::proxy::merge_rules;
using modelgate::core::proxy::MergeRules;
using modelgate::core::proxy::preprocess_messages;
using nlohmann::json;

namespace {
json msg(const char* role, json content) {
    return {{"role", role}, {"content", std::move(content)}};
}
}  // namespace

TEST(Messages, TheSpecExampleWithMergingOn) {
    json m = json::array({msg("system", "A"), msg("user", "hi"), msg("system", "B"),
                          msg("user", "x"), msg("user", "y")});
    EXPECT_TRUE(preprocess_messages(m, merge_rules(true, true)));
    EXPECT_EQ(m, json::array({msg("system", "A\n\nB"), msg("user", "hi\n\nx\n\ny")}));
}

TEST(Messages, SystemMergeTakesTextPartsAndKeepsOrder) {
    json parts = json::array({{{"type", "text"}, {"text", "two"}},
                              {{"type", "image_url"}, {"image_url", {{"url", "x"}}}},
                              "three"});
    json m = json::array(
        {msg("user", "q"), msg("system", "one"), msg("assistant", "a"), msg("system", parts)});
    EXPECT_TRUE(preprocess_messages(m, MergeRules{true, false}));
    EXPECT_EQ(m, json::array({msg("system", "one\n\ntwo\n\nthree"), msg("user", "q"),
                              msg("assistant", "a")}));
}

TEST(Messages, ALoneSystemMessageStaysWhereItIs) {
    json m = json::array({msg("user", "q"), msg("system", "late"), msg("user", "r")});
    json before = m;
    EXPECT_FALSE(preprocess_messages(m, MergeRules{true, false}));
    EXPECT_EQ(m, before);
}

TEST(Messages, ToolTurnsAndListContentAreNeverMerged) {
    json call = {{"role", "assistant"},
                 {"content", "calling"},
                 {"tool_calls", json::array({{{"id", "c1"}, {"type", "function"}}})}};
    json result = {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "42"}};
    json result2 = {{"role", "tool"}, {"tool_call_id", "c2"}, {"content", "43"}};
    json image = msg("user", json::array({{{"type", "text"}, {"text", "see"}}}));
    json m = json::array(
        {msg("assistant", "thinking"), call, result, result2, image, msg("user", "and")});
    json before = m;
    EXPECT_FALSE(preprocess_messages(m, MergeRules{false, true}));
    EXPECT_EQ(m, before);
}

TEST(Messages, RulesFollowTheProviderSettingAndTheModel) {
    EXPECT_TRUE(merge_rules(false, false).merge_system)
        << "text-only models get one system message";
    EXPECT_FALSE(merge_rules(false, false).merge_consecutive);
    EXPECT_FALSE(merge_rules(false, true).merge_system);
    EXPECT_TRUE(merge_rules(true, true).merge_system);
    EXPECT_TRUE(merge_rules(true, true).merge_consecutive);
    json m = json::array({msg("user", "a"), msg("user", "b")});
    EXPECT_FALSE(preprocess_messages(m, merge_rules(false, false)));
    EXPECT_EQ(m.size(), 2u);
}

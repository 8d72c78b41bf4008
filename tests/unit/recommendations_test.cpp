// The deterministic model scores and their order (spec 8.5).
#include "stats/recommendations.hpp"

#include <gtest/gtest.h>

using namespace modelgate::core::stats;

TEST(Recommendations, ScoreWeighsReliabilityLatencyAndSample) {
    EXPECT_DOUBLE_EQ(model_score({20, 0, 2500.0}), 0.85);          // 0.55 + 0.30 * 0.5 + 0.15
    EXPECT_DOUBLE_EQ(model_score({10, 10, std::nullopt}), 0.075);  // no reliability, no latency
    EXPECT_DOUBLE_EQ(model_score({10, 1, std::nullopt}), 0.5425);  // 0.55 * 0.85 + 0.075
    EXPECT_DOUBLE_EQ(model_score({40, 30, 100.0}), 0.4385);        // reliability floors at 0
}

TEST(Recommendations, RankByScoreThenErrorsLatencyRequestsAndName) {
    std::vector<Candidate> c;
    for (const char* name : {"slow", "fast", "twin-b", "twin-a", "broken", "idle"})
        c.push_back({"p", name, name, "", 0, false});
    std::vector<ModelFigures> f = {{40, 0, 9000.0}, {40, 0, 500.0},  {40, 0, 2500.0},
                                   {40, 0, 2500.0}, {40, 20, 500.0}, {1, 0, 500.0}};
    std::vector<Recommendation> items;
    for (std::size_t i = 0; i < c.size(); ++i)
        items.push_back({&c[i], f[i], f[i].errors / double(f[i].requests), model_score(f[i])});
    rank(items);
    std::vector<std::string> order;
    for (const auto& r : items)
        order.push_back(r.candidate->public_name);
    EXPECT_EQ(order,
              (std::vector<std::string>{"fast", "twin-a", "twin-b", "idle", "slow", "broken"}));
}

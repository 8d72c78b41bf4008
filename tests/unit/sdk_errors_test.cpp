// The SDK's default error classification that most adapters use.
#include <gtest/gtest.h>

#include <ctime>
#include <modelgate/sdk.hpp>

using namespace modelgate::sdk;

TEST(SdkErrors, RateLimitsKeepTheirRetryAfter) {
    auto info = default_classify_error(
        429, "retry-after: 7\n",
        R"({"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}})");
    EXPECT_EQ(info.error_class, ErrorClass::rate_limited);
    EXPECT_EQ(info.retry_after_ms, 7000);
    EXPECT_EQ(info.error["code"], "rate_limit_exceeded");
}

TEST(SdkErrors, AnExhaustedQuotaIsNotARateLimit) {
    auto info = default_classify_error(
        429, "",
        R"({"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}})");
    EXPECT_EQ(info.error_class, ErrorClass::quota);
    EXPECT_EQ(info.reset_at_unix_ms, 0);
    auto chinese = default_classify_error(403, "", R"({"error":"账户余额不足，请充值"})");
    EXPECT_EQ(chinese.error_class, ErrorClass::quota);
    EXPECT_EQ(chinese.error["type"], "insufficient_quota");
}

TEST(SdkErrors, AQuotaResetTimeInTheMessageIsRead) {
    auto info = default_classify_error(
        429, "",
        R"({"error":{"message":"Usage limit reached for 5 hour. Your limit will reset at 2031-05-06 07:08:09","code":"1308"}})");
    ASSERT_EQ(info.error_class, ErrorClass::quota);
    std::tm tm{};
    tm.tm_year = 2031 - 1900;
    tm.tm_mon = 4;
    tm.tm_mday = 6;
    tm.tm_hour = 7;
    tm.tm_min = 8;
    tm.tm_sec = 9;
    tm.tm_isdst = -1;
    EXPECT_EQ(info.reset_at_unix_ms, static_cast<int64_t>(std::mktime(&tm)) * 1000);
}

TEST(SdkErrors, QuotaWordsInABadRequestStayABadRequest) {
    auto info = default_classify_error(
        400, "",
        R"({"error":{"message":"max_tokens exceeds the quota of this model","code":"x"}})");
    EXPECT_EQ(info.error_class, ErrorClass::invalid_request);
}

TEST(SdkErrors, PlainStringErrorsGetStringCodes) {
    auto info = default_classify_error(404, "", R"({"error":"model 'x' not found"})");
    EXPECT_EQ(info.error_class, ErrorClass::not_found);
    EXPECT_TRUE(info.error["code"].is_string());
    auto html = default_classify_error(502, "", "<html>bad gateway</html>");
    EXPECT_EQ(html.error_class, ErrorClass::retryable);
    EXPECT_TRUE(html.error["code"].is_string());
}

TEST(SdkErrors, ResetTimesNeedAWholeTimestamp) {
    EXPECT_EQ(find_reset_time_ms("no time here"), 0);
    EXPECT_EQ(find_reset_time_ms("at 2031-05-06"), 0);
    EXPECT_NE(find_reset_time_ms("reset 2031-05-06T07:08:09Z"), 0);
}

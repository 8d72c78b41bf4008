// The catalogs: both languages carry the same keys, every error code the code
// can answer has a text in each, and a request's language is picked by the
// documented rules.
#include "features/i18n.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "util/result.hpp"

namespace modelgate::core {
namespace {

const std::string kSource = MODELGATE_SOURCE_DIR;

Catalogs core_catalogs() {
    Catalogs c;
    c.load(kSource + "/locales");
    return c;
}

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The error codes of make_error(kind, message, "code") calls: the string
// literal right before the call's closing parenthesis.
std::set<std::string> error_codes_in(const std::string& text) {
    std::set<std::string> out;
    static const std::regex code(R"re("([a-z][a-z0-9_]*)"\s*$)re");
    for (std::size_t at = text.find("make_error("); at != std::string::npos;
         at = text.find("make_error(", at + 1)) {
        std::size_t i = at + 11;
        int depth = 1;
        for (; i < text.size() && depth > 0; ++i) {
            if (text[i] == '"') {
                for (++i; i < text.size() && text[i] != '"'; ++i) {
                    if (text[i] == '\\') ++i;
                }
            } else if (text[i] == '(') {
                ++depth;
            } else if (text[i] == ')') {
                --depth;
            }
        }
        std::smatch m;
        std::string args = text.substr(at, i - 1 - at);
        if (std::regex_search(args, m, code)) out.insert(m[1]);
    }
    return out;
}

TEST(CatalogTest, EveryLanguageHasTheSameKeys) {
    Catalogs c = core_catalogs();
    ASSERT_TRUE(c.has_language("en"));
    ASSERT_TRUE(c.has_language("zh"));
    auto en = c.keys("en"), zh = c.keys("zh");
    std::vector<std::string> only_en, only_zh;
    std::set_difference(en.begin(), en.end(), zh.begin(), zh.end(), std::back_inserter(only_en));
    std::set_difference(zh.begin(), zh.end(), en.begin(), en.end(), std::back_inserter(only_zh));
    EXPECT_TRUE(only_en.empty()) << "missing in zh.json: " << ::testing::PrintToString(only_en);
    EXPECT_TRUE(only_zh.empty()) << "missing in en.json: " << ::testing::PrintToString(only_zh);
}

TEST(CatalogTest, EveryErrorCodeInTheCodeHasATextInEveryLanguage) {
    std::set<std::string> codes;
    for (const char* dir : {"core", "providers", "sdk"}) {
        for (const auto& e : std::filesystem::recursive_directory_iterator(kSource + "/" + dir)) {
            auto ext = e.path().extension();
            if (ext == ".cpp" || ext == ".hpp") codes.merge(error_codes_in(read(e.path())));
        }
    }
    for (int i = 0; i <= static_cast<int>(ErrorCode::shutting_down); ++i)
        codes.insert(default_error_code(static_cast<ErrorCode>(i)));
    ASSERT_GT(codes.size(), 40u) << "the scan found too few codes to be working";
    Catalogs c = core_catalogs();
    for (const auto& code : codes) {
        for (const char* lang : {"en", "zh"}) {
            EXPECT_TRUE(c.find(lang, "error." + code)) << lang << ".json lacks error." << code;
        }
    }
}

// The catalog keys of core jobs' texts: a job the core registers
// (add("x", "core", ...) or add_daily("x", "core", ...)) needs job.x.description
// and job.x.summary; job_outcome("x", "what", ...) needs job.x.what.
std::set<std::string> job_keys_in(const std::string& text) {
    std::set<std::string> out;
    static const std::regex registered(R"re(add(?:_daily)?\(\s*"([a-z0-9_]+)"\s*,\s*"core")re");
    static const std::regex outcome(R"re(job_outcome\(\s*"([a-z0-9_]+)"\s*,\s*"([a-z_]+)")re");
    for (std::sregex_iterator it(text.begin(), text.end(), registered), end; it != end; ++it) {
        out.insert("job." + (*it)[1].str() + ".description");
        out.insert("job." + (*it)[1].str() + ".summary");
    }
    for (std::sregex_iterator it(text.begin(), text.end(), outcome), end; it != end; ++it)
        out.insert("job." + (*it)[1].str() + "." + (*it)[2].str());
    return out;
}

TEST(CatalogTest, EveryCoreJobTextHasATextInEveryLanguage) {
    std::set<std::string> keys;
    for (const auto& e : std::filesystem::recursive_directory_iterator(kSource + "/core")) {
        auto ext = e.path().extension();
        if (ext == ".cpp" || ext == ".hpp") keys.merge(job_keys_in(read(e.path())));
    }
    // The scan sees the jobs the App and the scheduler register.
    for (const char* job :
         {"cleanup_stale_pending", "sync_provider_models", "expire_admin_sessions",
          "aggregate_daily_stats", "catch_up_daily_stats", "archive_request_logs",
          "scheduler_housekeeping"})
        EXPECT_TRUE(keys.count(std::string("job.") + job + ".description")) << job;
    EXPECT_TRUE(keys.count("job.archive_request_logs.summary_purged"));
    Catalogs c = core_catalogs();
    for (const auto& key : keys) {
        for (const char* lang : {"en", "zh"})
            EXPECT_TRUE(c.find(lang, key)) << lang << ".json lacks " << key;
    }
}

TEST(CatalogTest, FormatFillsPlaceholdersAndLeavesUnknownOnes) {
    Catalogs c = core_catalogs();
    EXPECT_EQ(
        c.format("en", "job.archive_request_logs.summary", {{"moved", "12"}, {"batches", "1"}}),
        "12 rows archived in 1 batches");
    EXPECT_EQ(c.format("zh", "job.expire_admin_sessions.summary", {{"rows", "3"}}),
              "已删除 3 个过期会话");
    // A missing value leaves its placeholder; a lone brace is kept as it is.
    EXPECT_EQ(c.format("en", "job.expire_admin_sessions.summary", {}),
              "{rows} expired sessions removed");
    EXPECT_EQ(c.format("en", "no.such.key {x", {{"x", "1"}}), "no.such.key {x");
}

TEST(CatalogTest, TheScanFindsCodesWrittenOverSeveralLines) {
    auto codes = error_codes_in(
        "return make_error(ErrorCode::conflict,\n  \"a (nested) \\\"text\\\"\" + f(x),\n"
        "  \"some_code\");\nmake_error(k, body[\"message\"]);");
    EXPECT_EQ(codes, (std::set<std::string>{"some_code"}));
}

TEST(CatalogTest, TheLanguageComesFromQueryThenCookieThenAcceptLanguage) {
    Catalogs c = core_catalogs();
    EXPECT_EQ(c.pick("zh", "en", "en"), "zh");
    EXPECT_EQ(c.pick("", "zh", "en-US"), "zh");
    EXPECT_EQ(c.pick("xx", "", "zh-CN,zh;q=0.9,en;q=0.8"), "zh");
    EXPECT_EQ(c.pick("", "", "fr-FR, en;q=0.5, zh;q=0.7"), "zh");
    EXPECT_EQ(c.pick("", "", "fr-FR, de"), "en");
    EXPECT_EQ(c.pick("", "", "zh;q=0"), "en");
    EXPECT_EQ(c.pick("", "", ""), "en");
    EXPECT_EQ(c.pick("ZH", "", ""), "zh");
}

TEST(CatalogTest, PluginCatalogsAddKeysOnlyInTheirNamespace) {
    auto dir = std::filesystem::temp_directory_path() / "mg-i18n-test";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "zh.json") << R"({"analysis.title": "错误分析", "error.not_found": "改写",
                                         "other.key": "x"})";
    Catalogs c = core_catalogs();
    std::string before = c.text("zh", "error.not_found");
    EXPECT_EQ(c.merge(dir.string(), "analysis"), 1u);
    EXPECT_EQ(c.text("zh", "analysis.title"), "错误分析");
    EXPECT_EQ(c.text("zh", "error.not_found"), before);
    EXPECT_FALSE(c.find("zh", "other.key"));
    EXPECT_EQ(c.text("en", "analysis.title"), "analysis.title");  // no English: the key
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace modelgate::core

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <modelgate/header_block.hpp>
#include <modelgate/host/adapter.hpp>
#include <modelgate/host/loader.hpp>
#include <modelgate/json_limits.hpp>
#include <modelgate/sink.hpp>
#include <modelgate/testkit/testkit.hpp>
#include <random>
#include <set>
#include <sstream>

// The kit is a host of its own: its handle carries nothing.
struct mg_plugin_handle {
    int unused = 0;
};

namespace modelgate::testkit {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------
// A minimal host: logging to stderr; feature services answer "not here".
// ---------------------------------------------------------------------------

void host_log(mg_plugin_handle*, int32_t level, mg_str message) {
    if (level >= MG_LOG_WARN)
        std::cerr << "[plugin] " << std::string(message.data, message.len) << "\n";
}
// What a feature plugin registers in init, recorded instead of served.
struct Registrations {
    struct Route {
        std::string method, prefix;
        int32_t access = 0;
    };
    std::vector<Route> routes;
    std::vector<std::string> migrations;                          // each migrate() call's JSON
    std::vector<std::pair<std::string, int64_t>> jobs;            // name, interval in seconds
    std::vector<std::pair<std::string, std::string>> daily_jobs;  // name, "HH:MM"
    std::vector<std::string> task_kinds;
};
Registrations& recorded() {
    static Registrations r;
    return r;
}
std::string text(mg_str s) {
    return std::string(s.data == nullptr ? "" : s.data, s.len);
}
int32_t record_route(mg_plugin_handle*, mg_str method, mg_str prefix, int32_t access, mg_route_fn,
                     void*) noexcept {
    recorded().routes.push_back({text(method), text(prefix), access});
    return MG_OK;
}
int32_t record_migrate(mg_plugin_handle*, mg_str migrations, const mg_sink*) noexcept {
    recorded().migrations.push_back(text(migrations));
    return MG_OK;
}
int32_t record_job(mg_plugin_handle*, mg_str name, int64_t interval, mg_job_fn, void*) noexcept {
    recorded().jobs.push_back({text(name), interval});
    return MG_OK;
}
int32_t record_daily_job(mg_plugin_handle*, mg_str name, mg_str at, mg_job_fn, void*) noexcept {
    recorded().daily_jobs.push_back({text(name), text(at)});
    return MG_OK;
}
int32_t record_task_kind(mg_plugin_handle*, mg_str kind, mg_task_fn, void*) noexcept {
    recorded().task_kinds.push_back(text(kind));
    return MG_OK;
}

// The standalone host, with a feature plugin's registrations recorded.
mg_host_api kit_host() {
    mg_host_api h = host::standalone_host_api("testkit", &host_log);
    h.register_route = &record_route;
    h.migrate = &record_migrate;
    h.register_job = &record_job;
    h.register_daily_job = &record_daily_job;
    h.register_task_kind = &record_task_kind;
    return h;
}
const mg_host_api kHost = kit_host();

struct Loaded {
    mg_plugin_handle handle;
    host::LoadResult result;
};

// One load per plugin path for the whole run (the loader keeps libraries mapped).
const Loaded& load(const std::string& path) {
    static std::map<std::string, std::unique_ptr<Loaded>> cache;
    auto& slot = cache[path];
    if (!slot) {
        slot = std::make_unique<Loaded>();
        slot->result = host::load_plugin(path, &kHost, &slot->handle);
    }
    return *slot;
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

int32_t op_of(const std::string& name) {
    if (name == "embeddings") return MG_OP_EMBEDDINGS;
    if (name == "list_models") return MG_OP_LIST_MODELS;
    return MG_OP_CHAT;
}

const char* class_name(int32_t c) {
    switch (c) {
        case MG_ERRCLASS_INVALID_REQUEST:
            return "invalid_request";
        case MG_ERRCLASS_AUTH:
            return "auth";
        case MG_ERRCLASS_PERMISSION:
            return "permission";
        case MG_ERRCLASS_NOT_FOUND:
            return "not_found";
        case MG_ERRCLASS_RATE_LIMITED:
            return "rate_limited";
        case MG_ERRCLASS_QUOTA:
            return "quota";
        case MG_ERRCLASS_RETRYABLE:
            return "retryable";
        default:
            return "upstream";
    }
}

const char* kind_name(int32_t k) {
    switch (k) {
        case MG_EVENT_CHUNK:
            return "chunk";
        case MG_EVENT_USAGE:
            return "usage";
        case MG_EVENT_DONE:
            return "done";
        case MG_EVENT_ERROR:
            return "error";
        case MG_EVENT_TEXT:
            return "text";
        default:
            return "?";
    }
}

// True when actual contains everything expected: objects by key (recursively),
// arrays element by element with equal length, scalars by value. The expected
// string "<any>" matches any non-null value.
bool contains(const json& actual, const json& expected, std::string& where,
              const std::string& path = "$") {
    if (expected.is_string() && expected.get<std::string>() == "<any>") {
        if (actual.is_null()) {
            where = path + " is null";
            return false;
        }
        return true;
    }
    if (expected.is_object()) {
        if (!actual.is_object()) {
            where = path + " is not an object";
            return false;
        }
        for (const auto& [k, v] : expected.items()) {
            auto it = actual.find(k);
            if (it == actual.end()) {
                if (v.is_null()) continue;
                where = path + "." + k + " is missing";
                return false;
            }
            if (!contains(*it, v, where, path + "." + k)) return false;
        }
        return true;
    }
    if (expected.is_array()) {
        if (!actual.is_array() || actual.size() != expected.size()) {
            where = path + " has " +
                    (actual.is_array() ? std::to_string(actual.size()) : std::string("no")) +
                    " elements, expected " + std::to_string(expected.size());
            return false;
        }
        for (std::size_t i = 0; i < expected.size(); ++i) {
            if (!contains(actual[i], expected[i], where, path + "[" + std::to_string(i) + "]"))
                return false;
        }
        return true;
    }
    if (actual != expected) {
        where = path + " is " + actual.dump() + ", expected " + expected.dump();
        return false;
    }
    return true;
}

std::string header_lookup(const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& name) {
    for (const auto& [k, v] : headers) {
        if (modelgate::sdk::headers::equal_names(k, name)) return v;
    }
    return "\x01missing";
}

struct Event {
    int32_t kind;
    uint32_t flags;
    std::string data;
    bool operator==(const Event& o) const {
        return kind == o.kind && flags == o.flags && data == o.data;
    }
};

std::vector<Event> decode(const host::Adapter& a, const host::Call& call, const std::string& bytes,
                          const std::vector<std::size_t>& cuts) {
    auto dec = a.open_stream(call);
    std::vector<Event> out;
    if (!dec.ok()) {
        ADD_FAILURE() << "stream_open failed: " << dec.failure->message;
        return out;
    }
    auto on = [&](int32_t k, uint32_t f, std::string_view d) {
        out.push_back({k, f, std::string(d)});
    };
    std::size_t start = 0;
    for (std::size_t c : cuts) {
        dec.value->feed(std::string_view(bytes).substr(start, c - start), on);
        start = c;
    }
    dec.value->feed(std::string_view(bytes).substr(start), on);
    dec.value->finish(on);
    return out;
}

std::string describe(const std::vector<Event>& events) {
    std::string s;
    for (const auto& e : events) {
        s += std::string(kind_name(e.kind)) + (e.flags ? "(usage-only)" : "") + " " +
             e.data.substr(0, 200) + "\n";
    }
    return s;
}

class FixtureTest : public ::testing::Test {
  public:
    FixtureTest(std::string plugin, std::string file)
        : plugin_(std::move(plugin)), file_(std::move(file)) {}

    void TestBody() override {
        const auto& loaded = load(plugin_);
        ASSERT_TRUE(loaded.result.plugin) << loaded.result.refusal;
        std::ifstream in(file_);
        std::stringstream ss;
        ss << in.rdbuf();
        json f = modelgate::sdk::parse_json(ss.str());
        ASSERT_TRUE(f.is_object()) << file_ << " is not a JSON object";
        json config = f.value("config", json::object());
        auto adapter =
            host::Adapter::create(*loaded.result.plugin, config.value("name", "fixture"),
                                  config.value("base_url", "https://upstream.example/v1"),
                                  config.value("options", json::object()));
        if (f.contains("expect_create_error")) {
            ASSERT_FALSE(adapter.ok()) << "the configuration should be refused";
            EXPECT_NE(adapter.failure->message.find(f["expect_create_error"].get<std::string>()),
                      std::string::npos)
                << adapter.failure->message;
            return;
        }
        ASSERT_TRUE(adapter.ok()) << adapter.failure->message;
        const host::Adapter& a = *adapter.value;

        json c = f.value("call", json::object());
        host::Call call;
        call.op = op_of(c.value("op", "chat"));
        call.stream = c.value("stream", false);
        call.model = c.value("model", "");
        if (c.contains("body"))
            call.body = c["body"].is_string() ? c["body"].get<std::string>() : c["body"].dump();

        if (f.contains("expect_request") || f.contains("expect_request_error")) {
            auto r = a.build_request(call);
            if (f.contains("expect_request_error")) {
                ASSERT_FALSE(r.ok()) << "build_request should refuse this request";
                EXPECT_NE(r.failure->message.find(f["expect_request_error"].get<std::string>()),
                          std::string::npos)
                    << r.failure->message;
                return;
            }
            ASSERT_TRUE(r.ok()) << r.failure->message;
            const json& e = f["expect_request"];
            if (e.contains("method")) {
                EXPECT_EQ(r->method, e["method"].get<std::string>());
            }
            if (e.contains("url")) {
                EXPECT_EQ(r->url, e["url"].get<std::string>());
            }
            if (e.contains("stream")) {
                EXPECT_EQ(r->stream, e["stream"].get<bool>());
            }
            if (e.contains("secret")) {
                static const std::map<std::string, int32_t> names = {{"none", MG_SECRET_NONE},
                                                                     {"bearer", MG_SECRET_BEARER},
                                                                     {"header", MG_SECRET_HEADER}};
                EXPECT_EQ(r->secret_placement, names.at(e["secret"].get<std::string>()));
            }
            if (e.contains("secret_header")) {
                EXPECT_EQ(r->secret_header, e["secret_header"].get<std::string>());
            }
            const json expected_headers = e.value("headers", json::object());
            for (const auto& [name, value] : expected_headers.items()) {
                if (value.is_null()) {
                    EXPECT_EQ(header_lookup(r->headers, name), "\x01missing")
                        << "header " << name << " must be absent";
                } else {
                    EXPECT_EQ(header_lookup(r->headers, name), value.get<std::string>())
                        << "header " << name;
                }
            }
            if (e.contains("body") || e.contains("body_contains")) {
                json body = modelgate::sdk::parse_json(r->body);
                ASSERT_FALSE(body.is_discarded()) << "the upstream body is not JSON: " << r->body;
                if (e.contains("body")) {
                    EXPECT_EQ(body, e["body"]) << body.dump(2);
                }
                std::string where;
                if (e.contains("body_contains")) {
                    EXPECT_TRUE(contains(body, e["body_contains"], where)) << where << "\n"
                                                                           << body.dump(2);
                }
            }
        }

        if (!f.contains("upstream")) return;
        const json& up = f["upstream"];
        int status = up.value("status", 200);
        std::vector<modelgate::sdk::headers::Header> header_list;
        const json upstream_headers = up.value("headers", json::object());
        for (const auto& [k, v] : upstream_headers.items())
            header_list.emplace_back(k, v.get<std::string>());
        std::string headers = modelgate::sdk::headers::write(header_list);
        std::string body = up.contains("body_json") ? up["body_json"].dump() : up.value("body", "");
        if (up.contains("body_lines")) {
            for (const auto& line : up["body_lines"])
                body += line.get<std::string>();
        }

        if (f.contains("expect_events") || f.contains("expect_text")) {
            auto whole = decode(a, call, body, {});
            std::vector<Event> without_text;
            std::string text;
            for (const auto& e : whole) {
                if (e.kind == MG_EVENT_TEXT)
                    text += e.data;
                else
                    without_text.push_back(e);
            }
            if (f.contains("expect_text")) {
                EXPECT_EQ(text, f["expect_text"].get<std::string>());
            }
            if (f.contains("expect_events")) {
                const json& want = f["expect_events"];
                ASSERT_EQ(without_text.size(), want.size()) << "events (text events left out):\n"
                                                            << describe(without_text);
                for (std::size_t i = 0; i < want.size(); ++i) {
                    const json& w = want[i];
                    const Event& got = without_text[i];
                    EXPECT_STREQ(kind_name(got.kind), w.value("kind", "").c_str()) << "event " << i;
                    EXPECT_EQ((got.flags & MG_CHUNK_USAGE_ONLY) != 0, w.value("usage_only", false))
                        << "event " << i;
                    if (w.contains("data")) {
                        json data = modelgate::sdk::parse_json(got.data);
                        std::string where;
                        EXPECT_TRUE(contains(data, w["data"], where))
                            << "event " << i << ": " << where << "\n"
                            << got.data;
                    }
                }
            }
            // The same bytes split anywhere must decode the same.
            for (std::size_t cut = 1; cut < body.size(); ++cut) {
                auto split = decode(a, call, body, {cut});
                ASSERT_EQ(split, whole) << "split at byte " << cut << ":\n" << describe(split);
            }
            std::vector<std::size_t> every;
            for (std::size_t i = 1; i < body.size(); ++i)
                every.push_back(i);
            EXPECT_EQ(decode(a, call, body, every), whole) << "fed one byte at a time";
            return;
        }

        if (f.contains("expect_response")) {
            auto parsed = a.parse_response(call, status, body);
            ASSERT_TRUE(parsed.ok()) << parsed.failure->message;
            json out = modelgate::sdk::parse_json(parsed->body);
            std::string where;
            const json& e = f["expect_response"];
            if (e.contains("body")) {
                EXPECT_TRUE(contains(out, e["body"], where)) << where << "\n" << out.dump(2);
            }
            if (e.contains("usage")) {
                json usage =
                    modelgate::sdk::parse_json(parsed->usage.empty() ? "null" : parsed->usage);
                EXPECT_TRUE(contains(usage, e["usage"], where)) << where << "\n" << parsed->usage;
            }
        }
        if (f.contains("expect_error")) {
            const json& e = f["expect_error"];
            if (status >= 200 && status < 300) {
                auto parsed = a.parse_response(call, status, body);
                EXPECT_EQ(parsed.status(), MG_ERR_UPSTREAM)
                    << "a 2xx error body must be reported as MG_ERR_UPSTREAM";
            }
            auto cls = a.classify_error(status, headers, body);
            if (e.contains("class")) {
                EXPECT_STREQ(class_name(cls.error_class), e["class"].get<std::string>().c_str());
            }
            if (e.contains("retry_after_ms")) {
                EXPECT_EQ(cls.retry_after_ms, e["retry_after_ms"].get<int64_t>());
            }
            if (e.contains("reset_at_unix_ms")) {
                EXPECT_EQ(cls.reset_at_unix_ms, e["reset_at_unix_ms"].get<int64_t>());
            }
            std::string where;
            if (e.contains("error")) {
                EXPECT_TRUE(contains(cls.error, e["error"], where)) << where << "\n"
                                                                    << cls.error.dump(2);
            }
        }
    }

  private:
    std::string plugin_, file_;
};

json first_config(const std::string& fixtures_dir) {
    std::error_code ec;
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(fixtures_dir, ec)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        std::ifstream in(file);
        std::stringstream ss;
        ss << in.rdbuf();
        json f = modelgate::sdk::parse_json(ss.str());
        if (f.is_object() && f.contains("config") && !f.contains("expect_create_error"))
            return f["config"];
    }
    return json::object();
}

// ---------------------------------------------------------------------------
// Feature plugins
// ---------------------------------------------------------------------------

// Runs the plugin's init once, with its schema's defaults, on the recording
// host; the status and error of that one run.
struct InitOutcome {
    int32_t status = MG_ERR_INTERNAL;
    std::string error;
};
const InitOutcome& init_once(const std::string& path) {
    static std::map<std::string, InitOutcome> done;
    auto it = done.find(path);
    if (it != done.end()) return it->second;
    InitOutcome& out = done[path];
    const auto& l = load(path);
    if (!l.result.plugin || l.result.plugin->feature == nullptr) {
        out.error = "not a feature plugin: " + l.result.refusal;
        return out;
    }
    json config = json::object();
    std::string bad = host::validate_options(l.result.plugin->config_schema, config);
    if (!bad.empty()) {
        out.error = "its option schema does not validate its own defaults: " + bad;
        return out;
    }
    modelgate::sdk::StringSink err;
    std::string cfg = config.dump();
    out.status = l.result.plugin->feature->init(const_cast<mg_plugin_handle*>(&l.handle),
                                                {cfg.data(), cfg.size()}, err.get());
    out.error = err.data;
    return out;
}

// The object names a SQL script creates, alters or drops (tables, indexes,
// views, triggers, sequences): the word after CREATE [UNIQUE] TABLE|INDEX|...
// [IF [NOT] EXISTS], ALTER ..., DROP ... . Words are runs of letters, digits,
// '_' and '"'.
std::vector<std::string> object_names(const std::string& sql) {
    std::vector<std::string> words;
    std::string word;
    for (char c : sql + " ") {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '"') {
            word += c;
        } else if (!word.empty()) {
            word.erase(std::remove(word.begin(), word.end(), '"'), word.end());
            words.push_back(word);
            word.clear();
        }
    }
    auto upper = [](std::string w) {
        for (char& c : w)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return w;
    };
    static const std::set<std::string> verbs = {"CREATE", "ALTER", "DROP"};
    static const std::set<std::string> kinds = {"TABLE", "INDEX", "VIEW", "TRIGGER", "SEQUENCE"};
    std::vector<std::string> out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (!verbs.count(upper(words[i]))) continue;
        std::size_t j = i + 1;
        if (j < words.size() && upper(words[j]) == "UNIQUE") ++j;
        if (j >= words.size() || !kinds.count(upper(words[j]))) continue;
        ++j;
        if (j < words.size() && upper(words[j]) == "IF") {
            ++j;
            if (j < words.size() && upper(words[j]) == "NOT") ++j;
            if (j < words.size() && upper(words[j]) == "EXISTS") ++j;
        }
        if (j < words.size()) out.push_back(words[j]);
    }
    return out;
}

bool is_hh_mm(const std::string& t) {
    auto digit = [&](std::size_t i) { return std::isdigit(static_cast<unsigned char>(t[i])) != 0; };
    return t.size() == 5 && digit(0) && digit(1) && t[2] == ':' && digit(3) && digit(4) &&
           std::stoi(t.substr(0, 2)) < 24 && std::stoi(t.substr(3, 2)) < 60;
}

template <class Body>
void register_feature_test(const std::string& suite, const char* name, const std::string& plugin,
                           Body body) {
    ::testing::RegisterTest(suite.c_str(), name, nullptr, nullptr, __FILE__, __LINE__,
                            [plugin, body]() -> ::testing::Test* {
                                struct T : ::testing::Test {
                                    std::string p;
                                    Body b;
                                    T(std::string path, Body fn) : p(std::move(path)), b(fn) {}
                                    void TestBody() override {
                                        const auto& o = init_once(p);
                                        ASSERT_EQ(o.status, MG_OK) << "init failed: " << o.error;
                                        b(p, *load(p).result.plugin);
                                    }
                                };
                                return new T(plugin, body);
                            });
}

void register_feature_tests(const std::string& plugin, const std::string& suite) {
    register_feature_test(
        suite, "InitRegistersWithItsDefaultConfiguration", plugin,
        [](const std::string&, const host::Plugin& p) {
            const auto& r = recorded();
            EXPECT_FALSE(r.routes.empty() && r.jobs.empty() && r.daily_jobs.empty() &&
                         r.task_kinds.empty())
                << p.id << " registered no route, job or task";
            for (const auto& route : r.routes)
                std::cout << "  route " << route.method << " " << route.prefix << " (access "
                          << route.access << ")\n";
            for (const auto& [name, at] : r.daily_jobs)
                std::cout << "  daily job " << p.id << ":" << name << " at " << at << "\n";
            for (const auto& [name, every] : r.jobs)
                std::cout << "  job " << p.id << ":" << name << " every " << every << " s\n";
            for (const auto& kind : r.task_kinds)
                std::cout << "  task kind " << kind << "\n";
        });
    register_feature_test(
        suite, "RoutesAreWellFormed", plugin, [](const std::string&, const host::Plugin&) {
            std::set<std::pair<std::string, std::string>> seen;
            static const std::set<std::string> methods = {"GET",    "POST", "PUT",    "PATCH",
                                                          "DELETE", "HEAD", "OPTIONS"};
            for (const auto& r : recorded().routes) {
                EXPECT_TRUE(methods.count(r.method)) << "method " << r.method;
                EXPECT_TRUE(!r.prefix.empty() && r.prefix.front() == '/' && r.prefix != "/")
                    << "prefix '" << r.prefix << "' must start with '/' and not be '/'";
                EXPECT_NE(r.prefix.rfind("/v1", 0), 0u) << r.prefix << ": /v1 is the proxy's";
                EXPECT_NE(r.prefix.rfind("/admin/api/auth", 0), 0u) << r.prefix;
                EXPECT_TRUE(r.access >= MG_ROUTE_PUBLIC && r.access <= MG_ROUTE_API_KEY)
                    << r.prefix << ": access " << r.access;
                EXPECT_TRUE(seen.insert({r.method, r.prefix}).second)
                    << r.method << " " << r.prefix << " registered twice";
            }
        });
    register_feature_test(
        suite, "MigrationsAreOrderedAndNamedForThePlugin", plugin,
        [](const std::string&, const host::Plugin& p) {
            std::string prefix = p.id + "_";
            std::replace(prefix.begin(), prefix.end(), '-', '_');
            EXPECT_LE(recorded().migrations.size(), 1u) << "migrate once, with every version";
            for (const auto& text : recorded().migrations) {
                json list = modelgate::sdk::parse_json(text);
                ASSERT_TRUE(list.is_array()) << text;
                int expected = 1;
                for (const auto& m : list) {
                    ASSERT_TRUE(m.is_object()) << m.dump();
                    EXPECT_EQ(m.value("version", 0), expected++) << "versions are 1, 2, 3, ...";
                    EXPECT_FALSE(m.value("name", "").empty()) << m.dump();
                    for (const char* dialect : {"postgresql", "sqlite"}) {
                        std::string sql = m.value(dialect, "");
                        EXPECT_FALSE(sql.empty()) << "version " << m.value("version", 0)
                                                  << " has no " << dialect << " script";
                        for (const auto& name : object_names(sql))
                            EXPECT_EQ(name.rfind(prefix, 0), 0u)
                                << dialect << " version " << m.value("version", 0) << ": " << name
                                << " must be named " << prefix << "...";
                    }
                }
            }
        });
    register_feature_test(
        suite, "JobsAndTasksAreWellFormed", plugin, [](const std::string&, const host::Plugin&) {
            std::set<std::string> names, kinds;
            for (const auto& [name, at] : recorded().daily_jobs) {
                EXPECT_TRUE(is_hh_mm(at)) << name << " at '" << at << "'";
                EXPECT_TRUE(!name.empty() && names.insert(name).second) << "job '" << name << "'";
            }
            for (const auto& [name, every] : recorded().jobs) {
                EXPECT_GE(every, 1) << name;
                EXPECT_TRUE(!name.empty() && names.insert(name).second) << "job '" << name << "'";
            }
            for (const auto& kind : recorded().task_kinds)
                EXPECT_TRUE(!kind.empty() && kinds.insert(kind).second) << "task '" << kind << "'";
        });
    register_feature_test(
        suite, "LocalesHaveTheKeysOfEnglish", plugin,
        [](const std::string& path, const host::Plugin& p) {
            std::filesystem::path so(path);
            auto dir = so.parent_path() / (so.stem().string() + ".locales");
            std::error_code ec;
            if (!std::filesystem::is_directory(dir, ec)) GTEST_SKIP() << "no " << dir;
            auto read = [](const std::filesystem::path& f) {
                std::ifstream in(f);
                std::stringstream ss;
                ss << in.rdbuf();
                return modelgate::sdk::parse_json(ss.str());
            };
            ASSERT_TRUE(std::filesystem::exists(dir / "en.json")) << dir << " needs en.json";
            json en = read(dir / "en.json");
            ASSERT_TRUE(en.is_object());
            for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
                if (entry.path().extension() != ".json") continue;
                json texts = read(entry.path());
                ASSERT_TRUE(texts.is_object()) << entry.path();
                for (const auto& [key, value] : texts.items()) {
                    EXPECT_EQ(key.rfind(p.id + ".", 0), 0u)
                        << entry.path() << ": " << key << " is not under " << p.id << ".";
                    EXPECT_TRUE(value.is_string()) << entry.path() << ": " << key;
                    EXPECT_TRUE(en.contains(key)) << entry.path() << ": " << key << " not in en";
                }
                for (const auto& [key, value] : en.items())
                    EXPECT_TRUE(texts.contains(key)) << entry.path() << " lacks " << key;
            }
        });
}

}  // namespace

bool parse_args(int argc, char** argv, Options& out, std::string& error) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--fixtures" && i + 1 < argc) {
            out.fixtures_dir = argv[++i];
        } else if (a == "--rounds" && i + 1 < argc) {
            out.create_destroy_rounds = std::atoi(argv[++i]);
        } else if (!a.empty() && a[0] != '-' && out.plugin_path.empty()) {
            out.plugin_path = a;
        } else {
            error = "unexpected argument '" + a + "'";
            return false;
        }
    }
    if (out.plugin_path.empty()) {
        error = "the plugin's .so path is required";
        return false;
    }
    return true;
}

void register_conformance_tests(const Options& options) {
    const std::string plugin = options.plugin_path;
    const std::string suite = "Conformance/" + std::filesystem::path(plugin).stem().string();
    if (const auto& l = load(plugin); l.result.plugin && l.result.plugin->kind == MG_KIND_FEATURE) {
        register_feature_tests(plugin, suite);
        return;
    }
    json config =
        options.fixtures_dir.empty() ? json::object() : first_config(options.fixtures_dir);
    auto make_adapter = [plugin, config]() -> std::shared_ptr<host::Adapter> {
        const auto& loaded = load(plugin);
        if (!loaded.result.plugin) return nullptr;
        auto a = host::Adapter::create(*loaded.result.plugin, config.value("name", "conformance"),
                                       config.value("base_url", "https://upstream.example/v1"),
                                       config.value("options", json::object()));
        EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.failure->message);
        return a.ok() ? a.value : nullptr;
    };

    ::testing::RegisterTest(suite.c_str(), "LoadsThroughTheGatewayLoader", nullptr, nullptr,
                            __FILE__, __LINE__, [plugin]() -> ::testing::Test* {
                                struct T : ::testing::Test {
                                    std::string p;
                                    explicit T(std::string path) : p(std::move(path)) {}
                                    void TestBody() override {
                                        const auto& l = load(p);
                                        ASSERT_TRUE(l.result.plugin)
                                            << "refused: " << l.result.refusal;
                                        EXPECT_EQ(l.result.plugin->kind, MG_KIND_PROVIDER)
                                            << "the kit checks provider adapters";
                                    }
                                };
                                return new T(plugin);
                            });

    ::testing::RegisterTest(
        suite.c_str(), "DescriptorIsSane", nullptr, nullptr, __FILE__, __LINE__,
        [plugin]() -> ::testing::Test* {
            struct T : ::testing::Test {
                std::string p;
                explicit T(std::string path) : p(std::move(path)) {}
                void TestBody() override {
                    const auto& l = load(p);
                    ASSERT_TRUE(l.result.plugin) << l.result.refusal;
                    const auto& d = *l.result.plugin;
                    EXPECT_FALSE(d.version.empty()) << "declare a version";
                    EXPECT_FALSE(d.display_name.empty());
                    EXPECT_NE(d.capabilities & (MG_CAP_CHAT | MG_CAP_CHAT_STREAM), 0u)
                        << "a provider should chat";
                    static const std::vector<std::string> types = {"string",  "integer", "number",
                                                                   "boolean", "object",  "array"};
                    for (const auto& field : d.config_schema) {
                        std::string name = field.value("name", "");
                        std::string type = field.value("type", "");
                        EXPECT_NE(std::find(types.begin(), types.end(), type), types.end())
                            << name << ": bad type " << type;
                        EXPECT_TRUE(field.contains("help") && field["help"].is_string())
                            << name << ": document it (help)";
                        if (field.contains("default") && !field["default"].is_null()) {
                            json probe = json::object();
                            probe[name] = field["default"];
                            EXPECT_EQ(host::validate_options(d.config_schema, probe), "")
                                << name << ": default of the wrong type";
                        }
                    }
                }
            };
            return new T(plugin);
        });

    ::testing::RegisterTest(
        suite.c_str(), "CommonErrorsAreClassified", nullptr, nullptr, __FILE__, __LINE__,
        [make_adapter]() -> ::testing::Test* {
            struct T : ::testing::Test {
                std::function<std::shared_ptr<host::Adapter>()> make;
                explicit T(std::function<std::shared_ptr<host::Adapter>()> m)
                    : make(std::move(m)) {}
                void TestBody() override {
                    auto a = make();
                    ASSERT_TRUE(a);
                    auto rl = a->classify_error(429, "retry-after: 3\n",
                                                R"({"error":{"message":"slow down"}})");
                    EXPECT_EQ(rl.error_class, MG_ERRCLASS_RATE_LIMITED);
                    EXPECT_EQ(rl.retry_after_ms, 3000);
                    EXPECT_TRUE(rl.error.contains("message"));
                    EXPECT_EQ(a->classify_error(401, "", R"({"error":{"message":"bad key"}})")
                                  .error_class,
                              MG_ERRCLASS_AUTH);
                    auto html = a->classify_error(502, "", "<html>bad gateway</html>");
                    EXPECT_TRUE(html.error.contains("message"));
                }
            };
            return new T(make_adapter);
        });

    ::testing::RegisterTest(
        suite.c_str(), "GarbageComesBackAsErrors", nullptr, nullptr, __FILE__, __LINE__,
        [make_adapter]() -> ::testing::Test* {
            struct T : ::testing::Test {
                std::function<std::shared_ptr<host::Adapter>()> make;
                explicit T(std::function<std::shared_ptr<host::Adapter>()> m)
                    : make(std::move(m)) {}
                void TestBody() override {
                    auto a = make();
                    ASSERT_TRUE(a);
                    for (const char* body :
                         {"", "not json", "[]", "{\"messages\": 7}", "{\"model\": null}",
                          "{\"messages\":[{\"role\":\"user\",\"content\":{\"x\":[1,2,{}]}}]}"}) {
                        host::Call call;
                        call.model = "m";
                        call.body = body;
                        auto r = a->build_request(call);  // may accept or refuse, must not crash
                        if (!r.ok()) {
                            EXPECT_NE(r.failure->status, MG_OK);
                        }
                    }
                    host::Call chat;
                    chat.model = "m";
                    chat.body = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
                    for (const char* body : {"", "<html>", "{\"choices\": 5", "\xff\xfe garbage"}) {
                        EXPECT_FALSE(a->parse_response(chat, 200, body).ok())
                            << "accepted garbage: " << body;
                    }
                    // Random bytes into a stream decoder, split randomly: no crash, and the
                    // answer ends exactly once (done or error), with nothing after it.
                    std::mt19937 rng(42);
                    for (int round = 0; round < 20; ++round) {
                        std::string bytes(4096, '\0');
                        for (auto& ch : bytes)
                            ch = static_cast<char>(rng() % 256);
                        if (round % 2 == 0) bytes = "data: {\"choices\":[" + bytes;
                        auto dec = a->open_stream(chat);
                        ASSERT_TRUE(dec.ok());
                        int terminal = 0, after = 0;
                        auto on = [&](int32_t k, uint32_t, std::string_view) {
                            if (terminal > 0) ++after;
                            if (k == MG_EVENT_DONE || k == MG_EVENT_ERROR) ++terminal;
                        };
                        std::size_t pos = 0;
                        while (pos < bytes.size()) {
                            std::size_t n = 1 + rng() % 300;
                            dec.value->feed(std::string_view(bytes).substr(pos, n), on);
                            pos += n;
                        }
                        dec.value->finish(on);
                        EXPECT_GE(terminal, 1) << "a stream must end with done or error";
                        EXPECT_EQ(after, 0) << "events after the end of the answer";
                    }
                }
            };
            return new T(make_adapter);
        });

    int rounds = options.create_destroy_rounds;
    ::testing::RegisterTest(
        suite.c_str(), "CreateDestroyRepeatedly", nullptr, nullptr, __FILE__, __LINE__,
        [make_adapter, rounds]() -> ::testing::Test* {
            struct T : ::testing::Test {
                std::function<std::shared_ptr<host::Adapter>()> make;
                int n;
                T(std::function<std::shared_ptr<host::Adapter>()> m, int r)
                    : make(std::move(m)), n(r) {}
                void TestBody() override {
                    host::Call chat;
                    chat.stream = true;
                    chat.model = "m";
                    chat.body =
                        R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})";
                    for (int i = 0; i < n; ++i) {
                        auto a = make();
                        ASSERT_TRUE(a);
                        auto dec = a->open_stream(chat);
                        ASSERT_TRUE(dec.ok());
                        dec.value->feed("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n",
                                        [](int32_t, uint32_t, std::string_view) {});
                        // Closing a decoder mid-stream and destroying the adapter must be clean
                        // (ASan).
                    }
                }
            };
            return new T(make_adapter, rounds);
        });

    if (options.fixtures_dir.empty()) return;
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options.fixtures_dir, ec)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::string fixture_suite = suite + "/Fixtures";
    for (const auto& file : files) {
        std::string name = file.stem().string();
        std::replace_if(
            name.begin(), name.end(),
            [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
        std::string path = file.string();
        ::testing::RegisterTest(
            fixture_suite.c_str(), name.c_str(), nullptr, path.c_str(), __FILE__, __LINE__,
            [plugin, path]() -> ::testing::Test* { return new FixtureTest(plugin, path); });
    }
}

}  // namespace modelgate::testkit

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <modelgate/header_block.hpp>
#include <modelgate/host/adapter.hpp>
#include <modelgate/host/loader.hpp>
#include <modelgate/json_limits.hpp>
#include <modelgate/testkit/testkit.hpp>
#include <random>
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
const mg_host_api kHost = host::standalone_host_api("testkit", &host_log);

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

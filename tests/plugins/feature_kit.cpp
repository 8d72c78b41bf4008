// A feature plugin that exercises the host services of ABI 1.2 and 1.3: versioned
// migrations, statements in a transaction with typed rows, routes with {name}
// segments and query parameters, the base path, a daily job, LLM calls with a
// model list, a timeout and a key's attribution, sealed secrets and its data
// folder. Its configuration picks the migrations it offers, so a test can
// upgrade, downgrade and break them.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <modelgate/sdk.hpp>
#include <mutex>
#include <sstream>
#include <thread>

using modelgate::sdk::HttpRequest;
using modelgate::sdk::HttpResponse;
using modelgate::sdk::json;
using modelgate::sdk::RouteAccess;

namespace {

std::vector<modelgate::sdk::Migration> migrations(int64_t newest, bool misnamed) {
    std::vector<modelgate::sdk::Migration> all = {
        {1, "notes",
         "CREATE TABLE kit_notes (id BIGINT PRIMARY KEY, note TEXT NOT NULL, score DOUBLE "
         "PRECISION);"
         "CREATE INDEX kit_notes_score ON kit_notes (score)",
         "CREATE TABLE kit_notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL, score REAL);"
         "CREATE INDEX kit_notes_score ON kit_notes (score)"},
        {2, "note tags", "ALTER TABLE kit_notes ADD COLUMN tag TEXT",
         "ALTER TABLE kit_notes ADD COLUMN tag TEXT"},
    };
    all.resize(static_cast<std::size_t>(newest));
    if (misnamed) {
        all.push_back({static_cast<int>(newest) + 1, "a table of another's",
                       "CREATE TABLE notes (id BIGINT)", "CREATE TABLE notes (id INTEGER)"});
    }
    return all;
}

json row_json(const modelgate::sdk::Row& r) {
    json j = {{"id", r.integer("id")}, {"note", r.text("note")}};
    auto score = r.optional_real("score");
    j["score"] = score ? json(*score) : json(nullptr);
    return j;
}

}  // namespace

class KitPlugin : public modelgate::sdk::FeaturePlugin {
  public:
    void init(modelgate::sdk::Host& host, const json& config) override {
        host_ = &host;
        host.migrate(
            migrations(config.value("migrations", 1), config.value("misnamed_migration", false)));
        host.route("GET", "/plugins/kit/notes/{id}", RouteAccess::admin,
                   [this](const HttpRequest& req) { return note(req.params.at("id")); });
        host.route("GET", "/plugins/kit/notes/{id}/text", RouteAccess::admin,
                   [this](const HttpRequest& req) {
                       HttpResponse r = note(req.params.at("id"));
                       if (r.status == 200) {
                           r.body = json::parse(r.body)["note"].get<std::string>();
                           r.content_type = "text/plain; charset=utf-8";
                       }
                       return r;
                   });
        host.route("GET", "/plugins/kit/notes/count", RouteAccess::admin,
                   [this](const HttpRequest&) {
                       auto r = host_->query("SELECT COUNT(*) AS n FROM kit_notes");
                       return HttpResponse::json_body({{"count", r[0].integer("n")}});
                   });
        host.route("GET", "/plugins/kit/notes", RouteAccess::admin,
                   [this](const HttpRequest& req) { return list(req); });
        host.route("POST", "/plugins/kit/notes", RouteAccess::admin,
                   [this](const HttpRequest& req) { return add(req); });
        host.route("POST", "/plugins/kit/ask", RouteAccess::admin, [this](const HttpRequest& req) {
            json body = json::parse(req.body);
            modelgate::sdk::LlmOptions options;
            options.models = body.value("models", std::vector<std::string>{});
            options.timeout_ms = body.value("timeout_ms", int64_t{120000});
            options.api_key_id = body.value("api_key_id", int64_t{0});
            auto result = host_->llm_call(body["request"], options);
            return HttpResponse::json_body({{"status", result.status},
                                            {"ok", result.ok()},
                                            {"content", result.content()},
                                            {"answer", result.response},
                                            {"error", result.error}});
        });
        host.route("POST", "/plugins/kit/seal", RouteAccess::admin, [this](const HttpRequest& req) {
            std::string text = json::parse(req.body)["text"];
            std::string sealed = host_->seal(text);
            std::string altered = sealed;
            altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
            return HttpResponse::json_body(
                {{"sealed", sealed},
                 {"opened", host_->open_sealed(sealed).value_or("(nothing)")},
                 {"altered_opens", host_->open_sealed(altered).has_value()}});
        });
        host.route("POST", "/plugins/kit/files/{name}", RouteAccess::admin,
                   [this](const HttpRequest& req) {
                       std::string path = host_->data_dir() + "/" + req.params.at("name");
                       std::ofstream(path) << req.body;
                       std::ifstream in(path);
                       std::stringstream back;
                       back << in.rdbuf();
                       return HttpResponse::json_body({{"path", path}, {"content", back.str()}});
                   });
        host.route("GET", "/plugins/kit/where", RouteAccess::public_, [](const HttpRequest& req) {
            return HttpResponse::json_body(
                {{"base_path", std::string(req.base_path)}, {"path", std::string(req.path)}});
        });
        // The admin API read in-process (ABI 1.3): what api_get answered.
        host.route("GET", "/plugins/kit/api", RouteAccess::admin, [this](const HttpRequest& req) {
            auto r = host_->api_get(req.query_param("target").value_or(""));
            return HttpResponse::json_body({{"status", r.status}, {"body", r.body}});
        });
        // Streamed answers (ABI 1.3): n events written in the handler; or events
        // every 20 ms from a thread of the plugin's until the client leaves,
        // which /events/end then reports.
        host.route("GET", "/plugins/kit/events", RouteAccess::public_,
                   [this](const HttpRequest& req) {
                       auto stream = host_->open_stream(req, 200, "text/event-stream",
                                                        {{"Cache-Control", "no-cache"}});
                       int n = std::stoi(req.query_param("n").value_or("3"));
                       for (int i = 1; i <= n; ++i)
                           stream->event("tick " + std::to_string(i) + "\nline two", "tick",
                                         std::to_string(i));
                       stream->close();
                       return HttpResponse::json_body({{"ignored", true}}, 500);
                   });
        host.route("GET", "/plugins/kit/events/endless", RouteAccess::public_,
                   [this](const HttpRequest& req) {
                       auto stream = host_->open_stream(req);
                       std::lock_guard lock(threads_mu_);
                       writers_.emplace_back([this, stream] {
                           int sent = 0;
                           auto w = modelgate::sdk::Stream::Write::ok;
                           while (sent < 500 && !stopping_.load()) {
                               w = stream->event("tick " + std::to_string(sent + 1));
                               if (w == modelgate::sdk::Stream::Write::gone) break;
                               if (w == modelgate::sdk::Stream::Write::ok) ++sent;
                               std::this_thread::sleep_for(std::chrono::milliseconds(20));
                           }
                           stream->close();
                           std::lock_guard lock(threads_mu_);
                           stream_end_ = {{"sent", sent},
                                          {"gone", w == modelgate::sdk::Stream::Write::gone}};
                       });
                       return HttpResponse{};
                   });
        host.route("GET", "/plugins/kit/events/end", RouteAccess::public_,
                   [this](const HttpRequest&) {
                       std::lock_guard lock(threads_mu_);
                       return HttpResponse::json_body(stream_end_);
                   });
        // Outbound HTTP (ABI 1.3): one request, waited for; or n at once.
        host.route("POST", "/plugins/kit/fetch", RouteAccess::admin,
                   [this](const HttpRequest& req) {
                       json b = json::parse(req.body);
                       modelgate::sdk::FetchRequest f;
                       f.method = b.value("method", "GET");
                       f.url = b.value("url", "");
                       f.body = b.value("body", "");
                       f.timeout_ms = b.value("timeout_ms", int64_t{30000});
                       f.max_response_bytes = b.value("max_response_bytes", int64_t{8 << 20});
                       json headers = b.value("headers", json::object());
                       for (const auto& [name, value] : headers.items())
                           f.headers.push_back({name, value.get<std::string>()});
                       try {
                           auto r = host_->fetch(f);
                           return HttpResponse::json_body(
                               {{"status", r.status},
                                {"body", r.body},
                                {"error", r.error},
                                {"content_type", std::string(r.header("content-type"))}});
                       } catch (const std::exception& e) {
                           return HttpResponse::json_body({{"refused", e.what()}}, 400);
                       }
                   });
        host.route("POST", "/plugins/kit/fetch-many", RouteAccess::admin,
                   [this](const HttpRequest& req) {
                       json b = json::parse(req.body);
                       int n = b.value("n", 2);
                       struct Pending {
                           std::mutex mu;
                           std::condition_variable cv;
                           std::vector<int> statuses;
                       };
                       auto pending = std::make_shared<Pending>();
                       for (int i = 0; i < n; ++i) {
                           modelgate::sdk::FetchRequest f;
                           f.url = b.value("url", "");
                           f.timeout_ms = 10000;
                           host_->fetch(f, [pending](modelgate::sdk::FetchResult r) {
                               std::lock_guard lock(pending->mu);
                               pending->statuses.push_back(r.status);
                               pending->cv.notify_all();
                           });
                       }
                       std::unique_lock lock(pending->mu);
                       pending->cv.wait_for(lock, std::chrono::seconds(15), [&] {
                           return static_cast<int>(pending->statuses.size()) == n;
                       });
                       return HttpResponse::json_body({{"statuses", pending->statuses}});
                   });
        // After init the host refuses new routes: say what it answered.
        host.route("POST", "/plugins/kit/late", RouteAccess::admin, [this](const HttpRequest&) {
            std::string refused;
            try {
                host_->route("GET", "/plugins/kit/too-late", RouteAccess::public_,
                             [](const HttpRequest&) { return HttpResponse{}; });
            } catch (const std::exception& e) {
                refused = e.what();
            }
            return HttpResponse::json_body({{"refused", refused}});
        });
        // A background task that counts the notes in steps, reporting progress.
        host.register_task("count", [this](const modelgate::sdk::Host::Task& task,
                                           const json& input) {
            int steps = input.value("steps", 1);
            for (int i = 1; i <= steps; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(input.value("sleep_ms", 0)));
                task.progress({{"step", i}, {"of", steps}});
            }
            if (input.value("fail", false)) throw std::runtime_error("asked to fail");
            auto r = host_->query("SELECT COUNT(*) AS n FROM kit_notes");
            return json{{"notes", r[0].integer("n")}, {"task", task.id()}};
        });
        host.route("POST", "/plugins/kit/tasks", RouteAccess::admin,
                   [this](const HttpRequest& req) {
                       json body = json::parse(req.body);
                       auto started = host_->start_task("count", body.value("key", ""), body);
                       return HttpResponse::json_body(started.task, started.started ? 202 : 409);
                   });
        host.route("GET", "/plugins/kit/tasks/{id}", RouteAccess::admin,
                   [this](const HttpRequest& req) {
                       auto task = host_->task(std::stoll(req.params.at("id")));
                       return task ? HttpResponse::json_body(*task)
                                   : HttpResponse::json_body({{"error", "no such task"}}, 404);
                   });
        host.register_daily_job("digest", config.value("digest_at", "03:00"), [this] {
            auto r = host_->query("SELECT COUNT(*) AS n FROM kit_notes");
            return std::to_string(r[0].integer("n")) + " notes";
        });
    }

  private:
    HttpResponse note(const std::string& id) {
        auto r = host_->query("SELECT id, note, score FROM kit_notes WHERE id = :1",
                              json::array({std::stoll(id)}));
        if (r.empty())
            return HttpResponse::json_body({{"error", {{"message", "no note " + id}}}}, 404);
        return HttpResponse::json_body(row_json(r[0]));
    }

    HttpResponse list(const HttpRequest& req) {
        double min_score = std::stod(req.query_param("min_score").value_or("-1e300"));
        auto r = host_->query("SELECT id, note, score FROM kit_notes WHERE score >= :1 ORDER BY id",
                              json::array({min_score}));
        json notes = json::array();
        for (const auto& row : r)
            notes.push_back(row_json(row));
        return HttpResponse::json_body({{"notes", notes}, {"columns", r.columns()}});
    }

    // Every note of the body in one transaction: all of them or none.
    HttpResponse add(const HttpRequest& req) {
        json body = json::parse(req.body);
        std::vector<modelgate::sdk::Statement> statements;
        for (const auto& n : body["notes"]) {
            statements.push_back({"INSERT INTO kit_notes (id, note, score) VALUES (:1, :2, :3)",
                                  json::array({n["id"], n["note"], n.value("score", json())})});
        }
        statements.push_back({"SELECT COUNT(*) AS n FROM kit_notes"});
        try {
            auto results = host_->transaction(statements);
            return HttpResponse::json_body({{"count", results.back()[0].integer("n")}}, 201);
        } catch (const std::exception& e) {
            return HttpResponse::json_body({{"error", {{"message", e.what()}}}}, 409);
        }
    }

    modelgate::sdk::Host* host_ = nullptr;
    std::mutex threads_mu_;
    std::vector<std::thread> writers_;
    std::atomic<bool> stopping_{false};
    json stream_end_ = json::object();

  public:
    ~KitPlugin() override { shutdown(); }
    // The gateway stops: the writer threads end before the library may go.
    void shutdown() override {
        stopping_ = true;
        std::vector<std::thread> writers;
        {
            std::lock_guard lock(threads_mu_);
            writers.swap(writers_);
        }
        for (auto& t : writers)
            if (t.joinable()) t.join();
    }
};

MODELGATE_FEATURE_PLUGIN(
    KitPlugin, "kit", "0.2.0", "SDK kit test feature",
    R"([{"name": "migrations", "type": "integer", "default": 1, "help": "Newest version offered"},
        {"name": "misnamed_migration", "type": "boolean", "default": false, "help": "Offer a bad one"},
        {"name": "digest_at", "type": "string", "default": "03:00", "help": "Daily job time"}])");

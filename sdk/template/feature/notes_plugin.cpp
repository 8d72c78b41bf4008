// A minimal feature plugin to copy: its own table (one migration, in each SQL
// dialect), admin routes with a {name} segment, a daily job, and its texts in
// English and Chinese (notes.locales/ beside notes.so). The conformance kit
// checks what it registers (ctest); the gateway loads it from its plugin folder
// and serves its routes under the base path.
#include <ctime>
#include <modelgate/sdk.hpp>

using modelgate::sdk::Host;
using modelgate::sdk::HttpRequest;
using modelgate::sdk::HttpResponse;
using modelgate::sdk::json;
using modelgate::sdk::RouteAccess;

namespace {

// "YYYY-MM-DDTHH:MM:SSZ": sorts as it is timed.
std::string iso_utc(std::time_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

HttpResponse error(int status, const std::string& message) {
    return HttpResponse::json_body(
        {{"error", {{"message", message}, {"type", "invalid_request_error"}}}}, status);
}

class NotesPlugin : public modelgate::sdk::FeaturePlugin {
  public:
    void init(Host& host, const json& config) override {
        host_ = &host;
        keep_days_ = config.value("keep_days", 30);
        // Every table, index and view is named notes_...; versions only ever
        // grow: add {2, ...} for the next change, never edit version 1.
        host.migrate({{1, "items",
                       "CREATE TABLE notes_items (id BIGSERIAL PRIMARY KEY, text TEXT NOT NULL, "
                       "created_at VARCHAR(20) NOT NULL)",
                       "CREATE TABLE notes_items (id INTEGER PRIMARY KEY AUTOINCREMENT, text "
                       "TEXT NOT NULL, created_at TEXT NOT NULL)"}});
        host.route("GET", "/plugins/notes/items", RouteAccess::admin,
                   [this](const HttpRequest&) { return list(); });
        host.route("POST", "/plugins/notes/items", RouteAccess::admin,
                   [this](const HttpRequest& req) { return add(req); });
        host.route("GET", "/plugins/notes/items/{id}", RouteAccess::admin,
                   [this](const HttpRequest& req) { return one(req.params.at("id")); });
        host.register_daily_job("cleanup", config.value("cleanup_at", "04:00"),
                                [this] { return cleanup(); });
    }

  private:
    HttpResponse list() const {
        json items = json::array();
        for (const auto& r : host_->query(
                 "SELECT id, text, created_at FROM notes_items ORDER BY id DESC LIMIT 100"))
            items.push_back({{"id", r.integer("id")},
                             {"text", r.text("text")},
                             {"created_at", r.text("created_at")}});
        return HttpResponse::json_body({{"items", items}});
    }

    HttpResponse add(const HttpRequest& req) const {
        json body = modelgate::sdk::parse_json(req.body.empty() ? "{}" : req.body);
        if (!body.is_object() || !body.contains("text") || !body["text"].is_string() ||
            body["text"].get<std::string>().empty() ||
            body["text"].get<std::string>().size() > 4000)
            return error(400, "text (1 to 4000 characters) is required");
        auto rows =
            host_->query("INSERT INTO notes_items (text, created_at) VALUES (:1, :2) RETURNING id",
                         json::array({body["text"], iso_utc(std::time(nullptr))}));
        return HttpResponse::json_body({{"id", rows[0].integer("id")}}, 201);
    }

    HttpResponse one(const std::string& id) const {
        long long n = 0;
        try {
            n = std::stoll(id);
        } catch (const std::exception&) {
            return error(404, "no such note");
        }
        auto rows = host_->query("SELECT id, text, created_at FROM notes_items WHERE id = :1",
                                 json::array({n}));
        if (rows.empty()) return error(404, "no such note");
        const auto& r = rows[0];
        return HttpResponse::json_body({{"id", r.integer("id")},
                                        {"text", r.text("text")},
                                        {"created_at", r.text("created_at")}});
    }

    // The job's summary is shown in the scheduler's run history.
    std::string cleanup() const {
        std::string cutoff = iso_utc(std::time(nullptr) - std::time_t{keep_days_} * 86400);
        auto left = host_->query("DELETE FROM notes_items WHERE created_at < :1 RETURNING id",
                                 json::array({cutoff}));
        return host_->i18n("en", "notes.cleaned") + ": " + std::to_string(left.size());
    }

    Host* host_ = nullptr;
    int keep_days_ = 30;
};

}  // namespace

MODELGATE_FEATURE_PLUGIN(
    NotesPlugin, "notes", "1.0.0", "Notes",
    R"json([{"name": "keep_days", "type": "integer", "default": 30, "help": "Notes older than this many days are deleted by the daily cleanup"},
        {"name": "cleanup_at", "type": "string", "default": "04:00", "help": "Time of the daily cleanup (HH:MM, the gateway's time zone)"}])json");

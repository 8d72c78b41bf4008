// plugins/analysis: the daily AI error analysis (spec 9.1) as a feature plugin.
// The failure sample and the context-risk buckets are computed in code
// (rules.hpp); models write the report through the gateway's own pipeline in a
// map-reduce of chunk calls and one merge call, in a background task; the
// report is stored with its status, and the rule-based report answers whenever
// no model does. README.md documents the routes and the settings.
#include <ctime>
#include <modelgate/sdk.hpp>

#include "common.hpp"
#include "recommendations.hpp"
#include "rules.hpp"

using modelgate::analysis::CallRow;
using modelgate::analysis::error_body;
using modelgate::analysis::iso_utc;
using modelgate::analysis::locale_of;
using modelgate::analysis::value_or_null;
using modelgate::sdk::Host;
using modelgate::sdk::HttpRequest;
using modelgate::sdk::HttpResponse;
using modelgate::sdk::json;
using modelgate::sdk::RouteAccess;

namespace {

constexpr int kMaxDayRows = 200000;  // rows of a day read for the context buckets
constexpr std::size_t kSampleFailures = 120, kFailureChunk = 25, kRiskModels = 12, kRiskChunk = 4;

const std::vector<modelgate::sdk::Migration> kMigrations = {
    {1, "reports",
     "CREATE TABLE analysis_reports (id BIGSERIAL PRIMARY KEY, date VARCHAR(10) NOT NULL, "
     "locale VARCHAR(8) NOT NULL, seq INTEGER NOT NULL, status VARCHAR(16) NOT NULL, source "
     "VARCHAR(16) NOT NULL DEFAULT '', model_used VARCHAR(250), markdown TEXT, summary TEXT, "
     "error TEXT, task_id BIGINT, created_at VARCHAR(30) NOT NULL, finished_at VARCHAR(30), "
     "UNIQUE (date, locale, seq))",
     "CREATE TABLE analysis_reports (id INTEGER PRIMARY KEY AUTOINCREMENT, date TEXT NOT NULL, "
     "locale TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL, source TEXT NOT NULL "
     "DEFAULT '', model_used TEXT, markdown TEXT, summary TEXT, error TEXT, task_id INTEGER, "
     "created_at TEXT NOT NULL, finished_at TEXT, UNIQUE (date, locale, seq))"},
    {2, "recommendations",
     "CREATE TABLE analysis_recommendations (api_key_id BIGINT NOT NULL, period VARCHAR(8) NOT "
     "NULL, locale VARCHAR(8) NOT NULL, status VARCHAR(16) NOT NULL, reasons TEXT, timing_advice "
     "TEXT, model_used VARCHAR(250), error TEXT, generated_at VARCHAR(30) NOT NULL, expires_at "
     "VARCHAR(30) NOT NULL, PRIMARY KEY (api_key_id, period, locale))",
     "CREATE TABLE analysis_recommendations (api_key_id INTEGER NOT NULL, period TEXT NOT NULL, "
     "locale TEXT NOT NULL, status TEXT NOT NULL, reasons TEXT, timing_advice TEXT, model_used "
     "TEXT, error TEXT, generated_at TEXT NOT NULL, expires_at TEXT NOT NULL, PRIMARY KEY "
     "(api_key_id, period, locale))"},
};

// Today in the gateway's time zone (the process's TZ): its date and its UTC
// bounds.
struct Day {
    std::string date, from, to;
};
Day today() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
    std::tm start = tm;
    start.tm_hour = start.tm_min = start.tm_sec = 0;
    start.tm_isdst = -1;
    std::tm next = start;
    next.tm_mday += 1;
    next.tm_isdst = -1;
    return {date, iso_utc(std::mktime(&start)), iso_utc(std::mktime(&next))};
}

class AnalysisPlugin : public modelgate::sdk::FeaturePlugin {
  public:
    void init(Host& host, const json& config) override {
        if (!config.value("enabled", true)) {
            modelgate::sdk::log(modelgate::sdk::LogLevel::info,
                                "analysis is switched off (enabled: false)");
            return;
        }
        host_ = &host;
        model_ = config.value("model", "");
        chunk_timeout_ms_ = config.value("chunk_timeout_ms", int64_t{90000});
        final_timeout_ms_ = config.value("final_timeout_ms", int64_t{120000});
        host.migrate(kMigrations);
        host.register_task("error-report", [this](const Host::Task& task, const json& input) {
            return write_report(task, input);
        });
        host.route("POST", "/admin/api/logs/errors/analyze", RouteAccess::admin,
                   [this](const HttpRequest& req) { return analyze(req); });
        host.route("GET", "/admin/api/logs/errors/analyze", RouteAccess::admin,
                   [this](const HttpRequest& req) { return latest(req); });
        host.route("GET", "/admin/api/logs/errors/reports", RouteAccess::admin,
                   [this](const HttpRequest&) { return list(); });
        host.route("GET", "/admin/api/logs/errors/reports/{id}", RouteAccess::admin,
                   [this](const HttpRequest& req) { return one(req.params.at("id")); });
        host.route("GET", "/admin/api/analysis/models", RouteAccess::admin,
                   [this](const HttpRequest&) { return models_route(); });
        std::string locale = config.value("report_language", "en");
        host.register_daily_job(
            "error_report", config.value("error_report_at", "23:30"), [this, locale] {
                json r = start(locale, "");
                return "report " + r["report"].value("source", "") + " (" + locale + ")";
            });
        recommendations_.init(host, config);
    }

  private:
    // ---- data ------------------------------------------------------------

    std::vector<CallRow> day_rows(const Day& d) const {
        auto rs = host_->query(
            "SELECT id, provider_name, model, api_key_name, status, upstream_status_code, "
            "downstream_status_code, latency_ms, prompt_tokens, total_tokens, error, created_at "
            "FROM request_logs WHERE created_at >= :1 AND created_at < :2 AND status <> "
            "'pending' ORDER BY id DESC LIMIT :3",
            json::array({d.from, d.to, kMaxDayRows}));
        std::vector<CallRow> rows;
        for (const auto& r : rs) {
            CallRow c;
            c.id = r.integer("id");
            c.provider = r.optional_text("provider_name").value_or("");
            c.model = r.text("model");
            c.key_name = r.optional_text("api_key_name").value_or("");
            c.status = r.text("status");
            if (auto u = r.optional_integer("upstream_status_code")) c.upstream_code = int(*u);
            if (auto u = r.optional_integer("downstream_status_code")) c.downstream_code = int(*u);
            c.latency_ms = r.optional_real("latency_ms");
            c.context_tokens = r.optional_integer("prompt_tokens").value_or(0);
            c.tokens = r.optional_integer("total_tokens").value_or(0);
            c.error = r.optional_text("error").value_or("");
            c.created_at = r.optional_text("created_at").value_or("");
            rows.push_back(std::move(c));
        }
        return rows;
    }

    // Bound models as {provider, model, display}, in binding order.
    json bound_models() const {
        auto rs = host_->query(
            "SELECT p.name AS provider, COALESCE(NULLIF(pm.model_name_override, ''), m.name) AS "
            "model, COALESCE(m.display_name, m.name) AS display FROM provider_models pm JOIN "
            "providers p ON p.id = pm.provider_id JOIN models m ON m.id = pm.model_id WHERE "
            "pm.is_active AND p.is_active AND m.is_active ORDER BY pm.id");
        json out = json::array();
        for (const auto& r : rs)
            out.push_back({{"provider", r.text("provider")},
                           {"model", r.text("model")},
                           {"display", r.text("display")}});
        return out;
    }

    // Spec 9: the preferred providers in order, the preferred GLM models within
    // the first present one, else its first model, else the first model at all.
    std::vector<std::string> analysis_models(const std::string& requested) const {
        if (!requested.empty()) return {requested};
        if (!model_.empty()) return {model_};
        json bound = bound_models();
        std::vector<std::string> out;
        auto full = [](const json& b) {
            return b["provider"].get<std::string>() + "/" + b["model"].get<std::string>();
        };
        for (const char* provider : {"zhipu", "deepseek", "minimax", "ollama"}) {
            std::vector<json> mine;
            for (const auto& b : bound)
                if (b["provider"] == provider) mine.push_back(b);
            if (mine.empty()) continue;
            for (const char* preferred : {"glm-5-turbo", "glm-5", "glm-4.6", "glm-4.7"}) {
                for (const auto& b : mine)
                    if (b["model"] == preferred) out.push_back(full(b));
            }
            out.push_back(full(mine.front()));
            break;
        }
        if (!bound.empty()) out.push_back(full(bound.front()));
        std::vector<std::string> unique;
        for (auto& m : out)
            if (std::find(unique.begin(), unique.end(), m) == unique.end()) unique.push_back(m);
        if (unique.size() > 3) unique.resize(3);
        return unique;
    }

    // ---- the report ------------------------------------------------------

    // Today's report for a locale: an empty one at once when nothing failed,
    // else a pending row and its task (one per day and locale at a time).
    json start(const std::string& locale, const std::string& model) {
        Day d = today();
        auto rows = day_rows(d);
        json summary = modelgate::analysis::failure_summary(rows);
        bool empty =
            summary["total_errors"].get<int64_t>() + summary["total_timeouts"].get<int64_t>() == 0;
        std::string now = iso_utc(std::time(nullptr));
        auto inserted = host_->query(
            "INSERT INTO analysis_reports (date, locale, seq, status, source, markdown, summary, "
            "created_at, finished_at) SELECT :1, :2, COALESCE(MAX(seq), 0) + 1, :3, :4, :5, :6, "
            ":7, :8 FROM analysis_reports WHERE date = :1 AND locale = :2 RETURNING id",
            json::array({d.date, locale, empty ? "success" : "pending", empty ? "empty" : "",
                         empty ? json(empty_markdown(locale, d.date)) : json(nullptr),
                         summary.dump(), now, empty ? json(now) : json(nullptr)}));
        int64_t id = inserted[0].integer("id");
        if (!empty) {
            Host::TaskStart task;
            try {
                task = host_->start_task("error-report", d.date + ":" + locale,
                                         {{"report_id", id},
                                          {"date", d.date},
                                          {"from", d.from},
                                          {"to", d.to},
                                          {"locale", locale},
                                          {"model", model}});
            } catch (const std::exception& e) {
                // No task (the gateway is busy or stopping): the row says so.
                host_->query(
                    "UPDATE analysis_reports SET status = 'failed', source = 'unavailable', "
                    "error = :1, finished_at = :2 WHERE id = :3",
                    json::array({std::string(e.what()).substr(0, 2000), now, id}));
                return {{"summary", summary}, {"report", report_json(id, false)}};
            }
            if (!task.started) {
                // One is being written: this request's row is not needed.
                host_->query("DELETE FROM analysis_reports WHERE id = :1", json::array({id}));
                id = task.task["input"].value("report_id", int64_t{0});
            } else {
                host_->query("UPDATE analysis_reports SET task_id = :1 WHERE id = :2",
                             json::array({task.task["id"], id}));
            }
        }
        return {{"summary", summary}, {"report", report_json(id, false)}};
    }

    static std::string empty_markdown(const std::string& locale, const std::string& date) {
        return locale == "zh"
                   ? "# 每日错误分析报告\n\n" + date + "：今天没有失败的调用。\n"
                   : "# Daily Error Analysis Report\n\n" + date + ": no call failed today.\n";
    }

    json llm_json(const json& system_user, const std::vector<std::string>& models,
                  int64_t timeout_ms, int max_tokens, std::string& used, std::string& why) const {
        json request = {
            {"messages", system_user}, {"temperature", 0.2}, {"max_tokens", max_tokens}};
        modelgate::sdk::LlmOptions options;
        options.models = models;
        options.timeout_ms = timeout_ms;
        auto r = host_->llm_call(request, options);
        if (!r.ok()) {
            why = r.error.empty() ? "no model answered" : r.error;
            return nullptr;
        }
        used = r.response.value("model", models.empty() ? "" : models.front());
        return modelgate::analysis::answer_text(r.response);
    }

    json write_report(const Host::Task& task, const json& input) {
        int64_t id = input.value("report_id", int64_t{0});
        std::string locale = input.value("locale", "en");
        std::string language = locale == "zh" ? "Chinese" : "English";
        host_->query("UPDATE analysis_reports SET status = 'running' WHERE id = :1",
                     json::array({id}));
        auto fail = [&](const std::string& why) -> json {
            host_->query(
                "UPDATE analysis_reports SET status = 'failed', source = 'unavailable', error = "
                ":1, finished_at = :2 WHERE id = :3",
                json::array({why.substr(0, 2000), iso_utc(std::time(nullptr)), id}));
            throw std::runtime_error(why);
        };
        auto models = analysis_models(input.value("model", ""));
        if (models.empty()) return fail("no model is bound: the rule-based report stands in");
        Day d{input.value("date", ""), input.value("from", ""), input.value("to", "")};
        auto rows = day_rows(d);
        json summary = modelgate::analysis::failure_summary(rows);
        auto risks = modelgate::analysis::context_risk(rows);

        // The map step: failures in chunks of 25, risk summaries in chunks of 4.
        std::vector<json> failures;
        for (const auto& r : rows) {
            if (!modelgate::analysis::is_failure(r) || failures.size() >= kSampleFailures) continue;
            failures.push_back(
                {{"time", r.created_at},
                 {"provider", r.provider},
                 {"model", r.model},
                 {"status", r.status},
                 {"upstream_status_code", r.upstream_code ? json(*r.upstream_code) : json()},
                 {"latency_ms", r.latency_ms ? json(*r.latency_ms) : json()},
                 {"context_tokens", r.context_tokens},
                 {"error", r.error.substr(0, 240)}});
        }
        std::vector<json> risk_json;
        for (std::size_t i = 0; i < risks.size() && i < kRiskModels; ++i)
            risk_json.push_back(risks[i].to_json());
        std::size_t chunks = std::max<std::size_t>(
            {(failures.size() + kFailureChunk - 1) / kFailureChunk,
             (risk_json.size() + kRiskChunk - 1) / kRiskChunk, std::size_t{1}});
        json analyses = json::array();
        std::string used, why;
        for (std::size_t c = 0; c < chunks; ++c) {
            task.progress({{"step", "chunk"}, {"chunk", c + 1}, {"of", chunks}});
            json logs = json::array(), risk = json::array();
            for (std::size_t i = c * kFailureChunk;
                 i < failures.size() && i < (c + 1) * kFailureChunk; ++i)
                logs.push_back(failures[i]);
            for (std::size_t i = c * kRiskChunk; i < risk_json.size() && i < (c + 1) * kRiskChunk;
                 ++i)
                risk.push_back(risk_json[i]);
            json user = {{"language", language},
                         {"task", "Analyze only this chunk and return strict compact JSON."},
                         {"response_format",
                          {{"chunk_summary", "string"},
                           {"risk_points", "string[]"},
                           {"configuration_hints", "string[]"}}},
                         {"chunk_index", c + 1},
                         {"total_chunks", chunks},
                         {"context_buckets_definition",
                          "0-8k,8k-16k,16k-32k,32k-64k,64k-96k,96k-128k,128k+ (k=1024 tokens)"},
                         {"model_context_risk_summary", risk},
                         {"sample_logs", logs}};
            if (c == 0) user["summary_metrics"] = summary;
            json text =
                llm_json(json::array({{{"role", "system"},
                                       {"content",
                                        "You are an incident-log analyst for an LLM API gateway. "
                                        "Use only the data given; never invent facts. Answer with "
                                        "strict JSON only."}},
                                      {{"role", "user"}, {"content", user.dump()}}}),
                         models, chunk_timeout_ms_, 2000, used, why);
            if (text.is_null()) return fail("chunk " + std::to_string(c + 1) + ": " + why);
            json parsed = modelgate::sdk::parse_json(
                modelgate::analysis::strip_code_fences(text.get<std::string>()));
            if (!parsed.is_object() || !parsed.contains("chunk_summary"))
                return fail("chunk " + std::to_string(c + 1) + ": the model (" + used +
                            ") did not answer the JSON asked for");
            analyses.push_back(parsed);
        }
        // The reduce step: one Markdown report.
        task.progress({{"step", "merge"}, {"of", chunks}});
        json merge = {
            {"language", language},
            {"task",
             "Merge the chunk analyses into one Markdown report focused on "
             "per-model context thresholds and OpenCode limit.context / "
             "limit.output suggestions."},
            {"required_sections",
             {"Daily Error Analysis Report", "Executive Summary", "Model Context Risk Analysis",
              "Key Findings", "OpenCode Configuration Suggestions", "Recommended Actions"}},
            {"summary_metrics", summary},
            {"chunk_analyses", analyses}};
        json markdown =
            llm_json(json::array({{{"role", "system"},
                                   {"content",
                                    "You are an incident-log analyst. Use only the data given. "
                                    "Answer in Markdown only."}},
                                  {{"role", "user"}, {"content", merge.dump()}}}),
                     models, final_timeout_ms_, 4000, used, why);
        if (markdown.is_null()) return fail("merge: " + why);
        if (markdown.get<std::string>().empty())
            return fail("merge: the model (" + used + ") wrote nothing");
        host_->query(
            "UPDATE analysis_reports SET status = 'success', source = 'ai', model_used = :1, "
            "markdown = :2, finished_at = :3 WHERE id = :4",
            json::array({used, markdown, iso_utc(std::time(nullptr)), id}));
        return {{"report_id", id}, {"model_used", used}, {"chunks", chunks}};
    }

    // ---- routes ----------------------------------------------------------

    json report_json(int64_t id, bool with_summary, bool again = false) const {
        auto rs = host_->query(
            "SELECT id, date, locale, seq, status, source, model_used, markdown, summary, error, "
            "task_id, created_at, finished_at FROM analysis_reports WHERE id = :1",
            json::array({id}));
        if (rs.empty()) return nullptr;
        const auto r = rs[0];
        std::string status = r.text("status");
        std::optional<std::string> error = r.optional_text("error");
        if ((status == "pending" || status == "running") && r.optional_integer("task_id")) {
            // Its task ended without writing the row: its instance stopped.
            auto task = host_->task(*r.optional_integer("task_id"));
            // A task that ended after the row was read may have written it
            // since: read the row once more before calling it lost.
            if (task && (*task)["status"] != "running" && !again)
                return report_json(id, with_summary, true);
            if (task && (*task)["status"] != "running") {
                status = "failed";
                error = (*task)["error"].is_string() ? (*task)["error"].get<std::string>()
                                                     : "the report's task ended without a report";
            }
        }
        std::string source = status == "success"  ? r.text("source")
                             : status == "failed" ? "unavailable"
                                                  : "pending";
        json j = {{"id", r.integer("id")},
                  {"date", r.text("date")},
                  {"language", r.text("locale")},
                  {"seq", r.integer("seq")},
                  {"status", status},
                  {"source", source},
                  {"model_used", value_or_null(r.optional_text("model_used"))},
                  {"markdown", value_or_null(r.optional_text("markdown"))},
                  {"error", error ? json(*error) : json()},
                  {"task_id", value_or_null(r.optional_integer("task_id"))},
                  {"created_at", r.text("created_at")},
                  {"generated_at", value_or_null(r.optional_text("finished_at"))}};
        if (source == "unavailable") {
            // What the admin can read when no model wrote the report.
            json summary = modelgate::sdk::parse_json(r.optional_text("summary").value_or("{}"));
            Day d = today();
            auto risks = r.text("date") == d.date ? modelgate::analysis::context_risk(day_rows(d))
                                                  : std::vector<modelgate::analysis::ModelRisk>{};
            j["fallback_markdown"] = modelgate::analysis::rule_based_report(
                summary.is_object() ? summary : json::object(), risks, r.text("locale"),
                r.text("date"));
        }
        if (with_summary)
            j["summary"] = modelgate::sdk::parse_json(r.optional_text("summary").value_or("{}"));
        return j;
    }

    HttpResponse analyze(const HttpRequest& req) {
        json body = req.body.empty() ? json::object() : modelgate::sdk::parse_json(req.body);
        if (!body.is_object())
            return HttpResponse::json_body(
                error_body("The body must be a JSON object.", "invalid_json"), 400);
        for (const char* field : {"model", "language"}) {
            if (body.contains(field) && !body[field].is_string())
                return HttpResponse::json_body(
                    error_body(std::string(field) + " must be a string.", "invalid_value"), 400);
        }
        std::string model = body.value("model", "");
        if (!model.empty() && model.find('/') == std::string::npos)
            return HttpResponse::json_body(
                error_body("model is \"provider/model\".", "invalid_model"), 400);
        json out = start(locale_of(req, body), model);
        return HttpResponse::json_body(out, out["report"]["source"] == "pending" ? 202 : 200);
    }

    HttpResponse latest(const HttpRequest& req) {
        std::string locale = locale_of(req);
        Day d = today();
        auto rs = host_->query(
            "SELECT MAX(id) AS id FROM analysis_reports WHERE date = :1 AND locale = :2",
            json::array({d.date, locale}));
        auto id = rs.empty() ? std::nullopt : rs[0].optional_integer("id");
        if (!id) {
            auto rows = day_rows(d);
            json summary = modelgate::analysis::failure_summary(rows);
            return HttpResponse::json_body(
                {{"source", "unavailable"},
                 {"date", d.date},
                 {"language", locale},
                 {"markdown", nullptr},
                 {"error", nullptr},
                 {"fallback_markdown",
                  modelgate::analysis::rule_based_report(
                      summary, modelgate::analysis::context_risk(rows), locale, d.date)}});
        }
        return HttpResponse::json_body(report_json(*id, true));
    }

    HttpResponse list() const {
        auto rs = host_->query(
            "SELECT id, date, locale, seq, status, source, model_used, finished_at FROM "
            "analysis_reports ORDER BY date DESC, id DESC LIMIT 200");
        json out = json::array();
        for (const auto& r : rs)
            out.push_back({{"id", r.integer("id")},
                           {"date", r.text("date")},
                           {"language", r.text("locale")},
                           {"seq", r.integer("seq")},
                           {"status", r.text("status")},
                           {"model_used", value_or_null(r.optional_text("model_used"))},
                           {"generated_at", value_or_null(r.optional_text("finished_at"))}});
        return HttpResponse::json_body({{"reports", out}});
    }

    HttpResponse one(const std::string& id) const {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
        json r = ec == std::errc() && end == id.data() + id.size() ? report_json(n, true) : json();
        if (r.is_null())
            return HttpResponse::json_body(error_body("No such report.", "not_found"), 404);
        return HttpResponse::json_body(r);
    }

    HttpResponse models_route() const {
        auto models = analysis_models("");
        return HttpResponse::json_body(
            {{"models", bound_models()},
             {"default", models.empty() ? json() : json(models.front())}});
    }

    Host* host_ = nullptr;
    modelgate::analysis::Recommendations recommendations_;
    std::string model_;
    int64_t chunk_timeout_ms_ = 90000, final_timeout_ms_ = 120000;
};

}  // namespace

MODELGATE_FEATURE_PLUGIN(
    AnalysisPlugin, "analysis", "0.2.0", "AI error analysis and model recommendations",
    R"json([{"name": "enabled", "type": "boolean", "default": true, "help": "false: load the plugin but serve nothing"},
        {"name": "model", "type": "string", "default": "", "help": "provider/model that writes the reports; empty: chosen as the original did (zhipu, deepseek, minimax, ollama)"},
        {"name": "error_report_at", "type": "string", "default": "23:30", "help": "Daily report time (HH:MM, MODELGATE_TIMEZONE)"},
        {"name": "report_language", "type": "string", "default": "en", "help": "Language of the daily report: en or zh"},
        {"name": "chunk_timeout_ms", "type": "integer", "default": 90000, "help": "Time for one chunk call, all models together"},
        {"name": "final_timeout_ms", "type": "integer", "default": 120000, "help": "Time for the merge call"},
        {"name": "recommendations_at", "type": "string", "default": "01:00", "help": "Daily time (HH:MM) of the batch that writes every active key's recommendation texts"},
        {"name": "recommendation_periods", "type": "array", "default": ["day", "week"], "help": "Periods the daily batch writes texts for: day, week, month"},
        {"name": "recommendation_locales", "type": "array", "default": ["en", "zh"], "help": "Languages the daily batch writes texts in: en, zh"},
        {"name": "recommendation_on_demand", "type": "boolean", "default": true, "help": "Write a key's texts when it asks and none is fresh"},
        {"name": "recommendation_ttl_hours", "type": "integer", "default": 26, "help": "How long written texts are shown"},
        {"name": "recommendation_retry_minutes", "type": "integer", "default": 30, "help": "After a failure, how long before texts are tried again"},
        {"name": "recommendation_timeout_ms", "type": "integer", "default": 25000, "help": "Time for the reasons call, per model tried"},
        {"name": "timing_timeout_ms", "type": "integer", "default": 20000, "help": "Time for the timing-advice call, per model tried"},
        {"name": "recommendation_max_keys", "type": "integer", "default": 500, "help": "Keys the daily batch covers at most"}])json");

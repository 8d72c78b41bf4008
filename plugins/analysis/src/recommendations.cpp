#include "recommendations.hpp"

#include <ctime>

#include "common.hpp"
#include "rules.hpp"

namespace modelgate::analysis {

using modelgate::sdk::HttpRequest;
using modelgate::sdk::HttpResponse;
using modelgate::sdk::RouteAccess;

namespace {

constexpr const char* kSystemPrompt =
    "You summarize the dashboard metrics of an LLM API gateway for one of its users. Use only "
    "the figures given and never invent data. Answer in plain text without Markdown.";

bool valid_period(const std::string& p) {
    return p == "day" || p == "week" || p == "month";
}

std::vector<std::string> string_list(const json& config, const char* name,
                                     std::vector<std::string> fallback) {
    auto it = config.find(name);
    if (it == config.end() || !it->is_array()) return fallback;
    std::vector<std::string> out;
    for (const auto& v : *it)
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

// Spec 8.5: thinking models get at least `base` tokens (their thoughts count),
// others at most their own limit.
int max_tokens_for(const json& item, int base) {
    int own = item.value("max_tokens", 0);
    if (own <= 0) return base;
    return item.value("thinking", false) ? std::max(own, base) : std::min(own, base);
}

std::string trim(std::string s) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

ModelFigures figures_of(const json& item) {
    ModelFigures f;
    f.model = item.value("model", "");
    f.requests = item.value("requests", int64_t{0});
    f.errors = item.value("errors", int64_t{0});
    if (item.contains("avg_latency_ms") && item["avg_latency_ms"].is_number())
        f.avg_latency_ms = item["avg_latency_ms"].get<double>();
    return f;
}

std::vector<HourFigures> hours_of(const json& hourly) {
    std::vector<HourFigures> out;
    for (const auto& h : hourly) {
        HourFigures f;
        f.hour = h.value("hour", 0);
        f.requests = h.value("requests", int64_t{0});
        f.errors = h.value("errors", int64_t{0});
        if (h.contains("avg_latency_ms") && h["avg_latency_ms"].is_number())
            f.avg_latency_ms = h["avg_latency_ms"].get<double>();
        out.push_back(f);
    }
    return out;
}

}  // namespace

std::string Recommendations::Scope::dedupe() const {
    return std::to_string(key_id) + ":" + period + ":" + locale;
}

void Recommendations::init(Host& host, const json& config) {
    host_ = &host;
    job_periods_ = string_list(config, "recommendation_periods", {"day", "week"});
    job_locales_ = string_list(config, "recommendation_locales", {"en", "zh"});
    for (const auto& p : job_periods_)
        if (!valid_period(p))
            throw std::runtime_error("recommendation_periods: \"" + p +
                                     "\" is not day, week or month");
    for (const auto& l : job_locales_)
        if (l != "en" && l != "zh")
            throw std::runtime_error("recommendation_locales: \"" + l + "\" is not en or zh");
    ttl_seconds_ = config.value("recommendation_ttl_hours", int64_t{26}) * 3600;
    retry_seconds_ = config.value("recommendation_retry_minutes", int64_t{30}) * 60;
    reasons_timeout_ms_ = config.value("recommendation_timeout_ms", int64_t{25000});
    timing_timeout_ms_ = config.value("timing_timeout_ms", int64_t{20000});
    max_keys_ = config.value("recommendation_max_keys", 500);
    on_demand_ = config.value("recommendation_on_demand", true);

    host.register_task("recommendation", [this](const Host::Task&, const json& input) {
        return generate({input.value("api_key_id", int64_t{0}), input.value("period", "day"),
                         input.value("locale", "en")});
    });
    host.register_task("recommendations-batch",
                       [this](const Host::Task& task, const json&) { return batch(task); });

    host.route(
        "GET", "/user/api/analysis/recommendations", RouteAccess::api_key,
        [this](const HttpRequest& req) {
            Scope s{req.api_key_id, req.query_param("period").value_or("day"), locale_of(req)};
            return answer(s, false);
        });
    host.route(
        "GET", "/admin/api/analysis/recommendations", RouteAccess::admin,
        [this](const HttpRequest& req) {
            int64_t key = 0;
            try {
                key = std::stoll(req.query_param("key_id").value_or(""));
            } catch (const std::exception&) {
            }
            if (key <= 0)
                return HttpResponse::json_body(
                    error_body("key_id (an API key's id) is required", "invalid_query"), 400);
            return answer({key, req.query_param("period").value_or("day"), locale_of(req)}, true);
        });
    host.route("POST", "/admin/api/analysis/recommendations/refresh", RouteAccess::admin,
               [this](const HttpRequest& req) {
                   json body = modelgate::sdk::parse_json(req.body.empty() ? "{}" : req.body);
                   if (!body.is_object() || !body.contains("key_id") ||
                       !body["key_id"].is_number_integer())
                       return HttpResponse::json_body(
                           error_body("key_id (an API key's id) is required", "invalid_request"),
                           400);
                   if (body.contains("period") && !body["period"].is_string())
                       return HttpResponse::json_body(
                           error_body("period must be day, week or month", "invalid_request"), 400);
                   Scope s{body["key_id"].get<int64_t>(), body.value("period", "day"),
                           locale_of(req, body)};
                   if (!valid_period(s.period))
                       return HttpResponse::json_body(
                           error_body("period must be day, week or month", "invalid_request"), 400);
                   auto core = scores(s);
                   if (!core.ok()) return HttpResponse::json_body(core.body, core.status);
                   auto t = host_->start_task(
                       "recommendation", s.dedupe(),
                       {{"api_key_id", s.key_id}, {"period", s.period}, {"locale", s.locale}});
                   return HttpResponse::json_body({{"started", t.started}, {"task", t.task}},
                                                  t.started ? 202 : 409);
               });
    host.register_daily_job(
        "recommendations", config.value("recommendations_at", "01:00"), [this]() -> std::string {
            auto t = host_->start_task("recommendations-batch", "batch");
            return t.started ? "started task " + t.task["id"].dump()
                             : "task " + t.task["id"].dump() + " is still running";
        });
}

Host::ApiResponse Recommendations::scores(const Scope& s) const {
    if (!valid_period(s.period))
        return {400, error_body("period must be day, week or month", "invalid_query")};
    return host_->api_get("/admin/api/keys/" + std::to_string(s.key_id) +
                          "/recommendations?period=" + s.period);
}

HttpResponse Recommendations::answer(const Scope& s, bool for_admin) {
    auto core = scores(s);
    if (!core.ok()) return HttpResponse::json_body(core.body, core.status);
    json doc = std::move(core.body);
    auto rs = host_->query(
        "SELECT status, reasons, timing_advice, model_used, error, generated_at, expires_at "
        "FROM analysis_recommendations WHERE api_key_id = :1 AND period = :2 AND locale = :3",
        json::array({s.key_id, s.period, s.locale}));
    std::string now = iso_utc(std::time(nullptr));
    bool fresh = !rs.empty() && rs[0].text("expires_at") > now;
    bool ai = fresh && rs[0].text("status") == "ai";
    json reasons = ai ? modelgate::sdk::parse_json(rs[0].optional_text("reasons").value_or("{}"))
                      : json::object();

    json& items = doc["items"];
    for (auto& item : items) {
        std::string model = item.value("model", "");
        if (reasons.is_object() && reasons.contains(model) && reasons[model].is_string()) {
            item["reason"] = reasons[model];
            item["reason_source"] = "ai";
            continue;
        }
        std::string rule = rule_based_reason(figures_of(item), s.locale);
        item["reason"] = rule.empty() ? json() : json(rule);
        item["reason_source"] = rule.empty() ? "none" : "rules";
    }
    auto ai_timing = ai ? rs[0].optional_text("timing_advice") : std::nullopt;
    auto rule_timing = rule_based_timing(hours_of(doc["hourly_stats"]), s.locale);
    doc["timing_advice"] = ai_timing ? json(*ai_timing) : value_or_null(rule_timing);
    doc["timing_advice_source"] = ai_timing ? "ai" : (rule_timing ? "rules" : "none");

    std::string source = "unavailable";
    if (ai) {
        source = "ai";
    } else if (!items.empty() && !fresh && on_demand_) {
        // No text, or an old one, or a failure whose retry time has come: one
        // task per scope writes it; the caller asks again.
        try {
            host_->start_task(
                "recommendation", s.dedupe(),
                {{"api_key_id", s.key_id}, {"period", s.period}, {"locale", s.locale}});
            source = "pending";
        } catch (const std::exception& e) {
            modelgate::sdk::log(modelgate::sdk::LogLevel::warn,
                                std::string("recommendation texts not started: ") + e.what());
        }
    }
    doc["language"] = s.locale;
    doc["analysis_source"] = source;
    doc["analysis_model_used"] = ai ? json(rs[0].optional_text("model_used").value_or("")) : json();
    doc["analysis_generated_at"] = ai ? json(rs[0].text("generated_at")) : json();
    if (for_admin) {
        doc["analysis_record"] =
            rs.empty() ? json()
                       : json{{"status", rs[0].text("status")},
                              {"error", value_or_null(rs[0].optional_text("error"))},
                              {"model_used", value_or_null(rs[0].optional_text("model_used"))},
                              {"generated_at", rs[0].text("generated_at")},
                              {"expires_at", rs[0].text("expires_at")}};
    }
    return HttpResponse::json_body(doc);
}

json Recommendations::generate(const Scope& s) {
    auto core = scores(s);
    if (!core.ok())
        throw std::runtime_error("the gateway's scores answered " + std::to_string(core.status));
    const json& items = core.body["items"];
    if (items.empty()) {
        // No calls in the period: nothing to write about, and old texts go.
        host_->query(
            "DELETE FROM analysis_recommendations WHERE api_key_id = :1 AND period = :2 AND "
            "locale = :3",
            json::array({s.key_id, s.period, s.locale}));
        return {{"outcome", "empty"}};
    }
    std::string language = s.locale == "zh" ? "Chinese" : "English";
    json candidates = json::array();
    std::vector<std::string> names;
    for (const auto& item : items) {
        names.push_back(item.value("model", ""));
        candidates.push_back({{"model", item["model"]},
                              {"requests", item["requests"]},
                              {"errors", item["errors"]},
                              {"error_rate", item["error_rate"]},
                              {"avg_latency_ms", item["avg_latency_ms"]},
                              {"score", item["score"]}});
    }
    auto ask = [&](const json& item, const json& user, int base_tokens, int64_t timeout_ms) {
        std::string model = item.value("model", "");
        json request = {{"model", model},
                        {"messages", json::array({{{"role", "system"}, {"content", kSystemPrompt}},
                                                  {{"role", "user"}, {"content", user.dump()}}})},
                        {"temperature", 0.2},
                        {"max_tokens", max_tokens_for(item, base_tokens)}};
        modelgate::sdk::LlmOptions options;
        options.models = {model};
        options.timeout_ms = timeout_ms;
        return host_->llm_call(request, options);
    };

    // Call 1: one reason per candidate, written by the first candidate that
    // answers with usable lines.
    json user = {{"period", s.period},
                 {"language", language},
                 {"instruction",
                  "Give one short reason per candidate model, one line each, exactly as "
                  "\"provider/model => reason\", in " +
                      language + "."},
                 {"candidates", candidates}};
    std::map<std::string, std::string> reasons;
    std::string used, failures;
    const json* used_item = nullptr;
    for (const auto& item : items) {
        auto r = ask(item, user, 512, reasons_timeout_ms_);
        std::string model = item.value("model", "");
        if (!r.ok()) {
            failures += model + ": " +
                        (r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error) + "; ";
            continue;
        }
        reasons = parse_reasons(answer_text(r.response), names);
        if (reasons.empty()) {
            failures += model + ": no line named a candidate; ";
            continue;
        }
        used = model;
        used_item = &item;
        break;
    }
    if (used.empty()) {
        store(s, "failed", json(), json(), "", failures.substr(0, 2000), retry_seconds_);
        return {{"outcome", "failed"}, {"error", failures}};
    }

    // Call 2: one sentence on when to call, from the hours with calls; the
    // model that wrote the reasons first.
    json timing;
    const json& hours = core.body["hourly_stats"];
    if (!hours.empty()) {
        json timing_user = {
            {"period", s.period},
            {"language", language},
            {"instruction", "In one sentence in " + language +
                                ", advise when this user should call the gateway, from these "
                                "figures per hour of the day (local time)."},
            {"hourly_stats", hours}};
        std::vector<const json*> order = {used_item};
        for (const auto& item : items)
            if (&item != used_item) order.push_back(&item);
        for (const json* item : order) {
            auto r = ask(*item, timing_user, 256, timing_timeout_ms_);
            if (!r.ok()) continue;
            std::string text = trim(answer_text(r.response));
            if (text.empty()) continue;
            timing = text.substr(0, 600);
            break;
        }
    }
    store(s, "ai", json(reasons), timing, used, "", ttl_seconds_);
    return {{"outcome", "ai"}, {"model_used", used}, {"reasons", reasons.size()}};
}

json Recommendations::batch(const Host::Task& task) {
    auto keys = host_->api_get("/admin/api/keys");
    if (!keys.ok())
        throw std::runtime_error("listing the API keys answered " + std::to_string(keys.status));
    std::vector<int64_t> ids;
    for (const auto& k : keys.body.value("api_keys", json::array())) {
        if (k.value("is_active", false) && static_cast<int>(ids.size()) < max_keys_)
            ids.push_back(k.value("id", int64_t{0}));
    }
    std::size_t total = ids.size() * job_periods_.size() * job_locales_.size(), done = 0;
    json counts = {{"ai", 0}, {"failed", 0}, {"empty", 0}};
    for (int64_t id : ids) {
        for (const auto& period : job_periods_) {
            for (const auto& locale : job_locales_) {
                std::string outcome;
                try {
                    outcome = generate({id, period, locale}).value("outcome", "failed");
                } catch (const std::exception& e) {
                    modelgate::sdk::log(
                        modelgate::sdk::LogLevel::warn,
                        "recommendations for key " + std::to_string(id) + ": " + e.what());
                    outcome = "failed";
                }
                counts[outcome] = counts[outcome].get<int>() + 1;
                task.progress({{"done", ++done}, {"of", total}, {"counts", counts}});
            }
        }
    }
    return {{"keys", ids.size()}, {"counts", counts}};
}

void Recommendations::store(const Scope& s, const std::string& status, const json& reasons,
                            const json& timing, const std::string& model, const std::string& error,
                            int64_t ttl_seconds) {
    std::time_t now = std::time(nullptr);
    host_->query(
        "INSERT INTO analysis_recommendations (api_key_id, period, locale, status, reasons, "
        "timing_advice, model_used, error, generated_at, expires_at) VALUES (:1, :2, :3, :4, :5, "
        ":6, :7, :8, :9, :10) ON CONFLICT (api_key_id, period, locale) DO UPDATE SET status = "
        "excluded.status, reasons = excluded.reasons, timing_advice = excluded.timing_advice, "
        "model_used = excluded.model_used, error = excluded.error, generated_at = "
        "excluded.generated_at, expires_at = excluded.expires_at",
        json::array({s.key_id, s.period, s.locale, status,
                     reasons.is_null() ? json() : json(reasons.dump()), timing,
                     model.empty() ? json() : json(model), error.empty() ? json() : json(error),
                     iso_utc(now), iso_utc(now + static_cast<std::time_t>(ttl_seconds))}));
}

}  // namespace modelgate::analysis

// /admin/api/stats and the log views of the dashboard: figures from the
// aggregate tables plus today's live rows (stats/stats_service.hpp), raw rows
// only within bounded windows, and /api/public/stats for the landing page.
#include <atomic>

#include "admin/admin_api.hpp"
#include "admin/fields.hpp"
#include "stats/recommendations.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace modelgate::core::admin {

namespace {

AdminResponse answer(Result<nlohmann::json> r) {
    if (!r) return AdminResponse::error(r.error());
    return AdminResponse::ok(std::move(r.value()));
}

Result<stats::Period> period_of(const AdminRequest& req, const char* fallback) {
    auto p = stats::parse_period(req.query_value("period", fallback));
    if (!p) return invalid_query("period must be day, week, month or year");
    return *p;
}

// The largest range POST /stats/reaggregate takes at once.
constexpr int kMaxReaggregateDays = 366;
// How long one answer of /api/public/stats serves everyone.
constexpr int64_t kPublicCacheMs = 30000;
// Live streams (/stats/live) at once, and how often they push.
constexpr int kMaxLiveStreams = 32;
constexpr auto kLiveInterval = std::chrono::seconds(2);

}  // namespace

void AdminApi::register_stats(http::Router& router) {
    route(router, "GET", "/admin/api/stats",
          [this](AdminRequest& req) { return stats_overview(req); });
    route(router, "GET", "/admin/api/stats/period", [this](AdminRequest& req) {
        auto p = period_of(req, "day");
        if (!p) return AdminResponse::error(p.error());
        return answer(ctx_.stats.period_summary(*p));
    });
    route(router, "GET", "/admin/api/stats/aggregate", [this](AdminRequest& req) {
        auto p = period_of(req, "day");
        if (!p) return AdminResponse::error(p.error());
        auto d = stats::parse_dimension(req.query_value("dimension", "provider"));
        if (!d)
            return AdminResponse::error(
                invalid_query("dimension must be provider, api_key or model"));
        return answer(ctx_.stats.composition(*d, *p));
    });
    for (const char* path : {"/admin/api/stats/trend", "/admin/api/stats/chart"}) {
        route(router, "GET", path, [this](AdminRequest& req) { return stats_trend(req); });
    }
    route(router, "GET", "/admin/api/stats/error-trend", [this](AdminRequest& req) {
        auto days = req.int_query("days", 30, 1, 366);
        if (!days) return AdminResponse::error(days.error());
        return answer(ctx_.stats.error_trend(static_cast<int>(*days)));
    });
    route(router, "GET", "/admin/api/stats/monitor-details", [this](AdminRequest& req) {
        auto p = period_of(req, "day");
        if (!p) return AdminResponse::error(p.error());
        return answer(ctx_.stats.monitor_details(*p));
    });
    for (const char* path : {"/admin/api/stats/realtime", "/admin/api/stats/active"}) {
        route(router, "GET", path,
              [this](AdminRequest&) { return answer(ctx_.logs.activity(unix_ms_now())); });
    }
    route(router, "GET", "/admin/api/stats/slow",
          [this](AdminRequest& req) { return slow_requests(req); });
    route(router, "POST", "/admin/api/stats/reaggregate",
          [this](AdminRequest& req) { return reaggregate(req); });
    route(router, "GET", "/admin/api/stats/days", [this](AdminRequest& req) {
        auto days = req.int_query("days", 60, 1, 3660);
        if (!days) return AdminResponse::error(days.error());
        CivilDate today = local_date(unix_ms_now());
        auto list = ctx_.stats_store.days(today.plus_days(-*days), today);
        if (!list) return AdminResponse::error(list.error());
        nlohmann::json out = nlohmann::json::array();
        for (const auto& d : list.value()) {
            out.push_back({{"date", d.date},
                           {"time_zone", d.time_zone},
                           {"aggregated_at", d.aggregated_at},
                           {"source_rows", d.source_rows},
                           {"pending_rows", d.pending_rows}});
        }
        return AdminResponse::ok({{"days", std::move(out)}, {"time_zone", local_zone_name()}});
    });
    route(router, "GET", "/admin/api/keys/{id}/stats", [this](AdminRequest& req) {
        int64_t id = req.id_param("id");
        auto key = ctx_.store.get_api_key(id);
        if (!key) return AdminResponse::error(key.error());
        if (!key.value())
            return AdminResponse::error(
                make_error(ErrorCode::not_found, "No such API key", "not_found"));
        auto r = ctx_.stats.key_summary(id);
        if (!r) return AdminResponse::error(r.error());
        (*r)["name"] = key.value()->name;
        return AdminResponse::ok(std::move(r.value()));
    });
    route(router, "GET", "/admin/api/keys/{id}/recommendations",
          [this](AdminRequest& req) { return key_recommendations(req); });
    register_log_views(router);
    route(
        router, "GET", "/api/public/stats", [this](AdminRequest&) { return public_stats(); }, true);
    register_live_stream(router);
}

AdminResponse AdminApi::key_recommendations(AdminRequest& req) {
    auto period = stats::parse_period(req.query_value("period", "day"));
    if (!period || *period == stats::Period::year)
        return AdminResponse::error(invalid_query("period must be day, week or month"));
    auto top = req.int_query("top", 5, 1, 50);
    if (!top) return AdminResponse::error(top.error());
    auto snapshot = ctx_.cache.current();
    const KeyRuntime* key = snapshot->find_key_by_id(req.id_param("id"));
    if (key == nullptr)
        return AdminResponse::error(
            make_error(ErrorCode::not_found, "No such API key", "not_found"));
    std::vector<stats::Candidate> candidates;
    for (const auto& b : snapshot->bindings) {
        if (!key->may_use(b.id)) continue;
        candidates.push_back({b.provider_name, b.public_name, b.upstream_model, b.display_name,
                              b.max_tokens, b.thinking});
    }
    auto r = stats::key_recommendations(ctx_.stats, key->id, *period, candidates,
                                        static_cast<std::size_t>(*top));
    if (!r) return AdminResponse::error(r.error());
    (*r)["name"] = key->name;
    return AdminResponse::ok(std::move(r.value()));
}

AdminResponse AdminApi::stats_overview(AdminRequest&) {
    auto totals = ctx_.stats.totals();
    if (!totals) return AdminResponse::error(totals.error());
    auto activity = ctx_.logs.activity(unix_ms_now());
    if (!activity) return AdminResponse::error(activity.error());
    auto snap = ctx_.cache.current();
    const auto& all = totals->all;
    return AdminResponse::ok({{"total_requests", all.requests},
                              {"total_tokens", all.tokens},
                              {"total_errors", all.errors},
                              {"total_timeouts", all.timeouts},
                              {"total_rate_limited", all.rate_limited},
                              {"today", totals->today.json()},
                              {"requests_per_minute", (*activity)["requests_per_minute"]},
                              {"active_requests", (*activity)["active_requests"]},
                              {"providers", snap->providers.size()},
                              {"models", snap->bindings.size()},
                              {"time_zone", local_zone_name()}});
}

AdminResponse AdminApi::stats_trend(AdminRequest& req) {
    auto p = period_of(req, "day");
    if (!p) return AdminResponse::error(p.error());
    std::optional<stats::Dimension> d;
    std::string dim = req.query_value("dimension");
    if (!dim.empty()) {
        d = stats::parse_dimension(dim);
        if (!d)
            return AdminResponse::error(
                invalid_query("dimension must be provider, api_key or model"));
    }
    std::string name = req.query_value("name");
    if (name.size() > 250) return AdminResponse::error(invalid_query("name is too long"));
    if (!name.empty() && !d)
        return AdminResponse::error(
            invalid_query("name needs a dimension (provider, api_key or model)"));
    return answer(ctx_.stats.trend(*p, d, name));
}

AdminResponse AdminApi::slow_requests(AdminRequest& req) {
    auto threshold = req.int_query("threshold_ms", 60000, 1000, 3600000);
    if (!threshold) return AdminResponse::error(threshold.error());
    int64_t now = unix_ms_now();
    // Still running after the threshold: pending rows, oldest first.
    store::LogQuery pending;
    pending.status = "pending";
    pending.from_ms = now - 3600000;
    pending.to_ms = now - *threshold;
    pending.order = store::LogQuery::Order::oldest;
    pending.count_total = false;
    auto running = ctx_.logs.query(pending);
    if (!running) return AdminResponse::error(running.error());
    for (auto& row : running->logs) {
        auto started = parse_iso8601(row["created_at"].get<std::string>());
        row["elapsed_seconds"] = started ? (now - *started) / 1000 : 0;
    }
    // Ended in the last hour after taking longer than the threshold: slowest first.
    store::LogQuery done;
    done.from_ms = now - 3600000;
    done.min_latency_ms = static_cast<double>(*threshold);
    done.order = store::LogQuery::Order::slowest;
    done.count_total = false;
    auto completed = ctx_.logs.query(done);
    if (!completed) return AdminResponse::error(completed.error());
    return AdminResponse::ok(
        {{"threshold_ms", *threshold}, {"pending", running->logs}, {"completed", completed->logs}});
}

AdminResponse AdminApi::reaggregate(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    Fields f(body.value());
    CivilDate today = local_date(unix_ms_now());
    auto from_text = f.text("start_date", 10), to_text = f.text("end_date", 10);
    if (f.error()) return AdminResponse::error(*f.error());
    auto from = from_text ? CivilDate::parse(*from_text) : std::optional<CivilDate>(today);
    auto to = to_text ? CivilDate::parse(*to_text) : std::optional<CivilDate>(today);
    if (!from || !to)
        return AdminResponse::error(
            invalid_query("start_date and end_date must be dates (YYYY-MM-DD)"));
    if (*to < *from) return AdminResponse::error(invalid_query("end_date is before start_date"));
    if (today < *to) return AdminResponse::error(invalid_query("end_date is in the future"));
    if (to->days_since_epoch() - from->days_since_epoch() >= kMaxReaggregateDays) {
        return AdminResponse::error(
            invalid_query("at most " + std::to_string(kMaxReaggregateDays) + " days at once"));
    }
    auto days = ctx_.aggregator.aggregate_range(*from, *to);
    if (!days) return AdminResponse::error(days.error());
    MG_INFO("stats", req.admin_user << " re-aggregated " << from->text() << ".." << to->text());
    return AdminResponse::ok({{"status", "ok"},
                              {"start_date", from->text()},
                              {"end_date", to->text()},
                              {"days", days.value()}});
}

void AdminApi::register_log_views(http::Router& router) {
    // Today's rows, optionally errors only, newest first, paged.
    auto today_logs = [this](AdminRequest& req, bool errors_only) {
        auto page = req.int_query("page", 1, 1, 100000);
        auto size = req.int_query("page_size", 50, 1, 200);
        if (!page) return AdminResponse::error(page.error());
        if (!size) return AdminResponse::error(size.error());
        store::LogQuery q;
        q.from_ms = local_day_start_ms(local_date(unix_ms_now()));
        if (errors_only) q.statuses = {"error", "timeout"};
        q.page = static_cast<int>(*page);
        q.page_size = static_cast<int>(*size);
        auto r = ctx_.logs.query(q);
        if (!r) return AdminResponse::error(r.error());
        return AdminResponse::ok(
            {{"logs", r->logs}, {"total", r->total}, {"page", q.page}, {"page_size", q.page_size}});
    };
    route(router, "GET", "/admin/api/logs/today",
          [today_logs](AdminRequest& req) { return today_logs(req, false); });
    route(router, "GET", "/admin/api/logs/errors/today",
          [today_logs](AdminRequest& req) { return today_logs(req, true); });
    // The newest rows of all time: no total (that would count every row).
    route(router, "GET", "/admin/api/logs/all", [this](AdminRequest& req) {
        auto limit = req.int_query("limit", 100, 1, 200);
        if (!limit) return AdminResponse::error(limit.error());
        store::LogQuery q;
        q.page_size = static_cast<int>(*limit);
        q.count_total = false;
        auto r = ctx_.logs.query(q);
        if (!r) return AdminResponse::error(r.error());
        return AdminResponse::ok({{"logs", r->logs}, {"limit", *limit}});
    });
    route(router, "GET", "/admin/api/keys/{id}/logs", [this](AdminRequest& req) {
        auto limit = req.int_query("limit", 100, 1, 200);
        if (!limit) return AdminResponse::error(limit.error());
        store::LogQuery q;
        q.api_key_id = req.id_param("id");
        q.page_size = static_cast<int>(*limit);
        q.count_total = false;
        auto r = ctx_.logs.query(q);
        if (!r) return AdminResponse::error(r.error());
        return AdminResponse::ok({{"logs", r->logs}, {"limit", *limit}});
    });
}

AdminResponse AdminApi::public_stats() {
    std::lock_guard lock(public_mu_);
    int64_t now = unix_ms_now();
    if (public_cache_.is_null() || now - public_at_ms_ >= kPublicCacheMs) {
        auto totals = ctx_.stats.totals();
        if (!totals) {
            if (public_cache_.is_null()) return AdminResponse::error(totals.error());
            return AdminResponse::ok(public_cache_);  // stale beats nothing
        }
        public_cache_ = {{"total_requests", totals->all.requests},
                         {"total_tokens", totals->all.tokens},
                         {"today_requests", totals->today.requests},
                         {"today_tokens", totals->today.tokens}};
        public_at_ms_ = now;
    }
    AdminResponse r = AdminResponse::ok(public_cache_);
    r.headers.emplace_back("Cache-Control", "public, max-age=30");
    return r;
}

// Server-Sent Events: the dashboard only listens, SSE is plain HTTP (proxies,
// the base path and the session cookie work unchanged) and the browser
// reconnects by itself; a WebSocket would add a second protocol for nothing
// the dashboard sends.
void AdminApi::register_live_stream(http::Router& router) {
    http::RouteOptions options;
    options.max_body = 0;
    router.add(
        "GET", "/admin/api/stats/live",
        [this](http::Request& request, const http::ResponderPtr& responder) {
            std::string token = request.cookie(kSessionCookie);
            ctx_.workers.post([this, token, responder] {
                if (!ctx_.auth.check(token)) {
                    responder->send(http::error_response(
                        make_error(ErrorCode::unauthorized,
                                   "Log in first: POST /admin/api/auth/login", "not_logged_in")));
                    return;
                }
                if (live_streams_.fetch_add(1) >= kMaxLiveStreams) {
                    live_streams_.fetch_sub(1);
                    responder->send(http::error_response(make_error(
                        ErrorCode::rate_limited, "Too many live streams are open; close one.",
                        "too_many_streams")));
                    return;
                }
                if (!responder->start_stream(200, "text/event-stream",
                                             {{"Cache-Control", "no-cache"}})) {
                    live_streams_.fetch_sub(1);
                    return;
                }
                push_live(token, responder);
            });
        },
        std::move(options));
}

void AdminApi::push_live(const std::string& token, const http::ResponderPtr& responder) {
    // Runs on a worker: one snapshot, then the next push is scheduled on the
    // timer (which only posts back to the workers). Ends when the client leaves,
    // the session ends or the gateway stops.
    auto end = [this, responder] {
        responder->end_stream();
        live_streams_.fetch_sub(1);
    };
    if (stopping_.load() || !ctx_.auth.check(token)) return end();
    auto activity = ctx_.logs.activity(unix_ms_now());
    std::string event = activity ? "event: activity\ndata: " + activity->dump() + "\n\n"
                                 : std::string(": database unavailable\n\n");
    bool alive = responder->stream_write(std::move(event), [this, token, responder](bool ok) {
        if (!ok) {
            live_streams_.fetch_sub(1);
            return;
        }
        ctx_.timers.schedule_after(kLiveInterval, [this, token, responder] {
            if (!ctx_.workers.post([this, token, responder] { push_live(token, responder); })) {
                responder->end_stream();
                live_streams_.fetch_sub(1);
            }
        });
    });
    if (!alive) live_streams_.fetch_sub(1);
}

}  // namespace modelgate::core::admin

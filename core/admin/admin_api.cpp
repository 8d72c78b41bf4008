#include "admin/admin_api.hpp"

#include <memory>

#include "admin/fields.hpp"
#include "http/request_util.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace modelgate::core::admin {

int64_t AdminRequest::id_param(const std::string& name) const {
    auto it = params.find(name);
    if (it == params.end() || it->second.empty() || it->second.size() > 18) return -1;
    int64_t v = 0;
    for (char c : it->second) {
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

std::string AdminRequest::query_value(const std::string& name, const std::string& fallback) const {
    auto it = query.find(name);
    return it == query.end() ? fallback : it->second;
}

Result<int64_t> AdminRequest::int_query(const std::string& name, int64_t fallback, int64_t min,
                                        int64_t max) const {
    std::string v = query_value(name);
    if (v.empty()) return fallback;
    try {
        std::size_t used = 0;
        long long n = std::stoll(v, &used);
        if (used == v.size() && n >= min && n <= max) return static_cast<int64_t>(n);
    } catch (...) {
    }
    return invalid_query(name + " must be an integer from " + std::to_string(min) + " to " +
                         std::to_string(max));
}

Result<nlohmann::json> parse_body(const AdminRequest& req) {
    if (req.body.empty()) return nlohmann::json::object();
    auto j = parse_json_body(req.body);
    if (!j) return j.error();
    if (!j->is_object()) {
        return make_error(ErrorCode::invalid_json, "The request body must be a JSON object.",
                          "invalid_json");
    }
    return j;
}

void AdminApi::reload() {
    if (auto st = ctx_.cache.reload(); !st) {
        MG_ERROR("admin", "reloading the configuration failed: " << st.error().message);
    }
}

namespace {

std::vector<std::string> path_segments(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        out.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

}  // namespace

void AdminApi::route(http::Router& router, const std::string& method, const std::string& pattern,
                     AdminHandler handler, bool public_route) {
    if (method == "GET") internal_gets_.push_back({path_segments(pattern), handler});
    http::RouteOptions options;
    options.max_body = kMaxAdminBodyBytes;
    if (!public_route) {
        // A session this instance knows may send a full body; anyone else the
        // server's small bound. The handler checks the session either way.
        options.admit = [this](const http::Request& head) {
            http::Admission a;
            a.authenticated = ctx_.auth.known_session(head.cookie(kSessionCookie));
            return a;
        };
    }
    router.add(
        method, pattern,
        [this, method, handler = std::move(handler), public_route](
            http::Request& request, const http::ResponderPtr& responder) {
            auto req = std::make_shared<AdminRequest>();
            req->method = method;
            req->path = request.path;
            req->params = std::move(request.params);
            req->query = request.query_params();
            req->body = std::move(request.body);
            req->content_type = request.media_type();
            req->session_token = request.cookie(kSessionCookie);
            req->client_ip = request.client_ip;
            req->lang = ctx_.catalogs.pick(req->query_value("lang"), request.cookie("lang"),
                                           request.header("accept-language"));
            bool posted = ctx_.workers.post([this, req, responder, &handler, public_route] {
                AdminResponse resp;
                try {
                    resp = run(*req, handler, public_route);
                } catch (const std::exception& e) {
                    std::string id = crypto::random_hex(6);
                    MG_ERROR("admin", req->method << " " << req->path << " failed (request " << id
                                                  << "): " << e.what());
                    resp = AdminResponse::error(make_error(ErrorCode::internal,
                                                           "Internal error (request id " + id + ")",
                                                           "internal_error"));
                }
                translate(resp, req->lang);
                responder->send(http::json_response(resp.status, resp.body, resp.headers));
            });
            if (!posted) {
                responder->send(http::error_response(make_error(
                    ErrorCode::unavailable, "The gateway is shutting down.", "shutting_down")));
            }
        },
        std::move(options));
}

AdminResponse AdminApi::internal_get(std::string_view target, const std::string& caller) {
    std::size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    AdminResponse not_found = AdminResponse::error(make_error(
        ErrorCode::not_found, "No GET route of the admin API serves this path.", "not_found"));
    if (path.empty() || path.front() != '/' || path.size() > 2048) return not_found;
    std::vector<std::string> segments = path_segments(path);
    // The route with the most literal segments wins, as in the router.
    const InternalGet* best = nullptr;
    int best_literals = -1;
    for (const auto& r : internal_gets_) {
        if (r.segments.size() != segments.size()) continue;
        int literals = 0;
        bool match = true;
        for (std::size_t i = 0; i < segments.size() && match; ++i) {
            const std::string& p = r.segments[i];
            if (!p.empty() && p.front() == '{') {
                match = !segments[i].empty();
            } else {
                match = p == segments[i];
                ++literals;
            }
        }
        if (match && literals > best_literals) {
            best = &r;
            best_literals = literals;
        }
    }
    if (best == nullptr) return not_found;

    AdminRequest req;
    req.method = "GET";
    req.path = std::string(path);
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const std::string& p = best->segments[i];
        if (!p.empty() && p.front() == '{') req.params[p.substr(1, p.size() - 2)] = segments[i];
    }
    http::Request parsed;
    if (q != std::string_view::npos) parsed.query = std::string(target.substr(q + 1));
    req.query = parsed.query_params();
    req.admin_user = caller;
    req.lang = "en";
    try {
        return best->handler(req);
    } catch (const std::exception& e) {
        MG_ERROR("admin", "internal GET " << path << " for " << caller << " failed: " << e.what());
        return AdminResponse::error(
            make_error(ErrorCode::internal, "Internal error", "internal_error"));
    }
}

void AdminApi::translate(AdminResponse& resp, const std::string& lang) const {
    if (resp.status < 400 || lang == "en") return;
    auto error = resp.body.find("error");
    if (error == resp.body.end() || !error->is_object()) return;
    auto code = error->find("code");
    if (code == error->end() || !code->is_string()) return;
    auto text = ctx_.catalogs.find(lang, "error." + code->get<std::string>());
    if (!text) return;
    (*error)["detail"] = (*error)["message"];
    (*error)["message"] = *text;
}

AdminResponse AdminApi::run(AdminRequest& req, const AdminHandler& handler, bool public_route) {
    if (!public_route) {
        auto user = ctx_.auth.check(req.session_token);
        if (!user) {
            return AdminResponse::error(make_error(ErrorCode::unauthorized,
                                                   "Log in first: POST /admin/api/auth/login",
                                                   "not_logged_in"));
        }
        req.admin_user = *user;
    }
    bool mutation = req.method != "GET" && req.method != "HEAD";
    if (mutation && !req.body.empty() && req.content_type != "application/json") {
        return AdminResponse::error(make_error(
            ErrorCode::unsupported_media_type,
            "Send the body as JSON (Content-Type: application/json).", "unsupported_media_type"));
    }
    return handler(req);
}

void AdminApi::register_routes(http::Router& router) {
    register_auth(router);
    register_providers(router);
    register_provider_keys(router);
    register_system(router);
    register_models(router);
    register_keys(router);
    register_logs(router);
    register_scheduler(router);
    register_stats(router);
}

void AdminApi::register_auth(http::Router& router) {
    route(
        router, "POST", "/admin/api/auth/login",
        [this](AdminRequest& req) {
            auto body = parse_body(req);
            if (!body) return AdminResponse::error(body.error());
            Fields f(body.value());
            std::string username = f.text("username", 100).value_or("");
            std::string password = f.text("password", 1000).value_or("");
            if (f.error()) return AdminResponse::error(*f.error());
            auto login = ctx_.auth.login(username, password, req.client_ip);
            if (!login) return AdminResponse::error(login.error());
            AdminResponse r = AdminResponse::ok({{"success", true}, {"username", login->username}});
            r.headers.emplace_back("Set-Cookie", http::make_cookie(kSessionCookie, login->token,
                                                                   auth::AdminAuth::kSessionSeconds,
                                                                   ctx_.config.secure_cookies));
            return r;
        },
        true);
    route(
        router, "POST", "/admin/api/auth/logout",
        [this](AdminRequest& req) {
            ctx_.auth.logout(req.session_token);
            AdminResponse r = AdminResponse::ok({{"success", true}});
            r.headers.emplace_back(
                "Set-Cookie", http::make_cookie(kSessionCookie, "", 0, ctx_.config.secure_cookies));
            return r;
        },
        true);
    route(
        router, "GET", "/admin/api/auth/check",
        [this](AdminRequest& req) {
            auto user = ctx_.auth.check(req.session_token);
            nlohmann::json j = {{"authenticated", user.has_value()}};
            if (user) j["username"] = *user;
            return AdminResponse::ok(j);
        },
        true);
    route(router, "GET", "/admin/api/plugins",
          [this](AdminRequest&) { return AdminResponse::ok(ctx_.plugins.to_json()); });
    // Feature plugins' background tasks, for the dashboard to follow.
    route(router, "GET", "/admin/api/plugins/{id}/tasks", [this](AdminRequest& req) {
        auto limit = req.int_query("limit", 50, 1, features::kMaxTaskList);
        if (!limit) return AdminResponse::error(limit.error());
        std::string kind = req.query_value("kind");
        if (kind.size() > 64) return AdminResponse::error(invalid_query("kind is a task kind"));
        auto tasks = ctx_.tasks.list(req.params.at("id"), kind, static_cast<int>(*limit));
        if (!tasks) return AdminResponse::error(tasks.error());
        return AdminResponse::ok({{"tasks", tasks.value()}});
    });
    route(router, "GET", "/admin/api/plugins/{id}/tasks/{task_id}", [this](AdminRequest& req) {
        int64_t id = req.id_param("task_id");
        auto task = id < 0 ? Result<std::optional<nlohmann::json>>(std::nullopt)
                           : ctx_.tasks.get(req.params.at("id"), id);
        if (!task) return AdminResponse::error(task.error());
        if (!task.value())
            return AdminResponse::error(
                make_error(ErrorCode::not_found, "No such task", "not_found"));
        return AdminResponse::ok(*task.value());
    });
}

void AdminApi::register_logs(http::Router& router) {
    route(router, "GET", "/admin/api/logs/query", [this](AdminRequest& req) {
        store::LogQuery q;
        q.key_name = req.query_value("key_name");
        q.model = req.query_value("model");
        q.status = req.query_value("status");
        q.request_id = req.query_value("request_id");
        auto page = req.int_query("page", 1, 1, 1000000);
        if (!page) return AdminResponse::error(page.error());
        auto size = req.int_query("page_size", 50, 1, 200);
        if (!size) return AdminResponse::error(size.error());
        auto provider = req.int_query("provider", 0, 0, INT64_MAX);
        if (!provider) return AdminResponse::error(provider.error());
        q.page = static_cast<int>(*page);
        q.page_size = static_cast<int>(*size);
        if (*provider > 0) q.provider_id = *provider;
        std::string range = req.query_value("time_range");
        int64_t now = unix_ms_now();
        if (!range.empty()) {
            static const std::unordered_map<std::string, int64_t> ranges = {
                {"1h", 3600000LL},
                {"6h", 6 * 3600000LL},
                {"24h", 24 * 3600000LL},
                {"7d", 7 * 24 * 3600000LL},
                {"30d", 30 * 24 * 3600000LL}};
            auto it = ranges.find(range);
            if (it == ranges.end()) {
                return AdminResponse::error(
                    invalid_query("time_range must be 1h, 6h, 24h, 7d or 30d"));
            }
            q.from_ms = now - it->second;
        }
        for (auto [name, slot] :
             {std::pair{"start_time", &q.from_ms}, std::pair{"end_time", &q.to_ms}}) {
            std::string v = req.query_value(name);
            if (v.empty()) continue;
            auto t = parse_iso8601(v);
            if (!t) {
                return AdminResponse::error(
                    invalid_query(std::string(name) + " must be an ISO 8601 time"));
            }
            *slot = *t;
        }
        auto result = ctx_.logs.query(q);
        if (!result) return AdminResponse::error(result.error());
        return AdminResponse::ok({{"logs", result->logs},
                                  {"total", result->total},
                                  {"page", q.page},
                                  {"page_size", q.page_size}});
    });
}

}  // namespace modelgate::core::admin

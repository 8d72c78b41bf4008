#include "app/feature_host.hpp"

#include <deque>

#include "auth/api_key.hpp"
#include "http/request_util.hpp"
#include "plugins/sink.hpp"
#include "util/log.hpp"

namespace modelgate::core {

namespace {

std::string headers_text(const Pistache::Http::Request& request) {
    std::string out;
    for (const auto& h : request.headers().list()) {
        std::ostringstream os;
        h->write(os);
        out += http::lower(h->name()) + ": " + os.str() + "\n";
    }
    for (const auto& [name, raw] : request.headers().rawList())
        out += http::lower(name) + ": " + raw.value() + "\n";
    return out;
}

nlohmann::json column_value(const soci::row& row, std::size_t i) {
    if (row.get_indicator(i) == soci::i_null) return nullptr;
    switch (row.get_properties(i).get_data_type()) {
        case soci::dt_string:
            return row.get<std::string>(i);
        case soci::dt_integer:
            return row.get<int>(i);
        case soci::dt_long_long:
            return row.get<long long>(i);
        case soci::dt_unsigned_long_long:
            return row.get<unsigned long long>(i);
        case soci::dt_double:
            return row.get<double>(i);
        case soci::dt_date: {
            std::tm tm = row.get<std::tm>(i);
            char buf[32];
            std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
            return buf;
        }
        default:
            return nullptr;
    }
}

}  // namespace

int32_t App::FeatureHost::register_route(const std::string& plugin_id, std::string_view method,
                                         std::string_view prefix, int32_t access, mg_route_fn fn,
                                         void* user) {
    std::string m(method), p(prefix);
    if (p.empty() || p.front() != '/' || p.rfind("/v1", 0) == 0 || p == "/" ||
        p.rfind("/admin/api/auth", 0) == 0) {
        MG_ERROR("plugins", plugin_id << " may not register routes under '" << p << "'");
        return MG_ERR_INVALID;
    }
    auto& router = app_.server_state_->router;
    if (router.has_prefix(m, p)) {
        MG_ERROR("plugins", plugin_id << ": route prefix " << p << " is already taken");
        return MG_ERR_INVALID;
    }
    App* app = &app_;
    router.add_prefix(
        m, p,
        [app, fn, user, access, plugin_id](http::RequestContext& ctx,
                                           Pistache::Http::ResponseWriter& w) {
            struct Copy {
                std::string method, path, query, headers, body, client_ip, admin_user, session,
                    bearer;
            };
            auto c = std::make_shared<Copy>();
            c->method = Pistache::Http::methodString(ctx.request.method());
            c->path = std::string(ctx.path);
            std::string q = ctx.request.query().as_str();
            c->query = q.empty() ? q : q.substr(1);
            c->headers = headers_text(ctx.request);
            c->body = ctx.request.body();
            c->client_ip = ctx.client_ip;
            if (ctx.request.cookies().has(admin::kSessionCookie))
                c->session = ctx.request.cookies().get(admin::kSessionCookie).value;
            std::string auth = http::header_value(ctx.request, "Authorization");
            if (auth.size() > 7 && http::lower(auth.substr(0, 7)) == "bearer ")
                c->bearer = auth.substr(7);
            ctx.writer_moved = true;
            auto writer = std::make_shared<Pistache::Http::ResponseWriter>(std::move(w));
            bool posted = app->workers_->post([app, c, writer, fn, user, access, plugin_id] {
                if (access == MG_ROUTE_ADMIN) {
                    auto u = app->admin_auth_->check(c->session);
                    if (!u) {
                        http::send_error(*writer, make_error(ErrorCode::unauthorized,
                                                             "Log in first", "not_logged_in"));
                        return;
                    }
                    c->admin_user = *u;
                } else if (access == MG_ROUTE_API_KEY) {
                    auto snap = app->cache_->current();
                    const KeyRuntime* key = snap->find_key(auth::hash_api_key(c->bearer));
                    if (key == nullptr || !key->active) {
                        http::send_error(*writer, make_error(ErrorCode::unauthorized,
                                                             "Incorrect API key provided."));
                        return;
                    }
                }
                using plugins::to_mg;
                mg_http_request req{sizeof(mg_http_request), to_mg(c->method),    to_mg(c->path),
                                    to_mg(c->query),         to_mg(c->headers),   to_mg(c->body),
                                    to_mg(c->client_ip),     to_mg(c->admin_user)};
                plugins::StringSink content_type, headers, body;
                mg_http_response resp{sizeof(mg_http_response), 200, content_type.get(),
                                      headers.get(), body.get()};
                int32_t rc = MG_ERR_INTERNAL;
                try {
                    rc = fn(user, &req, &resp);
                } catch (...) {
                    rc = MG_ERR_INTERNAL;
                }
                if (rc != MG_OK) {
                    MG_ERROR("plugins",
                             plugin_id << " route " << c->path << " failed with status " << rc);
                    http::send_error(*writer, make_error(ErrorCode::internal,
                                                         "The plugin '" + plugin_id + "' failed.",
                                                         "plugin_error"));
                    return;
                }
                http::HeaderList extra;
                std::string_view lines = headers.data;
                while (!lines.empty()) {
                    std::size_t nl = lines.find('\n');
                    std::string_view line = lines.substr(0, nl);
                    lines =
                        nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
                    std::size_t colon = line.find(':');
                    if (colon == std::string_view::npos ||
                        line.find('\r') != std::string_view::npos)
                        continue;
                    std::string_view v = line.substr(colon + 1);
                    while (!v.empty() && v.front() == ' ')
                        v.remove_prefix(1);
                    extra.emplace_back(std::string(line.substr(0, colon)), std::string(v));
                }
                int status = resp.status >= 100 && resp.status <= 599 ? resp.status : 500;
                http::send(*writer, status,
                           content_type.data.empty() ? "application/json" : content_type.data,
                           body.data, extra);
            });
            if (!posted)
                http::send_error(
                    *writer, make_error(ErrorCode::unavailable, "The gateway is shutting down."));
        },
        plugin_id);
    MG_INFO("plugins", plugin_id << " serves " << m << " " << p << "*");
    return MG_OK;
}

int32_t App::FeatureHost::sql(std::string_view statement, std::string_view params_json,
                              std::string& rows_json, std::string& err) {
    auto params = nlohmann::json::parse(params_json.empty() ? std::string_view("[]") : params_json,
                                        nullptr, false);
    if (!params.is_array()) {
        err = "params must be a JSON array, got: " + std::string(params_json.substr(0, 200));
        return MG_ERR_INVALID;
    }
    try {
        nlohmann::json rows = nlohmann::json::array();
        app_.db_->with_session([&](soci::session& s) {
            std::deque<std::string> texts;
            std::deque<long long> ints;
            std::deque<double> doubles;
            std::deque<soci::indicator> inds;
            soci::rowset<soci::row> rs = [&] {
                soci::details::prepare_temp_type prep = s.prepare << std::string(statement);
                for (std::size_t i = 0; i < params.size(); ++i) {
                    const auto& p = params[i];
                    std::string name = std::to_string(i + 1);
                    if (p.is_null()) {
                        texts.emplace_back();
                        inds.push_back(soci::i_null);
                        prep, soci::use(texts.back(), inds.back(), name);
                    } else if (p.is_boolean()) {
                        ints.push_back(p.get<bool>() ? 1 : 0);
                        prep, soci::use(ints.back(), name);
                    } else if (p.is_number_integer()) {
                        ints.push_back(p.get<long long>());
                        prep, soci::use(ints.back(), name);
                    } else if (p.is_number()) {
                        doubles.push_back(p.get<double>());
                        prep, soci::use(doubles.back(), name);
                    } else if (p.is_string()) {
                        texts.push_back(p.get<std::string>());
                        prep, soci::use(texts.back(), name);
                    } else {
                        throw std::invalid_argument("parameter " + name + " must be a scalar");
                    }
                }
                return soci::rowset<soci::row>(prep);
            }();
            for (const auto& row : rs) {
                nlohmann::json obj = nlohmann::json::object();
                for (std::size_t i = 0; i < row.size(); ++i)
                    obj[row.get_properties(i).get_name()] = column_value(row, i);
                rows.push_back(std::move(obj));
            }
        });
        rows_json = rows.dump();
        return MG_OK;
    } catch (const std::exception& e) {
        err = e.what();
        return MG_ERR_INVALID;
    }
}

int32_t App::FeatureHost::register_job(const std::string& plugin_id, std::string_view name,
                                       int64_t interval_seconds, mg_job_fn fn, void* user) {
    std::string job_name = plugin_id + ":" + std::string(name);
    bool added = app_.scheduler_->add(
        job_name, plugin_id, std::chrono::seconds(interval_seconds), [fn, user, job_name] {
            plugins::StringSink summary;
            int32_t rc = fn(user, summary.get());
            if (rc != MG_OK)
                throw std::runtime_error(summary.data.empty() ? "the plugin job failed"
                                                              : summary.data);
            return summary.data;
        });
    return added ? MG_OK : MG_ERR_INVALID;
}

int32_t App::FeatureHost::llm_call(const std::string& plugin_id, std::string_view request_json,
                                   std::string& response, std::string& err) {
    return app_.proxy_->internal_call(plugin_id, request_json, response, err);
}

void App::FeatureHost::withdraw(const std::string& plugin_id) {
    app_.server_state_->router.remove_owner(plugin_id);
    app_.scheduler_->remove_owner(plugin_id);
}

}  // namespace modelgate::core

#include "features/host_services.hpp"

#include <deque>
#include <modelgate/header_block.hpp>
#include <modelgate/sink.hpp>

#include "domain/api_key_auth.hpp"
#include "http/request_util.hpp"
#include "util/json.hpp"
#include "util/log.hpp"

namespace modelgate::core::features {

namespace {

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

http::RouteOptions HostServices::route_options(int32_t access) const {
    http::RouteOptions options;
    options.max_body = kMaxPluginBodyBytes;
    const HostDeps* d = &d_;
    if (access == MG_ROUTE_API_KEY) {
        // The same check as /v1, on the head: no key, no body.
        options.admit = [d](const http::Request& head) {
            http::Admission a;
            auto key = authenticate_api_key(*d->config.current(), head.header("authorization"),
                                            unix_ms_now());
            if (key)
                a.authenticated = true;
            else
                a.refusal = key.error();
            return a;
        };
    } else if (access == MG_ROUTE_ADMIN) {
        options.admit = [d](const http::Request& head) {
            http::Admission a;
            a.authenticated = d->admin_auth.known_session(head.cookie(auth::kSessionCookie));
            return a;
        };
    }
    return options;
}

int32_t HostServices::register_route(const std::string& plugin_id, std::string_view method,
                                     std::string_view prefix, int32_t access, mg_route_fn fn,
                                     void* user) {
    std::string m(method), p(prefix);
    if (p.empty() || p.front() != '/' || p.rfind("/v1", 0) == 0 || p == "/" ||
        p.rfind("/admin/api/auth", 0) == 0) {
        MG_ERROR("plugins", plugin_id << " may not register routes under '" << p << "'");
        return MG_ERR_INVALID;
    }
    auto& router = d_.router;
    if (router.has_prefix(m, p)) {
        MG_ERROR("plugins", plugin_id << ": route prefix " << p << " is already taken");
        return MG_ERR_INVALID;
    }
    HostDeps* d = &d_;
    router.add_prefix(
        m, p,
        [d, fn, user, access, plugin_id](http::Request& request,
                                         const http::ResponderPtr& responder) {
            // A JSON body too deeply nested for any JSON library is refused here,
            // for plugins that parse it with a recursive parser of their own.
            if (request.media_type().find("json") != std::string::npos &&
                !json_depth_ok(request.body)) {
                responder->send(http::error_response(parse_json_body(request.body).error()));
                return;
            }
            auto req = std::make_shared<http::Request>(std::move(request));
            bool posted = d->workers.post([d, req, responder, fn, user, access, plugin_id] {
                std::string admin_user;
                if (access == MG_ROUTE_ADMIN) {
                    auto u = d->admin_auth.check(req->cookie(auth::kSessionCookie));
                    if (!u) {
                        responder->send(http::error_response(
                            make_error(ErrorCode::unauthorized, "Log in first", "not_logged_in")));
                        return;
                    }
                    admin_user = *u;
                }
                int64_t key_id = 0;
                std::string key_name;
                if (access == MG_ROUTE_API_KEY) {
                    // Checked again: the configuration may have changed since the head.
                    auto key = authenticate_api_key(*d->config.current(),
                                                    req->header("authorization"), unix_ms_now());
                    if (!key) {
                        responder->send(http::error_response(key.error()));
                        return;
                    }
                    key_id = key.value()->id;
                    key_name = key.value()->name;
                }
                std::string headers = modelgate::sdk::headers::write(req->headers);
                using modelgate::sdk::str;
                mg_http_request r{sizeof(mg_http_request),
                                  str(req->method),
                                  str(req->path),
                                  str(req->query),
                                  str(headers),
                                  str(req->body),
                                  str(req->client_ip),
                                  str(admin_user),
                                  key_id,
                                  str(key_name)};
                modelgate::sdk::StringSink content_type, out_headers, body;
                mg_http_response resp{sizeof(mg_http_response), 200, content_type.get(),
                                      out_headers.get(), body.get()};
                int32_t rc = MG_ERR_INTERNAL;
                try {
                    rc = fn(user, &r, &resp);
                } catch (...) {
                    rc = MG_ERR_INTERNAL;
                }
                if (rc != MG_OK) {
                    MG_ERROR("plugins",
                             plugin_id << " route " << req->path << " failed with status " << rc);
                    responder->send(http::error_response(
                        make_error(ErrorCode::internal, "The plugin '" + plugin_id + "' failed.",
                                   "plugin_error")));
                    return;
                }
                http::HeaderList extra = modelgate::sdk::headers::parse(out_headers.data);
                int status = resp.status >= 100 && resp.status <= 599 ? resp.status : 500;
                responder->send(http::text_response(
                    status, content_type.data.empty() ? "application/json" : content_type.data,
                    std::move(body.data), std::move(extra)));
            });
            if (!posted)
                responder->send(http::error_response(
                    make_error(ErrorCode::unavailable, "The gateway is shutting down.")));
        },
        plugin_id, route_options(access));
    MG_INFO("plugins", plugin_id << " serves " << m << " " << p << "*");
    return MG_OK;
}

int32_t HostServices::sql(std::string_view statement, std::string_view params_json,
                          std::string& rows_json, std::string& err) {
    auto params = parse_json(params_json.empty() ? std::string_view("[]") : params_json);
    if (!params.is_array()) {
        err = "params must be a JSON array, got: " + std::string(params_json.substr(0, 200));
        return MG_ERR_INVALID;
    }
    try {
        nlohmann::json rows = nlohmann::json::array();
        d_.database.with_session([&](soci::session& s) {
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
                // A statement without a result (DDL, INSERT) has no columns. On
                // PostgreSQL SOCI's rowset was seen yielding such empty rows
                // without end (gigabytes in seconds): stop at the first.
                if (row.size() == 0) break;
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

int32_t HostServices::register_job(const std::string& plugin_id, std::string_view name,
                                   int64_t interval_seconds, mg_job_fn fn, void* user) {
    std::string job_name = plugin_id + ":" + std::string(name);
    bool added = d_.scheduler.add(
        job_name, plugin_id, "Job '" + std::string(name) + "' of the plugin " + plugin_id,
        std::chrono::seconds(interval_seconds), [fn, user]() -> JobOutcome {
            modelgate::sdk::StringSink summary;
            int32_t rc = fn(user, summary.get());
            if (rc != MG_OK)
                throw std::runtime_error(summary.data.empty() ? "the plugin job failed"
                                                              : summary.data);
            return summary.data;
        });
    return added ? MG_OK : MG_ERR_INVALID;
}

int32_t HostServices::llm_call(const std::string& plugin_id, std::string_view request_json,
                               std::string& response, std::string& err) {
    return d_.proxy.internal_call(plugin_id, request_json, response, err);
}

void HostServices::withdraw(const std::string& plugin_id) {
    d_.router.remove_owner(plugin_id);
    d_.scheduler.remove_owner(plugin_id);
}

}  // namespace modelgate::core::features

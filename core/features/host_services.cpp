#include "features/host_services.hpp"

#include <deque>
#include <filesystem>
#include <modelgate/header_block.hpp>
#include <modelgate/sink.hpp>
#include <regex>

#include "domain/api_key_auth.hpp"
#include "http/request_util.hpp"
#include "store/migrations.hpp"
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

// Runs one statement with positional parameters (:1, :2, ...); returns
// {"columns": [...], "rows": [[...], ...]}. Throws with the database's message.
nlohmann::json run_statement(soci::session& s, const std::string& statement,
                             const nlohmann::json& params) {
    std::deque<std::string> texts;
    std::deque<long long> ints;
    std::deque<double> doubles;
    std::deque<soci::indicator> inds;
    soci::details::prepare_temp_type prep = s.prepare << statement;
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
    soci::rowset<soci::row> rs(prep);
    nlohmann::json columns = nlohmann::json::array(), rows = nlohmann::json::array();
    for (const auto& row : rs) {
        // A statement without a result (DDL, INSERT) has no columns. On
        // PostgreSQL SOCI's rowset was seen yielding such empty rows without
        // end (gigabytes in seconds): stop at the first.
        if (row.size() == 0) break;
        if (columns.empty()) {
            for (std::size_t i = 0; i < row.size(); ++i)
                columns.push_back(row.get_properties(i).get_name());
        }
        nlohmann::json values = nlohmann::json::array();
        for (std::size_t i = 0; i < row.size(); ++i)
            values.push_back(column_value(row, i));
        rows.push_back(std::move(values));
    }
    return {{"columns", std::move(columns)}, {"rows", std::move(rows)}};
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
    if (!registering(plugin_id, "register routes")) return MG_ERR_INVALID;
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
                RouteCall call;
                call.responder = responder;
                mg_http_request r{sizeof(mg_http_request), str(req->method),  str(req->path),
                                  str(req->query),         str(headers),      str(req->body),
                                  str(req->client_ip),     str(admin_user),   key_id,
                                  str(key_name),           str(d->base_path), &call};
                modelgate::sdk::StringSink content_type, out_headers, body;
                mg_http_response resp{sizeof(mg_http_response), 200, content_type.get(),
                                      out_headers.get(), body.get()};
                int32_t rc = MG_ERR_INTERNAL;
                try {
                    rc = fn(user, &r, &resp);
                } catch (...) {
                    rc = MG_ERR_INTERNAL;
                }
                if (call.streamed.load()) {
                    // The plugin answers through its stream.
                    if (rc != MG_OK)
                        MG_ERROR("plugins", plugin_id << " route " << req->path
                                                      << " failed with status " << rc
                                                      << " after opening its stream");
                    return;
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
        auto result = d_.database.with_session(
            [&](soci::session& s) { return run_statement(s, std::string(statement), params); });
        // ABI 1.0's shape: one object per row.
        nlohmann::json rows = nlohmann::json::array();
        for (auto& values : result["rows"]) {
            nlohmann::json obj = nlohmann::json::object();
            for (std::size_t i = 0; i < values.size(); ++i)
                obj[result["columns"][i].get<std::string>()] = std::move(values[i]);
            rows.push_back(std::move(obj));
        }
        rows_json = rows.dump();
        return MG_OK;
    } catch (const std::exception& e) {
        err = e.what();
        return MG_ERR_INVALID;
    }
}

int32_t HostServices::sql_transaction(std::string_view statements_json, std::string& results_json,
                                      std::string& err) {
    auto statements = parse_json(statements_json);
    if (!statements.is_array() || statements.empty() || statements.size() > kMaxPluginStatements) {
        err = "statements must be a JSON array of 1 to " + std::to_string(kMaxPluginStatements) +
              " {\"sql\", \"params\"} objects";
        return MG_ERR_INVALID;
    }
    for (const auto& st : statements) {
        if (!st.is_object() || !st.contains("sql") || !st["sql"].is_string() ||
            (st.contains("params") && !st["params"].is_array())) {
            err = "each statement must be {\"sql\": \"...\", \"params\": [...]}";
            return MG_ERR_INVALID;
        }
    }
    std::size_t at = 0;
    try {
        nlohmann::json results = nlohmann::json::array();
        d_.database.with_session([&](soci::session& s) {
            store::WriteTransaction tr(s);
            for (; at < statements.size(); ++at) {
                const auto& st = statements[at];
                results.push_back(run_statement(s, st["sql"].get<std::string>(),
                                                st.value("params", nlohmann::json::array())));
            }
            tr.commit();
        });
        results_json = results.dump();
        return MG_OK;
    } catch (const std::exception& e) {
        err = "statement " + std::to_string(at + 1) + ": " + e.what();
        return MG_ERR_INVALID;
    }
}

namespace {

// A plugin job as the scheduler runs it: its summary, or its failure's reason.
Scheduler::JobFn plugin_job(mg_job_fn fn, void* user) {
    return [fn, user]() -> JobOutcome {
        modelgate::sdk::StringSink summary;
        int32_t rc = fn(user, summary.get());
        if (rc != MG_OK)
            throw std::runtime_error(summary.data.empty() ? "the plugin job failed" : summary.data);
        return summary.data;
    };
}

std::string job_description(const std::string& plugin_id, std::string_view name) {
    return "Job '" + std::string(name) + "' of the plugin " + plugin_id;
}

}  // namespace

bool HostServices::registering(const std::string& plugin_id, const char* what) const {
    if (open_.load()) return true;
    MG_ERROR("plugins", plugin_id << " may " << what << " only during init");
    return false;
}

int32_t HostServices::register_job(const std::string& plugin_id, std::string_view name,
                                   int64_t interval_seconds, mg_job_fn fn, void* user) {
    if (!registering(plugin_id, "register jobs")) return MG_ERR_INVALID;
    bool added = d_.scheduler.add(plugin_id + ":" + std::string(name), plugin_id,
                                  job_description(plugin_id, name),
                                  std::chrono::seconds(interval_seconds), plugin_job(fn, user));
    return added ? MG_OK : MG_ERR_INVALID;
}

int32_t HostServices::register_daily_job(const std::string& plugin_id, std::string_view name,
                                         std::string_view at_hh_mm, mg_job_fn fn, void* user) {
    if (!registering(plugin_id, "register jobs")) return MG_ERR_INVALID;
    try {
        bool added = d_.scheduler.add_daily(plugin_id + ":" + std::string(name), plugin_id,
                                            job_description(plugin_id, name), std::string(at_hh_mm),
                                            plugin_job(fn, user));
        return added ? MG_OK : MG_ERR_INVALID;
    } catch (const std::invalid_argument& e) {
        MG_ERROR("plugins", plugin_id << ": " << e.what());
        return MG_ERR_INVALID;
    }
}

int32_t HostServices::llm_call(const std::string& plugin_id, std::string_view request_json,
                               std::string& response, std::string& err) {
    return d_.proxy.internal_call({plugin_id, std::nullopt, "", std::chrono::milliseconds(0)},
                                  request_json, response, err);
}

int32_t HostServices::llm_call_ex(const std::string& plugin_id, std::string_view request_json,
                                  std::string_view options_json, std::string& response,
                                  std::string& err) {
    auto request = parse_json(request_json);
    auto options = parse_json(options_json.empty() ? std::string_view("{}") : options_json);
    if (!request.is_object() || !options.is_object()) {
        err = "the request and the options must be JSON objects";
        return -1;
    }
    std::vector<std::string> models;
    if (auto it = options.find("models"); it != options.end()) {
        if (!it->is_array() || it->empty() || it->size() > kMaxLlmModels) {
            err = "models must be an array of 1 to " + std::to_string(kMaxLlmModels) + " names";
            return -1;
        }
        for (const auto& m : *it) {
            if (!m.is_string() || m.get<std::string>().empty()) {
                err = "models must hold \"provider/model\" names";
                return -1;
            }
            models.push_back(m.get<std::string>());
        }
    } else if (request.contains("model") && request["model"].is_string()) {
        models.push_back(request["model"].get<std::string>());
    } else {
        err = "no model: give the request a model or the options a model list";
        return -1;
    }
    int64_t timeout_ms = kDefaultLlmTimeoutMs;
    if (auto it = options.find("timeout_ms"); it != options.end()) {
        if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
            it->get<int64_t>() > kMaxLlmTimeoutMs) {
            err = "timeout_ms must be an integer from 1 to " + std::to_string(kMaxLlmTimeoutMs);
            return -1;
        }
        timeout_ms = it->get<int64_t>();
    }
    proxy::ProxyService::InternalCaller who{plugin_id, std::nullopt, "",
                                            std::chrono::milliseconds(0)};
    if (auto it = options.find("api_key_id"); it != options.end() && !it->is_null()) {
        const KeyRuntime* key = it->is_number_integer()
                                    ? d_.config.current()->find_key_by_id(it->get<int64_t>())
                                    : nullptr;
        if (key == nullptr) {
            err = "api_key_id names no API key";
            return -1;
        }
        who.key_id = key->id;
        who.key_name = key->name;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = -1;
    std::string failures;
    for (const auto& model : models) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            failures += (failures.empty() ? "" : "; ") + model + ": not tried, no time left";
            break;
        }
        who.timeout = left;
        request["model"] = model;
        std::string answer, why;
        status = d_.proxy.internal_call(who, request.dump(), answer, why);
        response = std::move(answer);
        if (status >= 200 && status < 300) {
            err = failures;
            return status;
        }
        std::string reason = status < 0 ? why : "HTTP " + std::to_string(status);
        if (status >= 0) {
            auto body = parse_json(response);
            if (body.is_object() && body.contains("error") && body["error"].is_object() &&
                body["error"].value("message", "") != "")
                reason += " " + body["error"]["message"].get<std::string>().substr(0, 300);
        }
        failures += (failures.empty() ? "" : "; ") + model + ": " + reason;
    }
    err = failures;
    return status;
}

const std::string& HostServices::data_dir(const std::string& plugin_id) {
    std::lock_guard lock(dirs_mu_);
    auto it = dirs_.find(plugin_id);
    if (it == dirs_.end()) {
        std::string dir = d_.data_dir + "/plugins/" + plugin_id;
        std::filesystem::create_directories(dir);  // throws: the barrier logs it
        it = dirs_.emplace(plugin_id, std::move(dir)).first;
    }
    return it->second;
}

std::optional<std::string> misnamed_object(const std::string& script, const std::string& prefix) {
    static const std::string kName = R"(\s+(?:if\s+(?:not\s+)?exists\s+)?("?[\w.]+"?))";
    static const std::regex kDefinition(
        R"(^\s*(?:create\s+(?:unique\s+)?(?:temp\s+|temporary\s+)?|alter\s+|drop\s+))"
        R"((table|index|view|trigger|sequence))" +
            kName,
        std::regex::icase);
    static const std::regex kWrite(R"(^\s*(?:insert\s+into|update|delete\s+from))" + kName,
                                   std::regex::icase);
    // The table an index or a trigger is on.
    static const std::regex kOn(R"(\son\s+("?[\w.]+"?))", std::regex::icase);
    auto bare = [](std::string name) {
        name.erase(std::remove(name.begin(), name.end(), '"'), name.end());
        if (auto dot = name.rfind('.'); dot != std::string::npos) name.erase(0, dot + 1);
        for (char& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return name;
    };
    auto foreign = [&](const std::string& name) { return bare(name).rfind(prefix, 0) != 0; };
    for (const auto& statement : store::split_sql_statements(script)) {
        std::smatch m;
        if (std::regex_search(statement, m, kDefinition)) {
            if (foreign(m[2].str())) return bare(m[2].str());
            std::string kind = bare(m[1].str()), rest = m.suffix().str();
            std::smatch on;
            if ((kind == "index" || kind == "trigger") && std::regex_search(rest, on, kOn) &&
                foreign(on[1].str()))
                return bare(on[1].str());
        } else if (std::regex_search(statement, m, kWrite) && foreign(m[1].str())) {
            return bare(m[1].str());
        }
    }
    return std::nullopt;
}

int32_t HostServices::migrate(const std::string& plugin_id, std::string_view migrations_json,
                              std::string& err) {
    if (!registering(plugin_id, "migrate")) {
        err = "migrations run only during init";
        return MG_ERR_INVALID;
    }
    auto list = parse_json(migrations_json);
    if (!list.is_array() || list.size() > kMaxPluginMigrations) {
        err = "migrations must be a JSON array of at most " + std::to_string(kMaxPluginMigrations) +
              " objects";
        return MG_ERR_INVALID;
    }
    const std::string dialect = d_.database.dialect_name();
    std::string prefix = plugin_id + "_";
    std::replace(prefix.begin(), prefix.end(), '-', '_');
    struct Step {
        int version;
        std::string name, sql;
    };
    std::vector<Step> steps;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& m = list[i];
        std::string at = "migration " + std::to_string(i + 1);
        if (!m.is_object() || !m.contains("version") || !m["version"].is_number_integer() ||
            m["version"].get<int64_t>() != static_cast<int64_t>(i + 1)) {
            err = at + ": versions must be 1, 2, 3, ... in order";
            return MG_ERR_INVALID;
        }
        if (!m.contains("name") || !m["name"].is_string() || m["name"].get<std::string>().empty() ||
            m["name"].get<std::string>().size() > 200) {
            err = at + ": a name of 1 to 200 characters is needed";
            return MG_ERR_INVALID;
        }
        if (!m.contains(dialect) || !m[dialect].is_string() ||
            m[dialect].get<std::string>().empty()) {
            err = at + " has no \"" + dialect + "\" script";
            return MG_ERR_INVALID;
        }
        Step step{static_cast<int>(i + 1), m["name"].get<std::string>(),
                  m[dialect].get<std::string>()};
        if (auto bad = misnamed_object(step.sql, prefix)) {
            err = at + " (" + step.name + ") touches '" + *bad + "': a plugin's tables are named " +
                  prefix + "...";
            return MG_ERR_INVALID;
        }
        steps.push_back(std::move(step));
    }
    std::string failing;
    try {
        return d_.database.with_session([&](soci::session& s) -> int32_t {
            int newest = 0;
            s << "SELECT COALESCE(MAX(version), 0) FROM plugin_migrations WHERE plugin_id = :p",
                soci::use(plugin_id), soci::into(newest);
            if (newest > static_cast<int>(steps.size())) {
                err = "the database holds version " + std::to_string(newest) + " of " + plugin_id +
                      "'s tables; this build of the plugin knows up to " +
                      std::to_string(steps.size());
                return MG_ERR_INVALID;
            }
            for (const auto& step : steps) {
                if (step.version <= newest) continue;
                failing = "migration " + std::to_string(step.version) + " (" + step.name + ")";
                store::WriteTransaction tr(s);
                for (const auto& statement : store::split_sql_statements(step.sql))
                    s << statement;
                s << "INSERT INTO plugin_migrations (plugin_id, version, name) VALUES (:p, :v, :n)",
                    soci::use(plugin_id), soci::use(step.version), soci::use(step.name);
                tr.commit();
                MG_INFO("plugins", plugin_id << ": applied " << failing);
            }
            return MG_OK;
        });
    } catch (const std::exception& e) {
        err = (failing.empty() ? std::string("reading the applied migrations") : failing) +
              " failed: " + e.what();
        return MG_ERR_INVALID;
    }
}

void HostServices::withdraw(const std::string& plugin_id) {
    d_.router.remove_owner(plugin_id);
    d_.scheduler.remove_owner(plugin_id);
    d_.tasks.withdraw(plugin_id);
}

int32_t HostServices::register_task_kind(const std::string& plugin_id, std::string_view kind,
                                         mg_task_fn fn, void* user) {
    if (!registering(plugin_id, "register task kinds")) return MG_ERR_INVALID;
    if (d_.tasks.register_kind(plugin_id, std::string(kind), fn, user)) return MG_OK;
    MG_ERROR("plugins",
             plugin_id << ": task kind '" << kind << "' is malformed ([a-z0-9_-]{1,64}) or taken");
    return MG_ERR_INVALID;
}

int32_t HostServices::task_start(const std::string& plugin_id, std::string_view kind,
                                 std::string_view key, std::string_view input_json,
                                 std::string& task_json, std::string& err) {
    auto r = d_.tasks.start(plugin_id, std::string(kind), std::string(key), input_json);
    if (!r) {
        err = r.error().message;
        return MG_ERR_INVALID;
    }
    task_json = r->task.dump();
    return r->started ? MG_OK : MG_ERR_CONFLICT;
}

int32_t HostServices::task_progress(const std::string& plugin_id, int64_t id,
                                    std::string_view progress_json) {
    return d_.tasks.progress(plugin_id, id, progress_json) ? MG_OK : MG_ERR_INVALID;
}

int32_t HostServices::task_get(const std::string& plugin_id, int64_t id, std::string& task_json) {
    auto r = d_.tasks.get(plugin_id, id);
    if (!r || !r.value()) return MG_ERR_INVALID;
    task_json = r.value()->dump();
    return MG_OK;
}

int32_t HostServices::task_list(const std::string& plugin_id, std::string_view kind, int32_t limit,
                                std::string& tasks_json) {
    auto r = d_.tasks.list(plugin_id, std::string(kind), limit);
    if (!r) return MG_ERR_INVALID;
    tasks_json = r->dump();
    return MG_OK;
}

mg_stream* HostServices::stream_open(const mg_http_request* request, int32_t status,
                                     std::string_view content_type, std::string_view headers) {
    if (request == nullptr || !MG_HAS_FIELD(request, mg_http_request, host_call) ||
        request->host_call == nullptr)
        return nullptr;
    return open_stream(*static_cast<RouteCall*>(request->host_call), status, content_type, headers);
}

int32_t HostServices::http_fetch(const std::string& plugin_id, std::string_view request_json,
                                 mg_fetch_fn done, void* user, std::string& err) {
    if (done == nullptr) {
        err = "done is required";
        return MG_ERR_INVALID;
    }
    bool started = start_fetch(
        d_.loops.next(), io_, request_json, d_.config.current()->user_agent,
        [done, user](FetchAnswer a) {
            using modelgate::sdk::str;
            done(user, a.status, str(a.headers), str(a.body), str(a.error));
        },
        err);
    if (!started) MG_WARN("plugins", plugin_id << ": http_fetch refused: " << err);
    return started ? MG_OK : MG_ERR_INVALID;
}

int32_t HostServices::api_get(const std::string& plugin_id, std::string_view target,
                              std::string& body) {
    if (!d_.admin_get) {
        body = R"({"error":{"message":"The admin API is not available.","code":"not_found"}})";
        return 404;
    }
    auto [status, json] = d_.admin_get(target, "plugin:" + plugin_id);
    body = std::move(json);
    return status;
}

}  // namespace modelgate::core::features

#include "plugins/plugin_host.hpp"

#include <algorithm>
#include <filesystem>
#include <modelgate/sink.hpp>
#include <mutex>

#include "util/json.hpp"
#include "util/log.hpp"

#ifndef MODELGATE_VERSION
#define MODELGATE_VERSION "dev"
#endif

namespace modelgate::core::plugins {

namespace {

using modelgate::sdk::append;
using modelgate::sdk::str;
using modelgate::sdk::view;

PluginHost* host_of(mg_plugin_handle* self) {
    return self != nullptr ? self->host : nullptr;
}

// Every service a plugin calls runs behind this barrier: no exception crosses
// the ABI from the host side either. A failure is logged with its message and
// answered with an error status.
template <class R, class F>
R barrier(mg_plugin_handle* self, const char* service, R failed, F&& f) noexcept {
    try {
        return f();
    } catch (const std::exception& e) {
        try {
            MG_ERROR("plugins", "host service " << service << " for plugin "
                                                << (self != nullptr ? self->id : std::string("?"))
                                                << " failed: " << e.what());
        } catch (...) {
        }
    } catch (...) {
    }
    return failed;
}

void host_log(mg_plugin_handle* self, int32_t level, mg_str message) noexcept {
    barrier(self, "log", 0, [&] {
        std::string component = "plugin:" + (self != nullptr ? self->id : std::string("?"));
        log::Level l = level <= MG_LOG_DEBUG  ? log::Level::debug
                       : level == MG_LOG_INFO ? log::Level::info
                       : level == MG_LOG_WARN ? log::Level::warn
                                              : log::Level::error;
        if (log::enabled(l)) log::write(l, component, view(message));
        return 0;
    });
}

int32_t host_register_route(mg_plugin_handle* self, mg_str method, mg_str prefix, int32_t access,
                            mg_route_fn fn, void* user) noexcept {
    return barrier(self, "register_route", int32_t{MG_ERR_INTERNAL}, [&]() -> int32_t {
        PluginHost* h = host_of(self);
        if (h == nullptr || h->services() == nullptr || fn == nullptr) return MG_ERR_INVALID;
        return h->services()->register_route(self->id, view(method), view(prefix), access, fn,
                                             user);
    });
}

int32_t host_sql(mg_plugin_handle* self, mg_str sql, mg_str params, const mg_sink* rows,
                 const mg_sink* err) noexcept {
    return barrier(self, "sql", int32_t{MG_ERR_INTERNAL}, [&]() -> int32_t {
        PluginHost* h = host_of(self);
        if (h == nullptr || h->services() == nullptr) return MG_ERR_INVALID;
        std::string out, e;
        int32_t rc = h->services()->sql(view(sql), view(params), out, e);
        append(rows, out);
        append(err, e);
        return rc;
    });
}

mg_str host_dialect(mg_plugin_handle* self) noexcept {
    return barrier(self, "sql_dialect", mg_str{"", 0}, [&]() -> mg_str {
        PluginHost* h = host_of(self);
        if (h == nullptr || h->services() == nullptr) return {"", 0};
        return str(h->services()->dialect());
    });
}

int32_t host_register_job(mg_plugin_handle* self, mg_str name, int64_t interval, mg_job_fn fn,
                          void* user) noexcept {
    return barrier(self, "register_job", int32_t{MG_ERR_INTERNAL}, [&]() -> int32_t {
        PluginHost* h = host_of(self);
        if (h == nullptr || h->services() == nullptr || fn == nullptr || interval < 1)
            return MG_ERR_INVALID;
        return h->services()->register_job(self->id, view(name), interval, fn, user);
    });
}

int32_t host_llm_call(mg_plugin_handle* self, mg_str request, const mg_sink* response,
                      const mg_sink* err) noexcept {
    return barrier(self, "llm_call", int32_t{-1}, [&]() -> int32_t {
        PluginHost* h = host_of(self);
        if (h == nullptr || h->services() == nullptr) {
            append(err, "the gateway is not ready for internal calls");
            return -1;
        }
        std::string out, e;
        int32_t status = h->services()->llm_call(self->id, view(request), out, e);
        append(response, out);
        append(err, e);
        return status;
    });
}

void host_i18n(mg_plugin_handle* self, mg_str locale, mg_str key, const mg_sink* out) noexcept {
    barrier(self, "i18n", 0, [&] {
        PluginHost* h = host_of(self);
        append(out, h == nullptr || h->services() == nullptr
                        ? std::string(view(key))
                        : h->services()->i18n(view(locale), view(key)));
        return 0;
    });
}

// The services of ABI 1.2: each needs the plugin's services object.
template <class R, class F>
R with_services(mg_plugin_handle* self, const char* service, R failed, F&& f) noexcept {
    return barrier(self, service, failed, [&]() -> R {
        PluginHost* h = host_of(self);
        if (h == nullptr || h->services() == nullptr) return failed;
        return f(*h->services());
    });
}

int32_t host_migrate(mg_plugin_handle* self, mg_str migrations, const mg_sink* err) noexcept {
    return with_services(self, "migrate", int32_t{MG_ERR_INTERNAL}, [&](FeatureServices& s) {
        std::string e;
        int32_t rc = s.migrate(self->id, view(migrations), e);
        append(err, e);
        return rc;
    });
}

int32_t host_sql_transaction(mg_plugin_handle* self, mg_str statements, const mg_sink* results,
                             const mg_sink* err) noexcept {
    return with_services(self, "sql_transaction", int32_t{MG_ERR_INTERNAL},
                         [&](FeatureServices& s) {
                             std::string out, e;
                             int32_t rc = s.sql_transaction(view(statements), out, e);
                             append(results, out);
                             append(err, e);
                             return rc;
                         });
}

int32_t host_register_daily_job(mg_plugin_handle* self, mg_str name, mg_str at, mg_job_fn fn,
                                void* user) noexcept {
    return with_services(self, "register_daily_job", int32_t{MG_ERR_INTERNAL},
                         [&](FeatureServices& s) -> int32_t {
                             if (fn == nullptr) return MG_ERR_INVALID;
                             return s.register_daily_job(self->id, view(name), view(at), fn, user);
                         });
}

int32_t host_llm_call_ex(mg_plugin_handle* self, mg_str request, mg_str options,
                         const mg_sink* response, const mg_sink* err) noexcept {
    PluginHost* h = host_of(self);
    if (h == nullptr || h->services() == nullptr) {
        append(err, "the gateway is not ready for internal calls");
        return -1;
    }
    return with_services(self, "llm_call_ex", int32_t{-1}, [&](FeatureServices& s) {
        std::string out, e;
        int32_t rc = s.llm_call_ex(self->id, view(request), view(options), out, e);
        append(response, out);
        append(err, e);
        return rc;
    });
}

int32_t host_seal(mg_plugin_handle* self, mg_str plain, const mg_sink* sealed) noexcept {
    return with_services(self, "seal", int32_t{MG_ERR_INTERNAL}, [&](FeatureServices& s) {
        append(sealed, s.seal(view(plain)));
        return int32_t{MG_OK};
    });
}

int32_t host_open_sealed(mg_plugin_handle* self, mg_str sealed, const mg_sink* plain) noexcept {
    return with_services(self, "open_sealed", int32_t{MG_ERR_INTERNAL},
                         [&](FeatureServices& s) -> int32_t {
                             auto opened = s.open_sealed(view(sealed));
                             if (!opened) return MG_ERR_INVALID;
                             append(plain, *opened);
                             return MG_OK;
                         });
}

mg_str host_data_dir(mg_plugin_handle* self) noexcept {
    return with_services(self, "data_dir", mg_str{"", 0},
                         [&](FeatureServices& s) { return str(s.data_dir(self->id)); });
}

int32_t host_register_task_kind(mg_plugin_handle* self, mg_str kind, mg_task_fn fn,
                                void* user) noexcept {
    return with_services(self, "register_task_kind", int32_t{MG_ERR_INTERNAL},
                         [&](FeatureServices& s) -> int32_t {
                             if (fn == nullptr) return MG_ERR_INVALID;
                             return s.register_task_kind(self->id, view(kind), fn, user);
                         });
}

int32_t host_task_start(mg_plugin_handle* self, mg_str kind, mg_str key, mg_str input,
                        const mg_sink* task, const mg_sink* err) noexcept {
    return with_services(self, "task_start", int32_t{MG_ERR_INTERNAL}, [&](FeatureServices& s) {
        std::string out, e;
        int32_t rc = s.task_start(self->id, view(kind), view(key), view(input), out, e);
        append(task, out);
        append(err, e);
        return rc;
    });
}

int32_t host_task_progress(mg_plugin_handle* self, int64_t id, mg_str progress) noexcept {
    return with_services(self, "task_progress", int32_t{MG_ERR_INTERNAL}, [&](FeatureServices& s) {
        return s.task_progress(self->id, id, view(progress));
    });
}

int32_t host_task_get(mg_plugin_handle* self, int64_t id, const mg_sink* task) noexcept {
    return with_services(self, "task_get", int32_t{MG_ERR_INTERNAL}, [&](FeatureServices& s) {
        std::string out;
        int32_t rc = s.task_get(self->id, id, out);
        append(task, out);
        return rc;
    });
}

int32_t host_task_list(mg_plugin_handle* self, mg_str kind, int32_t limit,
                       const mg_sink* tasks) noexcept {
    return with_services(self, "task_list", int32_t{MG_ERR_INTERNAL}, [&](FeatureServices& s) {
        std::string out;
        int32_t rc = s.task_list(self->id, view(kind), limit, out);
        append(tasks, out);
        return rc;
    });
}

int32_t host_api_get(mg_plugin_handle* self, mg_str target, const mg_sink* body) noexcept {
    return with_services(self, "api_get", int32_t{500}, [&](FeatureServices& s) {
        std::string out;
        int32_t status = s.api_get(self->id, view(target), out);
        append(body, out);
        return status;
    });
}

mg_stream* host_stream_open(mg_plugin_handle* self, const mg_http_request* request, int32_t status,
                            mg_str content_type, mg_str headers) noexcept {
    return with_services(
        self, "stream_open", static_cast<mg_stream*>(nullptr), [&](FeatureServices& s) {
            return s.stream_open(request, status, view(content_type), view(headers));
        });
}

int32_t host_stream_write(mg_plugin_handle* self, mg_stream* stream, mg_str bytes) noexcept {
    return with_services(self, "stream_write", int32_t{MG_ERR_GONE},
                         [&](FeatureServices& s) { return s.stream_write(stream, view(bytes)); });
}

void host_stream_close(mg_plugin_handle* self, mg_stream* stream) noexcept {
    with_services(self, "stream_close", 0, [&](FeatureServices& s) {
        s.stream_close(stream);
        return 0;
    });
}

int32_t host_http_fetch(mg_plugin_handle* self, mg_str request, mg_fetch_fn done, void* user,
                        const mg_sink* err) noexcept {
    return with_services(self, "http_fetch", int32_t{MG_ERR_INTERNAL}, [&](FeatureServices& s) {
        std::string e;
        int32_t rc = s.http_fetch(self->id, view(request), done, user, e);
        append(err, e);
        return rc;
    });
}

const mg_host_api kHostApi = {sizeof(mg_host_api),
                              MG_ABI_MAJOR,
                              MG_ABI_MINOR,
                              {MODELGATE_VERSION, sizeof(MODELGATE_VERSION) - 1},
                              &host_log,
                              &host_register_route,
                              &host_sql,
                              &host_dialect,
                              &host_register_job,
                              &host_llm_call,
                              &host_i18n,
                              &host_migrate,
                              &host_sql_transaction,
                              &host_register_daily_job,
                              &host_llm_call_ex,
                              &host_seal,
                              &host_open_sealed,
                              &host_data_dir,
                              &host_register_task_kind,
                              &host_task_start,
                              &host_task_progress,
                              &host_task_get,
                              &host_task_list,
                              &host_api_get,
                              &host_stream_open,
                              &host_stream_write,
                              &host_stream_close,
                              &host_http_fetch};

}  // namespace

const mg_host_api* PluginHost::host_api() {
    return &kHostApi;
}

PluginHost::PluginHost() = default;

PluginHost::~PluginHost() = default;

void PluginHost::refuse(const std::string& file, const std::string& reason) {
    MG_ERROR("plugins", "refused plugin " << file << ": " << reason);
    refused_.push_back({file, reason});
}

void PluginHost::load_directory(const std::string& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        MG_WARN("plugins", "plugin folder " << dir << " does not exist; no plugins loaded");
        return;
    }
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".so")
            files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
        load_file(f);
    MG_INFO("plugins", "loaded " << loaded_.size() << " plugin(s) from " << dir << ", refused "
                                 << refused_.size());
}

bool PluginHost::load_file(const std::string& path) {
    auto handle = std::make_unique<mg_plugin_handle>();
    handle->host = this;
    handle->file = path;
    auto result = host::load_plugin(path, &kHostApi, handle.get());
    if (!result.plugin) {
        refuse(path, result.refusal);
        return false;
    }
    for (const auto& other : loaded_) {
        if (other->id == result.plugin->id && other->kind == result.plugin->kind) {
            refuse(path,
                   "plugin id '" + result.plugin->id + "' is already provided by " + other->file);
            return false;
        }
    }
    auto plugin = std::make_unique<LoadedPlugin>();
    static_cast<host::Plugin&>(*plugin) = std::move(*result.plugin);
    handle->id = plugin->id;
    plugin->handle = std::move(handle);
    MG_INFO("plugins", "loaded " << (plugin->kind == MG_KIND_PROVIDER ? "provider" : "feature")
                                 << " plugin '" << plugin->id << "' " << plugin->version << " (ABI "
                                 << host::abi_version_string(plugin->abi_major, plugin->abi_minor)
                                 << ") from " << path);
    loaded_.push_back(std::move(plugin));
    return true;
}

void PluginHost::init_features(FeatureServices& services) {
    services_ = &services;
    for (auto it = loaded_.begin(); it != loaded_.end();) {
        LoadedPlugin& p = **it;
        if (p.kind != MG_KIND_FEATURE || p.initialized) {
            ++it;
            continue;
        }
        std::string env_name = "MODELGATE_PLUGIN_CONFIG_";
        for (char c : p.id)
            env_name.push_back(
                c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        const char* raw = std::getenv(env_name.c_str());
        nlohmann::json config = raw != nullptr ? parse_json(raw) : nlohmann::json::object();
        std::string problem;
        if (!config.is_object())
            problem = env_name + " is not a JSON object";
        else
            problem = host::validate_options(p.config_schema, config);
        int32_t rc = MG_ERR_INVALID;
        modelgate::sdk::StringSink err;
        if (problem.empty()) {
            std::string cfg = config.dump();
            try {
                rc = p.feature->init(p.handle.get(), str(cfg), err.get());
            } catch (const std::exception& e) {
                err.data = std::string("init threw: ") + e.what();
                rc = MG_ERR_INTERNAL;
            } catch (...) {
                err.data = "init threw an unknown exception";
                rc = MG_ERR_INTERNAL;
            }
            problem = err.data;
        }
        if (rc != MG_OK) {
            refuse(p.file,
                   "init failed: " +
                       (problem.empty() ? std::string("status ") + std::to_string(rc) : problem));
            // Withdraw anything it registered: a load fully happens or leaves nothing.
            services.withdraw(p.id);
            it = loaded_.erase(it);
            continue;
        }
        p.initialized = true;
        ++it;
    }
}

void PluginHost::shutdown_features() {
    for (auto& p : loaded_) {
        if (p->kind == MG_KIND_FEATURE && p->initialized && p->feature->shutdown != nullptr) {
            try {
                p->feature->shutdown(p->handle.get());
            } catch (...) {
                MG_ERROR("plugins", "shutdown of " << p->id << " threw");
            }
            p->initialized = false;
        }
    }
}

const LoadedPlugin* PluginHost::find_provider(const std::string& id) const {
    for (const auto& p : loaded_) {
        if (p->kind == MG_KIND_PROVIDER && p->id == id) return p.get();
    }
    return nullptr;
}

std::vector<std::string> PluginHost::provider_ids() const {
    std::vector<std::string> ids;
    for (const auto& p : loaded_) {
        if (p->kind == MG_KIND_PROVIDER) ids.push_back(p->id);
    }
    return ids;
}

nlohmann::json PluginHost::to_json() const {
    nlohmann::json loaded = nlohmann::json::array(), refused = nlohmann::json::array();
    for (const auto& p : loaded_) {
        loaded.push_back({{"id", p->id},
                          {"kind", p->kind == MG_KIND_PROVIDER ? "provider" : "feature"},
                          {"version", p->version},
                          {"display_name", p->display_name},
                          {"abi", host::abi_version_string(p->abi_major, p->abi_minor)},
                          {"capabilities", host::capability_names(p->capabilities)},
                          {"config_schema", p->config_schema},
                          {"file", p->file}});
    }
    for (const auto& r : refused_)
        refused.push_back({{"file", r.file}, {"reason", r.reason}});
    return {{"host_abi", host::abi_version_string(MG_ABI_MAJOR, MG_ABI_MINOR)},
            {"loaded", loaded},
            {"refused", refused}};
}

}  // namespace modelgate::core::plugins

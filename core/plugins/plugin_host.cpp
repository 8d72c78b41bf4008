#include "plugins/plugin_host.hpp"

#include <algorithm>
#include <boost/dll/import.hpp>
#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <mutex>

#include "plugins/sink.hpp"
#include "util/log.hpp"

#ifndef MODELGATE_VERSION
#define MODELGATE_VERSION "dev"
#endif

namespace modelgate::core::plugins {

namespace {

PluginHost* host_of(mg_plugin_handle* self) {
    return self != nullptr ? self->host : nullptr;
}

void host_log(mg_plugin_handle* self, int32_t level, mg_str message) {
    std::string component = "plugin:" + (self != nullptr ? self->id : std::string("?"));
    log::Level l = level <= MG_LOG_DEBUG  ? log::Level::debug
                   : level == MG_LOG_INFO ? log::Level::info
                   : level == MG_LOG_WARN ? log::Level::warn
                                          : log::Level::error;
    if (log::enabled(l)) log::write(l, component, from_mg(message));
}

void sink_write(const mg_sink* sink, std::string_view s) {
    if (sink != nullptr && sink->append != nullptr && !s.empty())
        sink->append(sink->ctx, s.data(), s.size());
}

int32_t host_register_route(mg_plugin_handle* self, mg_str method, mg_str prefix, int32_t access,
                            mg_route_fn fn, void* user) {
    PluginHost* h = host_of(self);
    if (h == nullptr || h->services() == nullptr || fn == nullptr) return MG_ERR_INVALID;
    return h->services()->register_route(self->id, from_mg(method), from_mg(prefix), access, fn,
                                         user);
}

int32_t host_sql(mg_plugin_handle* self, mg_str sql, mg_str params, const mg_sink* rows,
                 const mg_sink* err) {
    PluginHost* h = host_of(self);
    if (h == nullptr || h->services() == nullptr) return MG_ERR_INVALID;
    std::string out, e;
    int32_t rc = h->services()->sql(from_mg(sql), from_mg(params), out, e);
    sink_write(rows, out);
    sink_write(err, e);
    return rc;
}

mg_str host_dialect(mg_plugin_handle* self) {
    PluginHost* h = host_of(self);
    if (h == nullptr || h->services() == nullptr) return {"", 0};
    return to_mg(h->services()->dialect());
}

int32_t host_register_job(mg_plugin_handle* self, mg_str name, int64_t interval, mg_job_fn fn,
                          void* user) {
    PluginHost* h = host_of(self);
    if (h == nullptr || h->services() == nullptr || fn == nullptr || interval < 1)
        return MG_ERR_INVALID;
    return h->services()->register_job(self->id, from_mg(name), interval, fn, user);
}

int32_t host_llm_call(mg_plugin_handle* self, mg_str request, const mg_sink* response,
                      const mg_sink* err) {
    PluginHost* h = host_of(self);
    if (h == nullptr || h->services() == nullptr) {
        sink_write(err, "the gateway is not ready for internal calls");
        return -1;
    }
    std::string out, e;
    int32_t status = h->services()->llm_call(self->id, from_mg(request), out, e);
    sink_write(response, out);
    sink_write(err, e);
    return status;
}

void host_i18n(mg_plugin_handle* self, mg_str locale, mg_str key, const mg_sink* out) {
    PluginHost* h = host_of(self);
    if (h == nullptr || h->services() == nullptr) {
        sink_write(out, from_mg(key));
        return;
    }
    sink_write(out, h->services()->i18n(from_mg(locale), from_mg(key)));
}

const mg_host_api kHostApi = {
    sizeof(mg_host_api), MG_ABI_MAJOR,
    MG_ABI_MINOR,        {MODELGATE_VERSION, sizeof(MODELGATE_VERSION) - 1},
    &host_log,           &host_register_route,
    &host_sql,           &host_dialect,
    &host_register_job,  &host_llm_call,
    &host_i18n};

bool valid_id(const char* id) {
    if (id == nullptr) return false;
    std::string_view s(id);
    return !s.empty() && s.size() <= 48 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

template <class T>
bool all_set(const T* table, std::initializer_list<const void*> fns) {
    (void)table;
    return std::all_of(fns.begin(), fns.end(), [](const void* f) { return f != nullptr; });
}

}  // namespace

std::string abi_version_string(uint16_t major, uint16_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

const mg_host_api* PluginHost::host_api() {
    return &kHostApi;
}

PluginHost::PluginHost() = default;

namespace {
// Plugins are never unloaded while the process lives: every library that was
// opened stays referenced here, even after its PluginHost is gone (adapter
// instances and decoders may still point into it).
void keep_loaded(const std::shared_ptr<boost::dll::shared_library>& lib) {
    static std::mutex mu;
    static auto* libraries = new std::vector<std::shared_ptr<boost::dll::shared_library>>();
    std::lock_guard lock(mu);
    libraries->push_back(lib);
}
}  // namespace

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
    auto lib = std::make_shared<boost::dll::shared_library>();
    try {
        lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        refuse(path, std::string("cannot load the library: ") + e.what());
        return false;
    }
    if (!lib->has(MG_ENTRY_SYMBOL)) {
        refuse(path,
               std::string("missing entry symbol '") + MG_ENTRY_SYMBOL +
                   "' (declare it with MODELGATE_PROVIDER_PLUGIN, MODELGATE_FEATURE_PLUGIN or "
                   "MG_DECLARE_PLUGIN_ENTRY)");
        return false;
    }
    auto plugin = std::make_unique<LoadedPlugin>();
    plugin->file = path;
    plugin->handle = std::make_unique<mg_plugin_handle>();
    plugin->handle->host = this;
    plugin->handle->file = path;
    const mg_plugin_descriptor* d = nullptr;
    try {
        auto entry = boost::dll::import_alias<const mg_plugin_descriptor*(
            const mg_host_api*, mg_plugin_handle*)>(*lib, MG_ENTRY_SYMBOL);
        d = entry(&kHostApi, plugin->handle.get());
    } catch (const std::exception& e) {
        refuse(path, std::string("the entry function threw: ") + e.what());
        return false;
    } catch (...) {
        refuse(path, "the entry function threw an unknown exception");
        return false;
    }
    if (d == nullptr) {
        refuse(path, "the entry function returned no descriptor (the plugin declined to load)");
        return false;
    }
    if (d->struct_size < offsetof(mg_plugin_descriptor, kind)) {
        refuse(path, "the descriptor is too small to carry an ABI version (struct_size " +
                         std::to_string(d->struct_size) + ")");
        return false;
    }
    std::string built = abi_version_string(d->abi_major, d->abi_minor);
    std::string host = abi_version_string(MG_ABI_MAJOR, MG_ABI_MINOR);
    if (d->abi_major != MG_ABI_MAJOR) {
        refuse(path,
               "built for ABI " + built + ", host is " + host + " (the major version must match)");
        return false;
    }
    if (d->abi_minor > MG_ABI_MINOR) {
        refuse(path, "built for ABI " + built + ", host is " + host + " (needs a newer gateway)");
        return false;
    }
    if (!MG_HAS_FIELD(d, mg_plugin_descriptor, feature)) {
        refuse(path, "the descriptor is truncated (struct_size " + std::to_string(d->struct_size) +
                         " < " + std::to_string(sizeof(mg_plugin_descriptor)) + ")");
        return false;
    }
    if (!valid_id(d->id)) {
        refuse(path, "the plugin id must match [a-z0-9_-]{1,48}");
        return false;
    }
    plugin->id = d->id;
    plugin->handle->id = d->id;
    plugin->version = d->version != nullptr ? d->version : "";
    plugin->display_name = d->display_name != nullptr ? d->display_name : plugin->id;
    plugin->kind = d->kind;
    plugin->abi_major = d->abi_major;
    plugin->abi_minor = d->abi_minor;
    plugin->capabilities = d->capabilities;
    if (d->config_schema != nullptr && *d->config_schema != '\0') {
        plugin->config_schema = nlohmann::json::parse(d->config_schema, nullptr, false);
        if (!plugin->config_schema.is_array()) {
            refuse(path, "config_schema is not a JSON array");
            return false;
        }
    }
    for (const auto& other : loaded_) {
        if (other->id == plugin->id && other->kind == plugin->kind) {
            refuse(path, "plugin id '" + plugin->id + "' is already provided by " + other->file);
            return false;
        }
    }
    if (d->kind == MG_KIND_PROVIDER) {
        const mg_provider_vtable* v = d->provider;
        if (v == nullptr) {
            refuse(path, "a provider plugin without a provider table");
            return false;
        }
        if (!MG_HAS_FIELD(v, mg_provider_vtable, classify_error)) {
            refuse(path, "the provider table is truncated (struct_size " +
                             std::to_string(v->struct_size) + ")");
            return false;
        }
        if (!all_set(v, {reinterpret_cast<const void*>(v->create),
                         reinterpret_cast<const void*>(v->destroy),
                         reinterpret_cast<const void*>(v->build_request),
                         reinterpret_cast<const void*>(v->parse_response),
                         reinterpret_cast<const void*>(v->stream_open),
                         reinterpret_cast<const void*>(v->stream_feed),
                         reinterpret_cast<const void*>(v->stream_finish),
                         reinterpret_cast<const void*>(v->stream_close),
                         reinterpret_cast<const void*>(v->classify_error)})) {
            refuse(path, "the provider table has a missing function");
            return false;
        }
        plugin->provider = v;
    } else if (d->kind == MG_KIND_FEATURE) {
        const mg_feature_vtable* v = d->feature;
        if (v == nullptr || !MG_HAS_FIELD(v, mg_feature_vtable, shutdown) || v->init == nullptr) {
            refuse(path, "a feature plugin without a complete feature table");
            return false;
        }
        plugin->feature = v;
    } else {
        refuse(path, "unknown plugin kind " + std::to_string(d->kind));
        return false;
    }
    keep_loaded(lib);
    plugin->library = std::move(lib);
    MG_INFO("plugins", "loaded " << (plugin->kind == MG_KIND_PROVIDER ? "provider" : "feature")
                                 << " plugin '" << plugin->id << "' " << plugin->version << " (ABI "
                                 << built << ") from " << path);
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
        nlohmann::json config =
            raw != nullptr ? nlohmann::json::parse(raw, nullptr, false) : nlohmann::json::object();
        std::string problem;
        if (!config.is_object())
            problem = env_name + " is not a JSON object";
        else
            problem = validate_options(p.config_schema, config);
        int32_t rc = MG_ERR_INVALID;
        StringSink err;
        if (problem.empty()) {
            std::string cfg = config.dump();
            try {
                rc = p.feature->init(p.handle.get(), to_mg(cfg), err.get());
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
        nlohmann::json caps = nlohmann::json::array();
        if (p->capabilities & MG_CAP_CHAT) caps.push_back("chat");
        if (p->capabilities & MG_CAP_CHAT_STREAM) caps.push_back("chat_stream");
        if (p->capabilities & MG_CAP_EMBEDDINGS) caps.push_back("embeddings");
        if (p->capabilities & MG_CAP_LIST_MODELS) caps.push_back("list_models");
        loaded.push_back({{"id", p->id},
                          {"kind", p->kind == MG_KIND_PROVIDER ? "provider" : "feature"},
                          {"version", p->version},
                          {"display_name", p->display_name},
                          {"abi", abi_version_string(p->abi_major, p->abi_minor)},
                          {"capabilities", caps},
                          {"config_schema", p->config_schema},
                          {"file", p->file}});
    }
    for (const auto& r : refused_)
        refused.push_back({{"file", r.file}, {"reason", r.reason}});
    return {{"host_abi", abi_version_string(MG_ABI_MAJOR, MG_ABI_MINOR)},
            {"loaded", loaded},
            {"refused", refused}};
}

std::string validate_options(const nlohmann::json& schema, nlohmann::json& options) {
    if (!options.is_object()) return "options must be a JSON object";
    if (!schema.is_array()) return {};
    for (const auto& field : schema) {
        if (!field.is_object() || !field.contains("name") || !field["name"].is_string()) continue;
        std::string name = field["name"].get<std::string>();
        std::string type = field.value("type", "string");
        auto it = options.find(name);
        if (it == options.end() || it->is_null()) {
            if (field.contains("default")) options[name] = field["default"];
            continue;
        }
        bool ok = (type == "string" && it->is_string()) ||
                  (type == "integer" && it->is_number_integer()) ||
                  (type == "number" && it->is_number()) ||
                  (type == "boolean" && it->is_boolean()) ||
                  (type == "object" && it->is_object()) || (type == "array" && it->is_array());
        if (!ok) return "option '" + name + "' must be of type " + type;
    }
    for (const auto& [key, value] : options.items()) {
        bool known = false;
        for (const auto& field : schema) {
            if (field.is_object() && field.value("name", "") == key) known = true;
        }
        if (!known) return "unknown option '" + key + "'";
    }
    return {};
}

}  // namespace modelgate::core::plugins

#include <algorithm>
#include <boost/dll/import.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstring>
#include <modelgate/host/loader.hpp>
#include <modelgate/json_limits.hpp>
#include <modelgate/sink.hpp>
#include <mutex>
#include <string_view>

namespace modelgate::host {

namespace {

// Plugins are never unloaded while the process lives: every library that was
// opened and accepted stays referenced here (instances and decoders may point
// into it long after whoever loaded it is gone).
void keep_loaded(const std::shared_ptr<boost::dll::shared_library>& lib) {
    static std::mutex mu;
    static auto* libraries = new std::vector<std::shared_ptr<boost::dll::shared_library>>();
    std::lock_guard lock(mu);
    libraries->push_back(lib);
}

bool valid_id(const char* id) {
    if (id == nullptr) return false;
    std::string_view s(id);
    return !s.empty() && s.size() <= 48 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

bool all_set(std::initializer_list<const void*> fns) {
    return std::all_of(fns.begin(), fns.end(), [](const void* f) { return f != nullptr; });
}

template <class Fn>
const void* addr(Fn f) {
    return reinterpret_cast<const void*>(f);
}

LoadResult refused(std::string why) {
    LoadResult r;
    r.refusal = std::move(why);
    return r;
}

}  // namespace

std::string abi_version_string(uint16_t major, uint16_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<std::string> capability_names(uint64_t caps) {
    std::vector<std::string> out;
    if (caps & MG_CAP_CHAT) out.emplace_back("chat");
    if (caps & MG_CAP_CHAT_STREAM) out.emplace_back("chat_stream");
    if (caps & MG_CAP_EMBEDDINGS) out.emplace_back("embeddings");
    if (caps & MG_CAP_LIST_MODELS) out.emplace_back("list_models");
    return out;
}

LoadResult load_plugin(const std::string& path, const mg_host_api* host, mg_plugin_handle* handle) {
    auto lib = std::make_shared<boost::dll::shared_library>();
    try {
        lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        return refused(std::string("cannot load the library: ") + e.what());
    }
    if (!lib->has(MG_ENTRY_SYMBOL)) {
        return refused(std::string("missing entry symbol '") + MG_ENTRY_SYMBOL +
                       "' (declare it with MODELGATE_PROVIDER_PLUGIN, MODELGATE_FEATURE_PLUGIN or "
                       "MG_DECLARE_PLUGIN_ENTRY)");
    }
    const mg_plugin_descriptor* d = nullptr;
    try {
        auto entry = boost::dll::import_alias<const mg_plugin_descriptor*(
            const mg_host_api*, mg_plugin_handle*)>(*lib, MG_ENTRY_SYMBOL);
        d = entry(host, handle);
    } catch (const std::exception& e) {
        return refused(std::string("the entry function threw: ") + e.what());
    } catch (...) {
        return refused("the entry function threw an unknown exception");
    }
    if (d == nullptr)
        return refused("the entry function returned no descriptor (the plugin declined to load)");
    if (d->struct_size < offsetof(mg_plugin_descriptor, kind)) {
        return refused("the descriptor is too small to carry an ABI version (struct_size " +
                       std::to_string(d->struct_size) + ")");
    }
    std::string built = abi_version_string(d->abi_major, d->abi_minor);
    std::string mine = abi_version_string(MG_ABI_MAJOR, MG_ABI_MINOR);
    if (d->abi_major != MG_ABI_MAJOR) {
        return refused("built for ABI " + built + ", host is " + mine +
                       " (the major version must match)");
    }
    if (d->abi_minor > MG_ABI_MINOR) {
        return refused("built for ABI " + built + ", host is " + mine + " (needs a newer gateway)");
    }
    if (!MG_HAS_FIELD(d, mg_plugin_descriptor, feature)) {
        return refused("the descriptor is truncated (struct_size " +
                       std::to_string(d->struct_size) + " < " +
                       std::to_string(sizeof(mg_plugin_descriptor)) + ")");
    }
    if (!valid_id(d->id)) return refused("the plugin id must match [a-z0-9_-]{1,48}");

    auto plugin = std::make_unique<Plugin>();
    plugin->file = path;
    plugin->id = d->id;
    plugin->version = d->version != nullptr ? d->version : "";
    plugin->display_name = d->display_name != nullptr ? d->display_name : plugin->id;
    plugin->kind = d->kind;
    plugin->abi_major = d->abi_major;
    plugin->abi_minor = d->abi_minor;
    plugin->capabilities = d->capabilities;
    if (d->config_schema != nullptr && *d->config_schema != '\0') {
        plugin->config_schema = modelgate::sdk::parse_json(d->config_schema);
        if (!plugin->config_schema.is_array()) return refused("config_schema is not a JSON array");
        for (const auto& f : plugin->config_schema) {
            if (!f.is_object() || !f.contains("name") || !f["name"].is_string()) {
                return refused("every config_schema entry needs a string 'name'");
            }
        }
    }
    if (d->kind == MG_KIND_PROVIDER) {
        const mg_provider_vtable* v = d->provider;
        if (v == nullptr) return refused("a provider plugin without a provider table");
        if (!MG_HAS_FIELD(v, mg_provider_vtable, classify_error)) {
            return refused("the provider table is truncated (struct_size " +
                           std::to_string(v->struct_size) + ")");
        }
        if (!all_set({addr(v->create), addr(v->destroy), addr(v->build_request),
                      addr(v->parse_response), addr(v->stream_open), addr(v->stream_feed),
                      addr(v->stream_finish), addr(v->stream_close), addr(v->classify_error)})) {
            return refused("the provider table has a missing function");
        }
        if ((d->capabilities &
             (MG_CAP_CHAT | MG_CAP_CHAT_STREAM | MG_CAP_EMBEDDINGS | MG_CAP_LIST_MODELS)) == 0) {
            return refused("a provider plugin must declare at least one capability");
        }
        plugin->provider = v;
    } else if (d->kind == MG_KIND_FEATURE) {
        const mg_feature_vtable* v = d->feature;
        if (v == nullptr || !MG_HAS_FIELD(v, mg_feature_vtable, shutdown) || v->init == nullptr) {
            return refused("a feature plugin without a complete feature table");
        }
        plugin->feature = v;
    } else {
        return refused("unknown plugin kind " + std::to_string(d->kind));
    }
    keep_loaded(lib);
    LoadResult ok;
    ok.plugin = std::move(plugin);
    return ok;
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
    for (const auto& item : options.items()) {
        // Not a structured binding: clang before 16 cannot capture one in a lambda.
        const std::string& key = item.key();
        bool known = std::any_of(schema.begin(), schema.end(), [&](const nlohmann::json& f) {
            return f.is_object() && f.value("name", "") == key;
        });
        if (!known) return "unknown option '" + key + "'";
    }
    return {};
}

namespace {

// Host services of a standalone host: noexcept, like every callback a plugin calls.
int32_t no_route(mg_plugin_handle*, mg_str, mg_str, int32_t, mg_route_fn, void*) noexcept {
    return MG_ERR_UNSUPPORTED;
}
int32_t no_sql(mg_plugin_handle*, mg_str, mg_str, const mg_sink*, const mg_sink*) noexcept {
    return MG_ERR_UNSUPPORTED;
}
mg_str sqlite_dialect(mg_plugin_handle*) noexcept {
    return {"sqlite", 6};
}
int32_t no_job(mg_plugin_handle*, mg_str, int64_t, mg_job_fn, void*) noexcept {
    return MG_ERR_UNSUPPORTED;
}
int32_t no_llm(mg_plugin_handle*, mg_str, const mg_sink*, const mg_sink*) noexcept {
    return -1;
}
void key_as_translation(mg_plugin_handle*, mg_str, mg_str key, const mg_sink* out) noexcept {
    modelgate::sdk::append(out, modelgate::sdk::view(key));
}

// ABI 1.2's services, which a host without a database or a proxy cannot give.
int32_t no_migrate(mg_plugin_handle*, mg_str, const mg_sink* err) noexcept {
    modelgate::sdk::append(err, "this host has no database");
    return MG_ERR_UNSUPPORTED;
}
int32_t no_transaction(mg_plugin_handle*, mg_str, const mg_sink*, const mg_sink* err) noexcept {
    modelgate::sdk::append(err, "this host has no database");
    return MG_ERR_UNSUPPORTED;
}
int32_t no_daily_job(mg_plugin_handle*, mg_str, mg_str, mg_job_fn, void*) noexcept {
    return MG_ERR_UNSUPPORTED;
}
int32_t no_llm_ex(mg_plugin_handle*, mg_str, mg_str, const mg_sink*, const mg_sink* err) noexcept {
    modelgate::sdk::append(err, "this host makes no LLM calls");
    return -1;
}
int32_t no_seal(mg_plugin_handle*, mg_str, const mg_sink*) noexcept {
    return MG_ERR_UNSUPPORTED;
}
mg_str no_data_dir(mg_plugin_handle*) noexcept {
    return {"", 0};
}
int32_t no_task_kind(mg_plugin_handle*, mg_str, mg_task_fn, void*) noexcept {
    return MG_ERR_UNSUPPORTED;
}
int32_t no_task_start(mg_plugin_handle*, mg_str, mg_str, mg_str, const mg_sink*,
                      const mg_sink* err) noexcept {
    modelgate::sdk::append(err, "this host runs no tasks");
    return MG_ERR_UNSUPPORTED;
}
int32_t no_task_progress(mg_plugin_handle*, int64_t, mg_str) noexcept {
    return MG_ERR_UNSUPPORTED;
}
int32_t no_task_get(mg_plugin_handle*, int64_t, const mg_sink*) noexcept {
    return MG_ERR_UNSUPPORTED;
}
int32_t no_task_list(mg_plugin_handle*, mg_str, int32_t, const mg_sink*) noexcept {
    return MG_ERR_UNSUPPORTED;
}

// ABI 1.3.
int32_t no_api(mg_plugin_handle*, mg_str, const mg_sink* body) noexcept {
    modelgate::sdk::append(
        body, R"({"error":{"message":"this host has no admin API","type":"not_found_error"}})");
    return 404;
}
mg_stream* no_stream(mg_plugin_handle*, const mg_http_request*, int32_t, mg_str, mg_str) noexcept {
    return nullptr;
}
int32_t no_stream_write(mg_plugin_handle*, mg_stream*, mg_str) noexcept {
    return MG_ERR_GONE;
}
void no_stream_close(mg_plugin_handle*, mg_stream*) noexcept {}
int32_t no_fetch(mg_plugin_handle*, mg_str, mg_fetch_fn, void*, const mg_sink* err) noexcept {
    modelgate::sdk::append(err, "this host makes no outbound requests");
    return MG_ERR_UNSUPPORTED;
}

}  // namespace

mg_host_api standalone_host_api(const char* host_name,
                                void (*log_fn)(mg_plugin_handle*, int32_t, mg_str)) {
    return {sizeof(mg_host_api),
            MG_ABI_MAJOR,
            MG_ABI_MINOR,
            {host_name, std::strlen(host_name)},
            log_fn,
            &no_route,
            &no_sql,
            &sqlite_dialect,
            &no_job,
            &no_llm,
            &key_as_translation,
            &no_migrate,
            &no_transaction,
            &no_daily_job,
            &no_llm_ex,
            &no_seal,
            &no_seal,
            &no_data_dir,
            &no_task_kind,
            &no_task_start,
            &no_task_progress,
            &no_task_get,
            &no_task_list,
            &no_api,
            &no_stream,
            &no_stream_write,
            &no_stream_close,
            &no_fetch};
}

}  // namespace modelgate::host

// The host side of the plugin ABI: loading a plugin library and checking it.
// The gateway and the conformance kit (sdk/testkit, modelgate-plugin-check) use
// this same code, so a plugin that passes the kit loads in the gateway.
#pragma once

#include <modelgate/abi.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace modelgate::host {

// A plugin library that passed every load-time check.
struct Plugin {
    std::string file;
    std::string id, version, display_name;
    int32_t kind = 0;  // mg_plugin_kind
    uint16_t abi_major = 0, abi_minor = 0;
    uint64_t capabilities = 0;
    nlohmann::json config_schema = nlohmann::json::array();
    const mg_provider_vtable* provider = nullptr;  // kind == MG_KIND_PROVIDER
    const mg_feature_vtable* feature = nullptr;    // kind == MG_KIND_FEATURE
};

struct LoadResult {
    std::unique_ptr<Plugin> plugin;  // null when refused
    std::string refusal;             // why, when refused
};

// Opens one library, calls its entry with the host table and the handle, and
// checks the descriptor: ABI version, struct sizes, id, kind and a complete
// function table. A library that was opened stays mapped for the life of the
// process (plugins are never unloaded).
LoadResult load_plugin(const std::string& path, const mg_host_api* host, mg_plugin_handle* handle);

// Checks options against a plugin's schema ([{name,type,default,help}]) and
// fills defaults. Returns what is wrong, empty when valid.
std::string validate_options(const nlohmann::json& schema, nlohmann::json& options);

// The host table for tools that load a provider plugin outside a gateway (the
// conformance kit, the fuzzer): logging through log_fn, and every feature
// service (routes, SQL, jobs, LLM calls) answering "not here". host_name must
// outlive the table.
mg_host_api standalone_host_api(const char* host_name,
                                void (*log_fn)(mg_plugin_handle*, int32_t, mg_str));

std::string abi_version_string(uint16_t major, uint16_t minor);
std::vector<std::string> capability_names(uint64_t capabilities);

}  // namespace modelgate::host

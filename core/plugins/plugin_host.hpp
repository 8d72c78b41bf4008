// Loads plugin shared libraries through Boost.DLL and checks them against the
// host's ABI. A library is either fully loaded or refused with a precise reason
// ("built for ABI 2.1, host is 1.0"); a refusal never stops the gateway.
// Loading happens on the main thread before the server starts; libraries are
// never unloaded while the process lives.
#pragma once

#include <modelgate/abi.h>

#include <memory>
#include <modelgate/host/loader.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plugins/feature_services.hpp"

namespace modelgate::core::plugins {
class PluginHost;
}

// The handle a plugin passes back to host services: who is calling.
struct mg_plugin_handle {
    modelgate::core::plugins::PluginHost* host = nullptr;
    std::string id;
    std::string file;
};

namespace modelgate::core::plugins {

// A loaded plugin: what the loader checked, plus the host's handle for it.
struct LoadedPlugin : host::Plugin {
    std::unique_ptr<mg_plugin_handle> handle;
    bool initialized = false;  // features: init ran and succeeded
};

struct RefusedPlugin {
    std::string file;
    std::string reason;
};

class PluginHost {
  public:
    PluginHost();
    ~PluginHost();
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    // Loads every *.so in dir (sorted by name). A missing dir is logged, not fatal.
    void load_directory(const std::string& dir);
    // Loads one library; false when refused (see refused()).
    bool load_file(const std::string& path);

    // Runs init of every loaded feature plugin. A plugin whose init fails is
    // moved to refused() and everything it registered is withdrawn.
    void init_features(FeatureServices& services);
    void shutdown_features();

    const LoadedPlugin* find_provider(const std::string& id) const;
    std::vector<std::string> provider_ids() const;
    const std::vector<std::unique_ptr<LoadedPlugin>>& loaded() const { return loaded_; }
    const std::vector<RefusedPlugin>& refused() const { return refused_; }
    nlohmann::json to_json() const;

    FeatureServices* services() const { return services_; }
    static const mg_host_api* host_api();

  private:
    void refuse(const std::string& file, const std::string& reason);

    std::vector<std::unique_ptr<LoadedPlugin>> loaded_;
    std::vector<RefusedPlugin> refused_;
    FeatureServices* services_ = nullptr;
};

}  // namespace modelgate::core::plugins

// Model sync: asks a provider's upstream for its model list (through the
// adapter, like any call) and makes sure every listed model has a model row and
// an active binding. It never deletes anything and never touches a binding an
// admin created or edited by hand (source "manual"); bindings it created itself
// (source "sync") are switched off when their model leaves the list and back on
// when it returns. Blocking: worker threads only.
#pragma once

#include <string>
#include <vector>

#include "domain/snapshot.hpp"
#include "store/config_store.hpp"
#include "upstream/upstream_loop.hpp"
#include "util/result.hpp"

namespace modelgate::core {

struct ModelSyncReport {
    std::vector<std::string> listed;            // every model the upstream listed
    std::vector<std::string> created_models;    // new model rows
    std::vector<std::string> created_bindings;  // new bindings (source "sync")
    std::vector<std::string> reactivated;       // sync bindings switched back on
    std::vector<std::string> deactivated;       // sync bindings whose model left the list
};

Result<ModelSyncReport> sync_provider_models(const ProviderRuntime& provider,
                                             store::ConfigStore& store,
                                             upstream::UpstreamLoop& loop);

}  // namespace modelgate::core

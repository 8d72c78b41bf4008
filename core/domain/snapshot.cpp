#include "domain/snapshot.hpp"

#include "util/crypto.hpp"

namespace modelgate::core {

Result<Route> Snapshot::resolve(std::string_view model, const KeyRuntime* key) const {
    auto not_found = [&] {
        return make_error(
            ErrorCode::model_not_found,
            "The model '" + std::string(model) +
                "' does not exist or you do not have access to it. Use a name from GET /v1/models "
                "(\"provider/model\").",
            "model_not_found");
    };
    std::size_t slash = model.find('/');
    if (slash != std::string_view::npos) {
        std::string provider_name(model.substr(0, slash));
        auto p = providers.find(provider_name);
        if (p != providers.end()) {
            if (!p->second->active) {
                return make_error(ErrorCode::unavailable,
                                  "The provider '" + provider_name + "' is disabled.",
                                  "provider_disabled");
            }
            auto a = aliases.find(provider_name);
            if (a == aliases.end()) return not_found();
            auto b = a->second.find(std::string(model.substr(slash + 1)));
            if (b == a->second.end()) return not_found();
            return Route{p->second.get(), &bindings[b->second]};
        }
    }
    // No provider prefix (or the prefix is part of the model id, as in
    // "meta-llama/Llama-3"): accept a name only when exactly one binding has it.
    auto g = global_aliases.find(std::string(model));
    if (g == global_aliases.end()) return not_found();
    std::vector<std::size_t> usable;
    for (std::size_t i : g->second) {
        if (key == nullptr || key->may_use(bindings[i].id)) usable.push_back(i);
    }
    if (usable.empty()) return not_found();
    if (usable.size() > 1) {
        std::string options;
        for (std::size_t i : usable) {
            if (!options.empty()) options += ", ";
            options += bindings[i].provider_name + "/" + bindings[i].public_name;
        }
        return make_error(ErrorCode::invalid_request,
                          "The model '" + std::string(model) +
                              "' is served by several providers; name one of: " + options,
                          "ambiguous_model");
    }
    const BindingRuntime& b = bindings[usable.front()];
    auto p = providers.find(b.provider_name);
    if (p == providers.end()) return not_found();
    return Route{p->second.get(), &b};
}

const KeyRuntime* Snapshot::find_key(std::string_view hash) const {
    auto it = keys_by_hash.find(std::string(hash));
    if (it == keys_by_hash.end()) return nullptr;
    // Belt and braces: the map found it by hash; confirm in constant time.
    if (!crypto::constant_time_equal(it->second->hash, hash)) return nullptr;
    return it->second.get();
}

const KeyRuntime* Snapshot::find_key_by_id(int64_t id) const {
    for (const auto& [hash, key] : keys_by_hash) {
        if (key->id == id) return key.get();
    }
    return nullptr;
}

}  // namespace modelgate::core

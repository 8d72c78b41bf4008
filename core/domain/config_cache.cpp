#include "domain/config_cache.hpp"

#include "util/log.hpp"

namespace modelgate::core {

ConfigCache::ConfigCache(store::ConfigStore& store, const plugins::PluginHost& plugins,
                         const crypto::SecretBox& secrets, TimerService& timers)
    : store_(store),
      plugins_(plugins),
      secrets_(secrets),
      timers_(timers),
      snapshot_(std::make_shared<Snapshot>()) {}

ConfigCache::~ConfigCache() {
    stop_polling();
}

Status ConfigCache::reload() {
    std::lock_guard reload_lock(reload_mu_);
    auto version = store_.config_version();
    auto providers = store_.list_providers();
    auto bindings = store_.list_bindings();
    auto models = store_.list_models();
    auto keys = store_.list_api_keys();
    if (!version) return version.error();
    if (!providers) return providers.error();
    if (!bindings) return bindings.error();
    if (!models) return models.error();
    if (!keys) return keys.error();

    auto snap = std::make_shared<Snapshot>();
    snap->version = version.value();

    for (const auto& p : providers.value()) {
        auto rt = std::make_shared<ProviderRuntime>();
        rt->id = p.id;
        rt->name = p.name;
        rt->adapter_kind = p.adapter;
        rt->base_url = p.base_url;
        rt->max_concurrency = std::max(1, p.max_concurrency);
        rt->queue_timeout_ms = std::max(0, p.queue_timeout_ms);
        rt->first_byte_timeout_ms = std::max(100, p.first_byte_timeout_ms);
        rt->idle_timeout_ms = std::max(100, p.idle_timeout_ms);
        rt->total_timeout_ms = std::max(100, p.total_timeout_ms);
        rt->active = p.is_active;
        auto options = nlohmann::json::parse(p.options, nullptr, false);
        if (!options.is_object()) options = nlohmann::json::object();
        // Gateway-level options live beside the adapter's; the adapter never sees them.
        if (auto it = options.find("force_stream_usage"); it != options.end()) {
            if (it->is_boolean()) rt->force_stream_usage = it->get<bool>();
            options.erase(it);
        }
        rt->options = options;
        if (p.api_key_sealed && !p.api_key_sealed->empty()) {
            auto secret = secrets_.open(*p.api_key_sealed);
            if (secret) {
                rt->secret = *secret;
            } else {
                rt->adapter_problem =
                    "the stored upstream key cannot be decrypted with this gateway's master key";
            }
        }
        if (rt->adapter_problem.empty()) {
            const auto* plugin = plugins_.find_provider(p.adapter);
            if (plugin == nullptr) {
                rt->adapter_problem = "no provider plugin '" + p.adapter + "' is loaded";
            } else {
                auto adapter = host::Adapter::create(*plugin, p.name, p.base_url, options);
                if (adapter.ok())
                    rt->adapter = adapter.value;
                else
                    rt->adapter_problem = adapter.failure->message;
            }
        }
        if (!rt->adapter_problem.empty()) {
            MG_WARN("config", "provider '" << p.name << "' is unusable: " << rt->adapter_problem);
        }
        {
            std::lock_guard lock(limiters_mu_);
            auto& slot = limiters_[p.id];
            if (!slot.second)
                slot.second = AsyncSemaphore::create(rt->max_concurrency, timers_);
            else
                slot.second->set_limit(rt->max_concurrency);
            slot.first = p.name;
            rt->limiter = slot.second;
        }
        snap->providers[p.name] = rt;
    }

    std::map<int64_t, const store::ModelRecord*> model_by_id;
    for (const auto& m : models.value())
        model_by_id[m.id] = &m;
    for (const auto& b : bindings.value()) {
        auto p = snap->providers.find(b.provider_name);
        if (p == snap->providers.end() || !p->second->active || !b.is_active || !b.model_active)
            continue;
        BindingRuntime rt;
        rt.id = b.id;
        rt.provider_id = b.provider_id;
        rt.provider_name = b.provider_name;
        rt.upstream_model = b.model_name;
        rt.public_name =
            b.model_name_override && !b.model_name_override->empty()
                ? *b.model_name_override
                : (b.display_name && !b.display_name->empty() ? *b.display_name : b.model_name);
        if (auto m = model_by_id.find(b.model_id); m != model_by_id.end()) {
            rt.multimodal = m->second->is_multimodal;
            rt.max_tokens = m->second->max_tokens;
            rt.context_length = m->second->context_length;
        }
        snap->bindings.push_back(std::move(rt));
    }
    for (std::size_t i = 0; i < snap->bindings.size(); ++i) {
        const auto& b = snap->bindings[i];
        auto& names = snap->aliases[b.provider_name];
        for (const std::string& alias : {b.public_name, b.upstream_model}) {
            if (names.emplace(alias, i).second) snap->global_aliases[alias].push_back(i);
        }
    }

    for (const auto& k : keys.value()) {
        auto rt = std::make_shared<KeyRuntime>();
        rt->id = k.id;
        rt->name = k.name;
        rt->hash = k.key_hash;
        rt->active = k.is_active;
        rt->allowed_bindings.insert(k.allowed_binding_ids.begin(), k.allowed_binding_ids.end());
        for (const auto& r : k.time_rules) {
            auto compiled = compile_time_rule(r);
            if (compiled) {
                rt->time_rules.push_back(compiled.value());
            } else {
                // An unreadable rule must not silently open the key: deny always.
                TimeRule deny;
                deny.type = TimeRule::Type::weekday;
                deny.allowed = false;
                deny.weekday_mask = 0x7f;
                rt->time_rules.push_back(deny);
                MG_WARN("config", "API key '" << k.name << "' has an invalid time rule " << r.id
                                              << "; denying");
            }
        }
        snap->keys_by_hash[k.key_hash] = rt;
    }
    std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(snap));
    MG_DEBUG("config", "configuration version "
                           << snap->version << " loaded: " << snap->providers.size()
                           << " providers, " << snap->bindings.size() << " bindings, "
                           << snap->keys_by_hash.size() << " keys");
    return Ok{};
}

std::map<int64_t, std::pair<std::string, std::shared_ptr<AsyncSemaphore>>> ConfigCache::limiters()
    const {
    std::lock_guard lock(limiters_mu_);
    return limiters_;
}

void ConfigCache::start_polling(std::chrono::milliseconds interval) {
    {
        std::lock_guard lock(poll_mu_);
        if (polling_) return;
        polling_ = true;
    }
    poller_ = std::thread([this, interval] {
        std::unique_lock lock(poll_mu_);
        while (polling_) {
            poll_cv_.wait_for(lock, interval, [this] { return !polling_; });
            if (!polling_) break;
            lock.unlock();
            auto v = store_.config_version();
            if (v && v.value() != current()->version) {
                MG_INFO("config", "configuration changed (version " << v.value() << "); reloading");
                reload();
            }
            lock.lock();
        }
    });
}

void ConfigCache::stop_polling() {
    {
        std::lock_guard lock(poll_mu_);
        polling_ = false;
    }
    poll_cv_.notify_all();
    if (poller_.joinable()) poller_.join();
}

}  // namespace modelgate::core

#include "domain/config_cache.hpp"

#include <algorithm>

#include "domain/provider_secrets.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace modelgate::core {

GatewayOptions take_gateway_options(nlohmann::json& options) {
    GatewayOptions gw;
    if (auto it = options.find("force_stream_usage"); it != options.end()) {
        if (it->is_boolean()) gw.force_stream_usage = it->get<bool>();
        options.erase(it);
    }
    if (auto it = options.find("auto_sync_models"); it != options.end()) {
        if (it->is_boolean()) gw.auto_sync_models = it->get<bool>();
        options.erase(it);
    }
    if (auto it = options.find("user_agent"); it != options.end()) {
        if (it->is_string() && valid_header_value(it->get_ref<const std::string&>()))
            gw.user_agent = it->get<std::string>();
        options.erase(it);
    }
    return gw;
}

bool valid_header_value(std::string_view v) {
    return v.size() <= 512 && std::none_of(v.begin(), v.end(), [](char c) {
               return c == '\r' || c == '\n' || c == '\0';
           });
}

ConfigCache::ConfigCache(store::ConfigStore& store, const plugins::PluginHost& plugins,
                         const crypto::SecretBox& secrets, TimerService& timers,
                         std::string default_user_agent)
    : store_(store),
      plugins_(plugins),
      secrets_(secrets),
      timers_(timers),
      snapshot_(std::make_shared<Snapshot>()),
      default_user_agent_(std::move(default_user_agent)) {}

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
    auto upstream_keys = store_.list_provider_keys();
    auto settings = store_.settings();
    if (!version) return version.error();
    if (!upstream_keys) return upstream_keys.error();
    if (!settings) return settings.error();
    if (!providers) return providers.error();
    if (!bindings) return bindings.error();
    if (!models) return models.error();
    if (!keys) return keys.error();

    auto snap = std::make_shared<Snapshot>();
    snap->version = version.value();
    snap->user_agent = default_user_agent_;
    if (auto it = settings->find(kUserAgentSetting);
        it != settings->end() && !it->second.empty() && valid_header_value(it->second))
        snap->user_agent = it->second;
    std::map<int64_t, std::vector<const store::ProviderKeyRecord*>> keys_of;
    for (const auto& k : upstream_keys.value())
        keys_of[k.provider_id].push_back(&k);

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
        rt->merge_consecutive_messages = p.merge_consecutive_messages;
        auto options = parse_json(p.options);
        if (!options.is_object()) options = nlohmann::json::object();
        GatewayOptions gw = take_gateway_options(options);
        rt->options = options;  // with its secret headers still sealed
        if (auto problem = open_extra_headers(options, secrets_)) rt->adapter_problem = *problem;
        rt->force_stream_usage = gw.force_stream_usage;
        rt->auto_sync_models = gw.auto_sync_models;
        rt->user_agent = gw.user_agent.empty() ? snap->user_agent : gw.user_agent;

        std::vector<KeyPool::KeySpec> key_specs;
        const auto& provider_keys = keys_of[p.id];
        for (const auto* k : provider_keys) {
            if (!k->is_active) continue;  // the admin's switch
            auto secret = secrets_.open(k->api_key_sealed);
            if (!secret) {
                MG_WARN("config", "upstream key " << k->id << " of provider '" << p.name
                                                  << "' cannot be decrypted with this gateway's "
                                                     "master key; skipping it");
                continue;
            }
            KeyPool::KeySpec spec;
            spec.id = k->id;
            spec.label = k->label;
            spec.secret = std::move(*secret);
            spec.limit = k->max_concurrency;
            spec.paused_until_ms =
                k->paused_until ? parse_iso8601(*k->paused_until).value_or(0) : 0;
            spec.pause_reason = k->pause_reason.value_or("");
            key_specs.push_back(std::move(spec));
        }
        if (!provider_keys.empty() && key_specs.empty() && rt->adapter_problem.empty())
            rt->adapter_problem =
                "none of its upstream keys is usable (all switched off or unreadable)";
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
            auto& slot = slots_[p.id];
            if (!slot.limiter) slot.limiter = AsyncSemaphore::create(rt->max_concurrency, timers_);
            if (!slot.keys) {
                slot.keys = KeyPool::create(timers_);
                if (pause_handler_) {
                    int64_t provider_id = p.id;
                    auto handler = pause_handler_;
                    slot.keys->set_pause_listener(
                        [provider_id, handler](int64_t key_id, int64_t until_ms,
                                               const std::string& reason) {
                            handler(provider_id, key_id, until_ms, reason);
                        });
                }
            }
            slot.name = p.name;
            rt->limiter = slot.limiter;
            rt->keys = slot.keys;
        }
        // The pool sets the limiter's limit from the keys' limits.
        rt->keys->configure(std::move(key_specs), provider_keys.empty(), rt->max_concurrency,
                            p.paused_until ? parse_iso8601(*p.paused_until).value_or(0) : 0,
                            p.pause_reason.value_or(""), rt->limiter);
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
    std::map<int64_t, std::pair<std::string, std::shared_ptr<AsyncSemaphore>>> out;
    for (const auto& [id, slot] : slots_)
        out[id] = {slot.name, slot.limiter};
    return out;
}

std::shared_ptr<KeyPool> ConfigCache::key_pool(int64_t provider_id) const {
    std::lock_guard lock(limiters_mu_);
    auto it = slots_.find(provider_id);
    return it == slots_.end() ? nullptr : it->second.keys;
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

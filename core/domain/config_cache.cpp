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

namespace {

KeyPool::Pause stored_pause(const std::optional<std::string>& until,
                            const std::optional<std::string>& reason) {
    KeyPool::Pause p;
    p.until_ms = until ? parse_iso8601(*until).value_or(0) : 0;
    p.reason = reason.value_or("");
    return p;
}

// An API key's runtime form: its allowlist and compiled time rules.
std::shared_ptr<KeyRuntime> key_runtime(const store::ApiKeyRecord& k) {
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
            continue;
        }
        // An unreadable rule must not silently open the key: deny always.
        TimeRule deny;
        deny.type = TimeRule::Type::weekday;
        deny.allowed = false;
        deny.weekday_mask = 0x7f;
        rt->time_rules.push_back(deny);
        MG_WARN("config",
                "API key '" << k.name << "' has an invalid time rule " << r.id << "; denying");
    }
    return rt;
}

}  // namespace

// Everything a snapshot is built from, read in one go.
struct ConfigCache::Rows {
    int64_t version = 0;
    std::vector<store::ProviderRecord> providers;
    std::vector<store::BindingRecord> bindings;
    std::vector<store::ModelRecord> models;
    std::vector<store::ApiKeyRecord> keys;
    std::vector<store::ProviderKeyRecord> upstream_keys;
    std::vector<store::ModelPauseRecord> model_pauses;
    std::map<std::string, std::string> settings;
};

Result<ConfigCache::Rows> ConfigCache::read_rows() {
    Rows rows;
    auto version = store_.config_version();
    if (!version) return version.error();
    rows.version = version.value();
    auto take = [](auto result, auto& into) -> std::optional<Error> {
        if (!result) return result.error();
        into = std::move(result.value());
        return std::nullopt;
    };
    for (auto err :
         {take(store_.list_providers(), rows.providers),
          take(store_.list_bindings(), rows.bindings), take(store_.list_models(), rows.models),
          take(store_.list_api_keys(), rows.keys),
          take(store_.list_provider_keys(), rows.upstream_keys),
          take(store_.list_model_pauses(), rows.model_pauses),
          take(store_.settings(), rows.settings)}) {
        if (err) return *err;
    }
    return rows;
}

Status ConfigCache::reload() {
    std::lock_guard reload_lock(reload_mu_);
    auto rows = read_rows();
    if (!rows) return rows.error();
    auto snap = std::make_shared<Snapshot>();
    snap->version = rows->version;
    snap->user_agent = default_user_agent_;
    if (auto it = rows->settings.find(kUserAgentSetting);
        it != rows->settings.end() && !it->second.empty() && valid_header_value(it->second))
        snap->user_agent = it->second;
    for (const auto& p : rows->providers)
        snap->providers[p.name] = provider_runtime(p, *rows, snap->user_agent);
    add_bindings(*snap, *rows);
    for (const auto& k : rows->keys)
        snap->keys_by_hash[k.key_hash] = key_runtime(k);
    std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(snap));
    MG_DEBUG("config", "configuration version "
                           << snap->version << " loaded: " << snap->providers.size()
                           << " providers, " << snap->bindings.size() << " bindings, "
                           << snap->keys_by_hash.size() << " keys");
    return Ok{};
}

std::shared_ptr<ProviderRuntime> ConfigCache::provider_runtime(const store::ProviderRecord& p,
                                                               const Rows& rows,
                                                               const std::string& user_agent) {
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
    rt->user_agent = gw.user_agent.empty() ? user_agent : gw.user_agent;

    // The upstream keys the admin switched on, with their cool-downs.
    std::map<int64_t, std::unordered_map<std::string, KeyPool::Pause>> model_pauses;
    for (const auto& m : rows.model_pauses) {
        if (m.provider_id != p.id) continue;
        KeyPool::Pause pause;
        pause.until_ms = parse_iso8601(m.paused_until).value_or(0);
        pause.reason = m.reason;
        pause.strikes = m.strikes;
        pause.length_ms = m.length_ms;
        model_pauses[m.key_id][m.model] = pause;
    }
    std::vector<KeyPool::KeySpec> key_specs;
    bool has_keys = false;
    for (const auto& k : rows.upstream_keys) {
        if (k.provider_id != p.id) continue;
        has_keys = true;
        if (!k.is_active) continue;  // the admin's switch
        auto secret = secrets_.open(k.api_key_sealed);
        if (!secret) {
            MG_WARN("config", "upstream key " << k.id << " of provider '" << p.name
                                              << "' cannot be decrypted with this gateway's "
                                                 "master key; skipping it");
            continue;
        }
        KeyPool::KeySpec spec;
        spec.id = k.id;
        spec.label = k.label;
        spec.secret = std::move(*secret);
        spec.limit = k.max_concurrency;
        spec.pause = stored_pause(k.paused_until, k.pause_reason);
        spec.models = std::move(model_pauses[k.id]);
        key_specs.push_back(std::move(spec));
    }
    if (has_keys && key_specs.empty() && rt->adapter_problem.empty())
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
    if (!rt->adapter_problem.empty())
        MG_WARN("config", "provider '" << p.name << "' is unusable: " << rt->adapter_problem);
    attach_slots(*rt);
    // A provider without keys has one keyless slot carrying the provider's pauses.
    KeyPool::KeySpec keyless;
    keyless.pause = stored_pause(p.paused_until, p.pause_reason);
    keyless.models = std::move(model_pauses[0]);
    // The pool sets the limiter's limit from the keys' limits.
    rt->keys->configure(std::move(key_specs), !has_keys, rt->max_concurrency, std::move(keyless),
                        rt->limiter);
    return rt;
}

void ConfigCache::attach_slots(ProviderRuntime& rt) {
    std::lock_guard lock(limiters_mu_);
    auto& slot = slots_[rt.id];
    if (!slot.limiter) slot.limiter = AsyncSemaphore::create(rt.max_concurrency, timers_);
    if (!slot.keys) {
        slot.keys = KeyPool::create(timers_);
        if (pause_handler_) {
            int64_t provider_id = rt.id;
            auto handler = pause_handler_;
            slot.keys->set_pause_listener([provider_id, handler](int64_t key_id,
                                                                 const std::string& model,
                                                                 const KeyPool::Pause& pause) {
                handler(provider_id, key_id, model, pause);
            });
        }
    }
    slot.name = rt.name;
    rt.limiter = slot.limiter;
    rt.keys = slot.keys;
}

void ConfigCache::add_bindings(Snapshot& snap, const Rows& rows) {
    std::map<int64_t, const store::ModelRecord*> model_by_id;
    for (const auto& m : rows.models)
        model_by_id[m.id] = &m;
    for (const auto& b : rows.bindings) {
        auto p = snap.providers.find(b.provider_name);
        if (p == snap.providers.end() || !p->second->active || !b.is_active || !b.model_active)
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
            rt.display_name = m->second->display_name.value_or("");
            rt.thinking = m->second->thinking_enabled;
        }
        snap.bindings.push_back(std::move(rt));
    }
    for (std::size_t i = 0; i < snap.bindings.size(); ++i) {
        const auto& b = snap.bindings[i];
        auto& names = snap.aliases[b.provider_name];
        for (const std::string& alias : {b.public_name, b.upstream_model}) {
            if (names.emplace(alias, i).second) snap.global_aliases[alias].push_back(i);
        }
    }
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

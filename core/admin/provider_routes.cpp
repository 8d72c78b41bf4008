// /admin/api/providers: upstream APIs. Their keys live in provider_keys (see
// provider_key_routes.cpp); "api_key" here is the original API's single key,
// kept as the key labelled "default". Secrets never come back, only hints.
#include <algorithm>
#include <cctype>
#include <map>
#include <modelgate/host/adapter.hpp>

#include "admin/admin_api.hpp"
#include "admin/fields.hpp"
#include "domain/model_sync.hpp"
#include "domain/provider_keys.hpp"
#include "domain/provider_secrets.hpp"
#include "util/json.hpp"
#include "util/time.hpp"

namespace modelgate::core::admin {

namespace {

// Keys of one provider, for the listing: no secrets, only counts and a hint.
struct KeySummary {
    int total = 0, active = 0;
    std::string hint;  // the "default" key's, else the first one's
};

std::map<int64_t, KeySummary> summarize_keys(const std::vector<store::ProviderKeyRecord>& keys) {
    std::map<int64_t, KeySummary> out;
    for (const auto& k : keys) {
        auto& s = out[k.provider_id];
        ++s.total;
        if (k.is_active) ++s.active;
        if (s.hint.empty() || k.label == "default") s.hint = k.api_key_hint;
    }
    return out;
}

nlohmann::json provider_json(const store::ProviderRecord& p, const Snapshot& snap,
                             const KeySummary& keys, const KeyPool* pool,
                             const crypto::SecretBox& secrets) {
    auto options = parse_json(p.options);
    if (!options.is_object()) options = nlohmann::json::object();
    mask_extra_headers(options, secrets);
    nlohmann::json status = {
        {"usable", false}, {"problem", nullptr}, {"in_flight", 0}, {"queued", 0}};
    if (auto it = snap.providers.find(p.name); it != snap.providers.end()) {
        const auto& rt = *it->second;
        status["usable"] = rt.adapter != nullptr && rt.active;
        if (!rt.adapter_problem.empty())
            status["problem"] = rt.adapter_problem;
        else if (!rt.active)
            status["problem"] = "disabled";
        if (rt.limiter) {
            status["in_flight"] = rt.limiter->in_use();
            status["queued"] = rt.limiter->waiting();
            status["concurrency_limit"] = rt.limiter->limit();
        }
    }
    // The cool-down: the provider's own (keyless) or every key's at once.
    nlohmann::json paused_until = nullptr, pause_reason = nullptr;
    if (pool != nullptr) {
        if (auto why = pool->unavailable(unix_ms_now(), ""); why && why->retry_after_ms > 0) {
            paused_until = iso8601_utc(unix_ms_now() + why->retry_after_ms);
            pause_reason = why->reason;
        }
    }
    status["paused_until"] = paused_until;
    status["pause_reason"] = pause_reason;
    // Every cool-down, of whole keys and of single models on them.
    nlohmann::json pauses = nlohmann::json::array();
    if (pool != nullptr) {
        for (const auto& [key_id, state] : pool->states()) {
            for (auto p : pauses_json(state)) {
                p["key_id"] = key_id;
                pauses.push_back(std::move(p));
            }
        }
    }
    status["pauses"] = pauses;
    return {{"id", p.id},
            {"name", p.name},
            {"adapter", p.adapter},
            {"protocol", p.adapter},
            {"base_url", p.base_url},
            {"has_api_key", keys.total > 0},
            {"api_key", keys.hint},
            {"keys_count", keys.total},
            {"active_keys_count", keys.active},
            {"paused_until", paused_until},
            {"disabled_reason", pause_reason},
            {"options", options},
            {"max_concurrency", p.max_concurrency},
            {"max_concurrent", p.max_concurrency},
            {"queue_timeout_ms", p.queue_timeout_ms},
            {"first_byte_timeout_ms", p.first_byte_timeout_ms},
            {"idle_timeout_ms", p.idle_timeout_ms},
            {"total_timeout_ms", p.total_timeout_ms},
            {"merge_consecutive_messages", p.merge_consecutive_messages},
            {"is_active", p.is_active},
            {"status", status},
            {"created_at", p.created_at},
            {"updated_at", p.updated_at}};
}

// Applies the fields present in body to p. Returns an error for bad input.
std::optional<Error> apply_provider_fields(const nlohmann::json& body, store::ProviderRecord& p,
                                           bool creating, const crypto::SecretBox& secrets) {
    Fields f(body);
    if (auto v = f.text("name", 50, creating)) p.name = *v;
    if (auto v = f.text("base_url", 255, creating)) p.base_url = *v;
    if (auto v = f.text("adapter", 50))
        p.adapter = *v;
    else if (auto proto = f.text("protocol", 50))
        p.adapter = *proto;
    auto maxc = f.integer("max_concurrency", 1, 100000);
    if (!maxc) maxc = f.integer("max_concurrent", 1, 100000);
    if (maxc) p.max_concurrency = static_cast<int>(*maxc);
    if (auto v = f.integer("queue_timeout_ms", 0, 3600000))
        p.queue_timeout_ms = static_cast<int>(*v);
    if (auto v = f.integer("first_byte_timeout_ms", 100, 3600000))
        p.first_byte_timeout_ms = static_cast<int>(*v);
    if (auto v = f.integer("idle_timeout_ms", 100, 3600000))
        p.idle_timeout_ms = static_cast<int>(*v);
    if (auto v = f.integer("total_timeout_ms", 100, 24 * 3600000))
        p.total_timeout_ms = static_cast<int>(*v);
    if (auto v = f.boolean("merge_consecutive_messages")) p.merge_consecutive_messages = *v;
    if (auto v = f.boolean("is_active")) p.is_active = *v;
    const auto stored = parse_json(p.options);
    auto options = stored.is_object() ? stored : nlohmann::json::object();
    if (auto v = f.object("options")) options = *v;
    if (auto v = f.object("extra_headers")) options["extra_headers"] = *v;
    if (auto v = f.text("user_agent", 512)) {
        if (v->empty())
            options.erase("user_agent");
        else
            options["user_agent"] = *v;
    }
    if (auto v = f.boolean("auto_sync_models")) options["auto_sync_models"] = *v;
    if (auto key = f.text("api_key", 4096); key && !key->empty()) {
        if (auto err = check_upstream_secret(*key)) return err;
    }
    if (f.error()) return f.error();
    if (auto ua = options.find("user_agent");
        ua != options.end() && (!ua->is_string() || !valid_header_value(ua->get<std::string>()))) {
        return make_error(ErrorCode::invalid_request,
                          "'user_agent' must be a single line of at most 512 characters",
                          "invalid_field");
    }
    bool name_ok =
        !p.name.empty() && p.name.size() <= 50 &&
        std::all_of(p.name.begin(), p.name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
        });
    if (!name_ok) {
        return make_error(ErrorCode::invalid_request,
                          "'name' may use letters, digits, '_', '.' and '-' (it is the prefix "
                          "clients put before '/')",
                          "invalid_field");
    }
    if (p.base_url.rfind("http://", 0) != 0 && p.base_url.rfind("https://", 0) != 0) {
        return make_error(ErrorCode::invalid_request,
                          "'base_url' must start with http:// or https://", "invalid_field");
    }
    while (!p.base_url.empty() && p.base_url.back() == '/')
        p.base_url.pop_back();
    seal_extra_headers(options, secrets, stored);
    p.options = options.dump();
    return std::nullopt;
}

}  // namespace

// The provider-level "api_key" of the original API is the key labelled
// "default": set, replaced, or removed (null or "").
Status AdminApi::apply_default_key(int64_t provider_id, const nlohmann::json& body) {
    auto field = body.find("api_key");
    if (field == body.end()) return Ok{};
    auto keys = ctx_.store.list_provider_keys(provider_id);
    if (!keys) return keys.error();
    std::optional<store::ProviderKeyRecord> current;
    for (const auto& k : keys.value()) {
        if (k.label == "default") current = k;
    }
    std::string secret = field->is_string() ? field->get<std::string>() : "";
    if (secret.empty()) {
        if (!current) return Ok{};
        return ctx_.store.delete_provider_key(provider_id, current->id);
    }
    store::ProviderKeyRecord k = current.value_or(store::ProviderKeyRecord{});
    k.provider_id = provider_id;
    k.label = "default";
    set_provider_key_secret(k, ctx_.secrets, secret);
    if (current) return ctx_.store.update_provider_key(k);
    auto id = ctx_.store.create_provider_key(k);
    if (!id) return id.error();
    return Ok{};
}

void AdminApi::register_providers(http::Router& router) {
    route(router, "GET", "/admin/api/providers",
          [this](AdminRequest& req) { return list_providers(req); });
    route(router, "GET", "/admin/api/providers/{id}",
          [this](AdminRequest& req) { return provider_answer(req.id_param("id")); });
    route(router, "POST", "/admin/api/providers",
          [this](AdminRequest& req) { return create_provider(req); });
    route(router, "PUT", "/admin/api/providers/{id}",
          [this](AdminRequest& req) { return update_provider(req); });
    route(router, "POST", "/admin/api/providers/{id}/sync-models",
          [this](AdminRequest& req) { return sync_models(req); });
    route(router, "DELETE", "/admin/api/providers/{id}",
          [this](AdminRequest& req) { return delete_provider(req); });
}

// Checks that the adapter exists and accepts the configuration.
std::optional<Error> AdminApi::validate_provider(const store::ProviderRecord& p) {
    const auto* plugin = ctx_.plugins.find_provider(p.adapter);
    if (plugin == nullptr) {
        std::string known;
        for (const auto& id : ctx_.plugins.provider_ids())
            known += (known.empty() ? "" : ", ") + id;
        return make_error(
            ErrorCode::invalid_request,
            "No provider adapter '" + p.adapter + "' is loaded (available: " + known + ")",
            "unknown_adapter");
    }
    auto options = parse_json(p.options);
    take_gateway_options(options);
    if (auto problem = open_extra_headers(options, ctx_.secrets)) {
        return make_error(ErrorCode::invalid_request, *problem, "invalid_provider_config");
    }
    auto instance = host::Adapter::create(*plugin, p.name, p.base_url, options);
    if (!instance.ok()) {
        return make_error(ErrorCode::invalid_request, instance.failure->message,
                          "invalid_provider_config");
    }
    return std::nullopt;
}

AdminResponse AdminApi::provider_answer(int64_t id) {
    auto p = ctx_.store.get_provider(id);
    if (!p) return AdminResponse::error(p.error());
    if (!p.value())
        return AdminResponse::error(
            make_error(ErrorCode::not_found, "No such provider", "not_found"));
    auto keys = ctx_.store.list_provider_keys(id);
    if (!keys) return AdminResponse::error(keys.error());
    auto pool = ctx_.cache.key_pool(id);
    return AdminResponse::ok(provider_json(*p.value(), *ctx_.cache.current(),
                                           summarize_keys(keys.value())[id], pool.get(),
                                           ctx_.secrets));
}

AdminResponse AdminApi::list_providers(AdminRequest&) {
    auto list = ctx_.store.list_providers();
    if (!list) return AdminResponse::error(list.error());
    auto keys = ctx_.store.list_provider_keys();
    if (!keys) return AdminResponse::error(keys.error());
    auto summaries = summarize_keys(keys.value());
    auto snap = ctx_.cache.current();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : list.value()) {
        auto pool = ctx_.cache.key_pool(p.id);
        out.push_back(provider_json(p, *snap, summaries[p.id], pool.get(), ctx_.secrets));
    }
    return AdminResponse::ok({{"providers", out}});
}

AdminResponse AdminApi::create_provider(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    store::ProviderRecord p;
    if (auto err = apply_provider_fields(body.value(), p, true, ctx_.secrets))
        return AdminResponse::error(*err);
    if (auto err = validate_provider(p)) return AdminResponse::error(*err);
    auto id = ctx_.store.create_provider(p);
    if (!id) return AdminResponse::error(id.error());
    auto key = apply_default_key(id.value(), body.value());
    reload();
    if (!key) return AdminResponse::error(key.error());
    return AdminResponse::ok({{"id", id.value()}, {"name", p.name}}, 201);
}

AdminResponse AdminApi::update_provider(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    auto existing = ctx_.store.get_provider(req.id_param("id"));
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value())
        return AdminResponse::error(
            make_error(ErrorCode::not_found, "No such provider", "not_found"));
    store::ProviderRecord p = *existing.value();
    if (auto err = apply_provider_fields(body.value(), p, false, ctx_.secrets))
        return AdminResponse::error(*err);
    if (auto err = validate_provider(p)) return AdminResponse::error(*err);
    if (auto st = ctx_.store.update_provider(p); !st) return AdminResponse::error(st.error());
    auto key = apply_default_key(p.id, body.value());
    if (!key) {
        reload();
        return AdminResponse::error(key.error().code == ErrorCode::conflict
                                        ? make_error(ErrorCode::conflict,
                                                     "This upstream key is already in the "
                                                     "provider's list.",
                                                     "duplicate_key")
                                        : key.error());
    }
    // As in the original, switching a provider on ends its cool-down.
    if (body.value().value("is_active", false) == true) {
        std::lock_guard lock(ctx_.cache.pause_write_mutex());
        if (auto st = ctx_.store.set_provider_pause(p.id, std::nullopt, ""); !st)
            return AdminResponse::error(st.error());
        if (auto st = ctx_.store.clear_model_pauses(p.id, 0); !st)
            return AdminResponse::error(st.error());
        if (auto pool = ctx_.cache.key_pool(p.id)) pool->clear_pause(0);
    }
    reload();
    return AdminResponse::ok({{"id", p.id}});
}

AdminResponse AdminApi::sync_models(AdminRequest& req) {
    int64_t id = req.id_param("id");
    auto snap = ctx_.cache.current();
    const ProviderRuntime* provider = nullptr;
    for (const auto& [name, p] : snap->providers) {
        if (p->id == id) provider = p.get();
    }
    if (provider == nullptr)
        return AdminResponse::error(
            make_error(ErrorCode::not_found, "No such provider", "not_found"));
    auto report = sync_provider_models(*provider, ctx_.store, ctx_.upstreams.next());
    reload();
    if (!report) return AdminResponse::error(report.error());
    const auto& r = report.value();
    return AdminResponse::ok({{"synced", r.listed},
                              {"total", r.listed.size()},
                              {"created_models", r.created_models},
                              {"created_bindings", r.created_bindings},
                              {"reactivated", r.reactivated},
                              {"deactivated", r.deactivated}});
}

AdminResponse AdminApi::delete_provider(AdminRequest& req) {
    int64_t id = req.id_param("id");
    auto existing = ctx_.store.get_provider(id);
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value())
        return AdminResponse::error(
            make_error(ErrorCode::not_found, "No such provider", "not_found"));
    if (auto st = ctx_.store.delete_provider(id, req.query_value("force") == "true"); !st) {
        return AdminResponse::error(st.error());
    }
    reload();
    return AdminResponse::ok({{"deleted", true}});
}

}  // namespace modelgate::core::admin

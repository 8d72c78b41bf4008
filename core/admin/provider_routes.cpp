// /admin/api/providers: upstream APIs. The upstream key is sealed with the master
// key before it is stored and never returned (only a masked hint).
#include <algorithm>
#include <cctype>
#include <modelgate/host/adapter.hpp>

#include "admin/admin_api.hpp"
#include "admin/fields.hpp"

namespace modelgate::core::admin {

namespace {

nlohmann::json provider_json(const store::ProviderRecord& p, const Snapshot& snap) {
    auto options = nlohmann::json::parse(p.options, nullptr, false);
    if (!options.is_object()) options = nlohmann::json::object();
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
        }
    }
    return {{"id", p.id},
            {"name", p.name},
            {"adapter", p.adapter},
            {"protocol", p.adapter},
            {"base_url", p.base_url},
            {"has_api_key", p.api_key_sealed.has_value() && !p.api_key_sealed->empty()},
            {"api_key", p.api_key_hint},
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
                                           const crypto::SecretBox& secrets, bool creating) {
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
    auto options = nlohmann::json::parse(p.options, nullptr, false);
    if (!options.is_object()) options = nlohmann::json::object();
    if (auto v = f.object("options")) options = *v;
    if (auto v = f.object("extra_headers")) options["extra_headers"] = *v;
    if (f.has("api_key")) {
        if (f.is_null("api_key")) {
            p.api_key_sealed.reset();
            p.api_key_hint.clear();
        } else if (auto key = f.text("api_key", 4096)) {
            if (key->empty()) {
                p.api_key_sealed.reset();
                p.api_key_hint.clear();
            } else {
                p.api_key_sealed = secrets.seal(*key);
                p.api_key_hint = crypto::mask_secret(*key);
            }
        }
    }
    if (f.error()) return f.error();
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
    p.options = options.dump();
    return std::nullopt;
}

}  // namespace

void AdminApi::register_providers(http::Router& router) {
    // Checks that the adapter exists and accepts the configuration.
    auto validate = [this](const store::ProviderRecord& p) -> std::optional<Error> {
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
        auto options = nlohmann::json::parse(p.options, nullptr, false);
        options.erase("force_stream_usage");
        auto instance = host::Adapter::create(*plugin, p.name, p.base_url, options);
        if (!instance.ok()) {
            return make_error(ErrorCode::invalid_request, instance.failure->message,
                              "invalid_provider_config");
        }
        return std::nullopt;
    };

    route(router, "GET", "/admin/api/providers", [this](AdminRequest&) {
        auto list = ctx_.store.list_providers();
        if (!list) return AdminResponse::error(list.error());
        auto snap = ctx_.cache.current();
        nlohmann::json out = nlohmann::json::array();
        for (const auto& p : list.value())
            out.push_back(provider_json(p, *snap));
        return AdminResponse::ok({{"providers", out}});
    });

    route(router, "GET", "/admin/api/providers/{id}", [this](AdminRequest& req) {
        auto p = ctx_.store.get_provider(req.id_param("id"));
        if (!p) return AdminResponse::error(p.error());
        if (!p.value())
            return AdminResponse::error(
                make_error(ErrorCode::not_found, "No such provider", "not_found"));
        return AdminResponse::ok(provider_json(*p.value(), *ctx_.cache.current()));
    });

    route(router, "POST", "/admin/api/providers", [this, validate](AdminRequest& req) {
        auto body = parse_body(req);
        if (!body) return AdminResponse::error(body.error());
        store::ProviderRecord p;
        if (auto err = apply_provider_fields(body.value(), p, ctx_.secrets, true))
            return AdminResponse::error(*err);
        if (auto err = validate(p)) return AdminResponse::error(*err);
        auto id = ctx_.store.create_provider(p);
        if (!id) return AdminResponse::error(id.error());
        reload();
        return AdminResponse::ok({{"id", id.value()}, {"name", p.name}}, 201);
    });

    route(router, "PUT", "/admin/api/providers/{id}", [this, validate](AdminRequest& req) {
        auto body = parse_body(req);
        if (!body) return AdminResponse::error(body.error());
        auto existing = ctx_.store.get_provider(req.id_param("id"));
        if (!existing) return AdminResponse::error(existing.error());
        if (!existing.value())
            return AdminResponse::error(
                make_error(ErrorCode::not_found, "No such provider", "not_found"));
        store::ProviderRecord p = *existing.value();
        if (auto err = apply_provider_fields(body.value(), p, ctx_.secrets, false))
            return AdminResponse::error(*err);
        if (auto err = validate(p)) return AdminResponse::error(*err);
        if (auto st = ctx_.store.update_provider(p); !st) return AdminResponse::error(st.error());
        reload();
        return AdminResponse::ok({{"id", p.id}});
    });

    route(router, "DELETE", "/admin/api/providers/{id}", [this](AdminRequest& req) {
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
    });
}

}  // namespace modelgate::core::admin

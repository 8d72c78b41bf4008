// /admin/api/models, /admin/api/providers/{id}/models (bindings) and
// /admin/api/provider-models.
#include <algorithm>
#include <map>
#include <set>

#include "admin/admin_api.hpp"
#include "admin/fields.hpp"

namespace modelgate::core::admin {

namespace {

nlohmann::json model_json(const store::ModelRecord& m) {
    return {{"id", m.id},
            {"name", m.name},
            {"display_name",
             m.display_name ? nlohmann::json(*m.display_name) : nlohmann::json(nullptr)},
            {"max_tokens", m.max_tokens},
            {"context_length", m.context_length},
            {"thinking_enabled", m.thinking_enabled},
            {"thinking_budget", m.thinking_budget},
            {"is_multimodal", m.is_multimodal},
            {"is_active", m.is_active},
            {"estimated_price", m.estimated_price},
            {"created_at", m.created_at},
            {"updated_at", m.updated_at}};
}

std::string public_name(const store::BindingRecord& b) {
    if (b.model_name_override && !b.model_name_override->empty()) return *b.model_name_override;
    if (b.display_name && !b.display_name->empty()) return *b.display_name;
    return b.model_name;
}

nlohmann::json binding_json(const store::BindingRecord& b) {
    return {{"id", b.id},
            {"provider_id", b.provider_id},
            {"provider_name", b.provider_name},
            {"model_id", b.model_id},
            {"model_name", b.model_name},
            {"display_name",
             b.display_name ? nlohmann::json(*b.display_name) : nlohmann::json(nullptr)},
            {"model_name_override", b.model_name_override ? nlohmann::json(*b.model_name_override)
                                                          : nlohmann::json(nullptr)},
            {"public_id", b.provider_name + "/" + public_name(b)},
            {"is_active", b.is_active},
            {"source", b.source},
            {"created_at", b.created_at}};
}

std::optional<Error> apply_model_fields(const nlohmann::json& body, store::ModelRecord& m,
                                        bool creating) {
    Fields f(body);
    if (auto v = f.text("name", 100, creating)) m.name = *v;
    if (f.has("display_name")) m.display_name = f.text("display_name", 100);
    if (auto v = f.integer("max_tokens", 1, 100000000)) m.max_tokens = static_cast<int>(*v);
    if (auto v = f.integer("context_length", 1, 100000000)) m.context_length = static_cast<int>(*v);
    if (auto v = f.boolean("thinking_enabled")) m.thinking_enabled = *v;
    if (auto v = f.integer("thinking_budget", 0, 100000000))
        m.thinking_budget = static_cast<int>(*v);
    if (auto v = f.boolean("is_multimodal")) m.is_multimodal = *v;
    if (auto v = f.boolean("is_active")) m.is_active = *v;
    if (auto v = f.number("estimated_price", 0, 1e9)) m.estimated_price = *v;
    if (f.error()) return f.error();
    if (m.name.empty())
        return make_error(ErrorCode::invalid_request, "'name' must not be empty", "invalid_field");
    return std::nullopt;
}

Error not_found(const char* what) {
    return make_error(ErrorCode::not_found, std::string("No such ") + what, "not_found");
}

}  // namespace

void AdminApi::register_models(http::Router& router) {
    route(router, "GET", "/admin/api/models",
          [this](AdminRequest& req) { return list_models(req); });
    route(router, "POST", "/admin/api/models",
          [this](AdminRequest& req) { return create_model(req); });
    route(router, "PUT", "/admin/api/models/{id}",
          [this](AdminRequest& req) { return update_model(req); });
    route(router, "DELETE", "/admin/api/models/{id}",
          [this](AdminRequest& req) { return delete_model(req); });
    route(router, "GET", "/admin/api/models/{id}/api-keys",
          [this](AdminRequest& req) { return model_api_keys(req); });
    route(router, "PUT", "/admin/api/models/{id}/api-keys",
          [this](AdminRequest& req) { return set_model_api_keys(req); });
    route(router, "GET", "/admin/api/providers/{id}/models",
          [this](AdminRequest& req) { return list_bindings(req); });

    // Binds a model to a provider. Takes model_id, or model (a name; the model is
    // created when it does not exist yet).
    route(router, "POST", "/admin/api/providers/{id}/models",
          [this](AdminRequest& req) { return create_binding(req); });
    route(router, "PUT", "/admin/api/providers/{id}/models/{pm_id}",
          [this](AdminRequest& req) { return update_binding(req); });
    route(router, "DELETE", "/admin/api/providers/{id}/models/{pm_id}",
          [this](AdminRequest& req) { return delete_binding(req); });
    route(router, "GET", "/admin/api/provider-models",
          [this](AdminRequest& req) { return list_all_bindings(req); });
}

AdminResponse AdminApi::list_models(AdminRequest&) {
    auto list = ctx_.store.list_models();
    if (!list) return AdminResponse::error(list.error());
    auto bindings = ctx_.store.list_bindings();
    if (!bindings) return AdminResponse::error(bindings.error());
    auto keys = ctx_.store.list_api_keys();
    if (!keys) return AdminResponse::error(keys.error());
    // bound_key_count: keys whose allowlist names one of the model's bindings.
    std::map<int64_t, int64_t> model_of_binding;
    for (const auto& b : bindings.value())
        model_of_binding[b.id] = b.model_id;
    std::map<int64_t, std::set<int64_t>> keys_of_model;
    for (const auto& k : keys.value()) {
        for (int64_t b : k.allowed_binding_ids) {
            auto it = model_of_binding.find(b);
            if (it != model_of_binding.end()) keys_of_model[it->second].insert(k.id);
        }
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : list.value()) {
        out.push_back(model_json(m));
        out.back()["bound_key_count"] = keys_of_model[m.id].size();
    }
    return AdminResponse::ok({{"models", out}});
}

AdminResponse AdminApi::model_api_keys(AdminRequest& req) {
    auto model = ctx_.store.get_model(req.id_param("id"));
    if (!model) return AdminResponse::error(model.error());
    if (!model.value()) return AdminResponse::error(not_found("model"));
    auto bindings = ctx_.store.list_bindings();
    if (!bindings) return AdminResponse::error(bindings.error());
    auto keys = ctx_.store.list_api_keys();
    if (!keys) return AdminResponse::error(keys.error());
    auto key_ref = [](const store::ApiKeyRecord& k) {
        return nlohmann::json{{"id", k.id}, {"name", k.name}, {"is_active", k.is_active}};
    };
    nlohmann::json out = nlohmann::json::array(), unrestricted = nlohmann::json::array();
    std::set<int64_t> bound;
    for (const auto& b : bindings.value()) {
        if (b.model_id != model.value()->id) continue;
        nlohmann::json entry = binding_json(b);
        entry["provider_model_id"] = b.id;
        entry["api_keys"] = nlohmann::json::array();
        for (const auto& k : keys.value()) {
            const auto& list = k.allowed_binding_ids;
            if (std::find(list.begin(), list.end(), b.id) == list.end()) continue;
            entry["api_keys"].push_back(key_ref(k));
            bound.insert(k.id);
        }
        out.push_back(std::move(entry));
    }
    for (const auto& k : keys.value()) {
        if (k.allowed_binding_ids.empty()) unrestricted.push_back(key_ref(k));
    }
    return AdminResponse::ok({{"model_id", model.value()->id},
                              {"model_name", model.value()->name},
                              {"bound_key_count", bound.size()},
                              {"bindings", std::move(out)},
                              {"unrestricted_keys", std::move(unrestricted)}});
}

AdminResponse AdminApi::set_model_api_keys(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    auto model = ctx_.store.get_model(req.id_param("id"));
    if (!model) return AdminResponse::error(model.error());
    if (!model.value()) return AdminResponse::error(not_found("model"));
    Fields f(body.value());
    auto binding_id = f.integer("provider_model_id", 1, INT64_MAX);
    auto key_ids = f.ids("api_key_ids");
    if (f.error()) return AdminResponse::error(*f.error());
    if (!binding_id || !key_ids) {
        return AdminResponse::error(make_error(ErrorCode::invalid_request,
                                               "Send provider_model_id and api_key_ids (a list)",
                                               "missing_field"));
    }
    auto binding = ctx_.store.get_binding(*binding_id);
    if (!binding) return AdminResponse::error(binding.error());
    if (!binding.value() || binding.value()->model_id != model.value()->id) {
        return AdminResponse::error(make_error(ErrorCode::invalid_request,
                                               "provider_model_id is not a binding of this model",
                                               "unknown_binding"));
    }
    auto change = ctx_.store.set_binding_keys(*binding_id, *key_ids);
    if (!change) return AdminResponse::error(change.error());
    reload();
    return AdminResponse::ok({{"provider_model_id", *binding_id},
                              {"added", change->added},
                              {"removed", change->removed},
                              {"unrestricted", change->unrestricted}});
}

AdminResponse AdminApi::create_model(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    store::ModelRecord m;
    if (auto err = apply_model_fields(body.value(), m, true)) return AdminResponse::error(*err);
    auto id = ctx_.store.create_model(m);
    if (!id) return AdminResponse::error(id.error());
    reload();
    return AdminResponse::ok({{"id", id.value()}, {"name", m.name}}, 201);
}

AdminResponse AdminApi::update_model(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    auto existing = ctx_.store.get_model(req.id_param("id"));
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value()) return AdminResponse::error(not_found("model"));
    store::ModelRecord m = *existing.value();
    if (auto err = apply_model_fields(body.value(), m, false)) return AdminResponse::error(*err);
    if (auto st = ctx_.store.update_model(m); !st) return AdminResponse::error(st.error());
    reload();
    return AdminResponse::ok({{"id", m.id}});
}

AdminResponse AdminApi::delete_model(AdminRequest& req) {
    int64_t id = req.id_param("id");
    auto existing = ctx_.store.get_model(id);
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value()) return AdminResponse::error(not_found("model"));
    if (auto st = ctx_.store.delete_model(id); !st) return AdminResponse::error(st.error());
    reload();
    return AdminResponse::ok({{"deleted", true}});
}

AdminResponse AdminApi::list_bindings(AdminRequest& req) {
    int64_t pid = req.id_param("id");
    auto provider = ctx_.store.get_provider(pid);
    if (!provider) return AdminResponse::error(provider.error());
    if (!provider.value()) return AdminResponse::error(not_found("provider"));
    auto list = ctx_.store.list_bindings(pid);
    if (!list) return AdminResponse::error(list.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& b : list.value())
        out.push_back(binding_json(b));
    return AdminResponse::ok({{"provider_id", pid}, {"bindings", out}});
}

AdminResponse AdminApi::create_binding(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    int64_t pid = req.id_param("id");
    auto provider = ctx_.store.get_provider(pid);
    if (!provider) return AdminResponse::error(provider.error());
    if (!provider.value()) return AdminResponse::error(not_found("provider"));
    Fields f(body.value());
    auto model_id = f.integer("model_id", 1, INT64_MAX);
    auto model_name = f.text("model", 100);
    store::BindingRecord b;
    b.provider_id = pid;
    if (f.has("model_name_override")) b.model_name_override = f.text("model_name_override", 100);
    if (auto v = f.boolean("is_active")) b.is_active = *v;
    if (f.error()) return AdminResponse::error(*f.error());
    if (model_id) {
        auto m = ctx_.store.get_model(*model_id);
        if (!m) return AdminResponse::error(m.error());
        if (!m.value()) return AdminResponse::error(not_found("model"));
        b.model_id = *model_id;
    } else if (model_name && !model_name->empty()) {
        auto m = ctx_.store.find_model_by_name(*model_name);
        if (!m) return AdminResponse::error(m.error());
        if (m.value()) {
            b.model_id = m.value()->id;
        } else {
            store::ModelRecord created;
            created.name = *model_name;
            auto id = ctx_.store.create_model(created);
            if (!id) return AdminResponse::error(id.error());
            b.model_id = id.value();
        }
    } else {
        return AdminResponse::error(make_error(ErrorCode::invalid_request,
                                               "Give 'model_id' or 'model' (a model name)",
                                               "invalid_field"));
    }
    if (b.model_name_override && b.model_name_override->find('/') == 0) {
        return AdminResponse::error(make_error(ErrorCode::invalid_request,
                                               "'model_name_override' must not start with '/'",
                                               "invalid_field"));
    }
    auto id = ctx_.store.create_binding(b);
    if (!id) return AdminResponse::error(id.error());
    reload();
    auto created = ctx_.store.get_binding(id.value());
    if (created && created.value()) return AdminResponse::ok(binding_json(*created.value()), 201);
    return AdminResponse::ok({{"id", id.value()}}, 201);
}

AdminResponse AdminApi::update_binding(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    auto existing = ctx_.store.get_binding(req.id_param("pm_id"));
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value() || existing.value()->provider_id != req.id_param("id")) {
        return AdminResponse::error(not_found("binding"));
    }
    store::BindingRecord b = *existing.value();
    Fields f(body.value());
    if (f.has("model_name_override")) b.model_name_override = f.text("model_name_override", 100);
    if (auto v = f.boolean("is_active")) b.is_active = *v;
    if (f.error()) return AdminResponse::error(*f.error());
    b.source = "manual";  // edited by hand: the model sync leaves it alone from now on
    if (auto st = ctx_.store.update_binding(b); !st) return AdminResponse::error(st.error());
    reload();
    return AdminResponse::ok({{"id", b.id}});
}

AdminResponse AdminApi::delete_binding(AdminRequest& req) {
    auto existing = ctx_.store.get_binding(req.id_param("pm_id"));
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value() || existing.value()->provider_id != req.id_param("id")) {
        return AdminResponse::error(not_found("binding"));
    }
    if (auto st = ctx_.store.delete_binding(existing.value()->id); !st)
        return AdminResponse::error(st.error());
    reload();
    return AdminResponse::ok({{"deleted", true}});
}

AdminResponse AdminApi::list_all_bindings(AdminRequest&) {
    auto list = ctx_.store.list_bindings();
    if (!list) return AdminResponse::error(list.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& b : list.value()) {
        if (!b.is_active) continue;
        nlohmann::json j = binding_json(b);
        j["display_name"] = b.provider_name + " - " + public_name(b);
        out.push_back(j);
    }
    return AdminResponse::ok({{"provider_models", out}});
}

}  // namespace modelgate::core::admin

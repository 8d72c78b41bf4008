// /admin/api/keys: gateway API keys, their model allowlists and time rules. The
// secret is returned once, at creation; listings show only its prefix.
#include "admin/admin_api.hpp"
#include "admin/fields.hpp"
#include "auth/api_key.hpp"
#include "domain/time_rules.hpp"

namespace modelgate::core::admin {

namespace {

nlohmann::json opt(const std::optional<std::string>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json rule_json(const store::TimeRuleRecord& r) {
    return {{"id", r.id},
            {"api_key_id", r.api_key_id},
            {"rule_type", r.rule_type},
            {"allowed", r.allowed},
            {"start_time", opt(r.start_time)},
            {"end_time", opt(r.end_time)},
            {"start_date", opt(r.start_date)},
            {"end_date", opt(r.end_date)},
            {"weekdays", opt(r.weekdays)},
            {"created_at", r.created_at}};
}

nlohmann::json key_json(const store::ApiKeyRecord& k) {
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& r : k.time_rules)
        rules.push_back(rule_json(r));
    return {{"id", k.id},
            {"name", k.name},
            {"key_prefix", k.key_prefix},
            {"key", k.key_prefix + "…"},
            {"allowed_provider_model_ids", k.allowed_binding_ids},
            {"time_rules", rules},
            {"is_active", k.is_active},
            {"last_used_at", opt(k.last_used_at)},
            {"created_at", k.created_at},
            {"updated_at", k.updated_at}};
}

Error not_found(const char* what) {
    return make_error(ErrorCode::not_found, std::string("No such ") + what, "not_found");
}

// Reads a rule from a body on top of base; clear_fields empties listed fields.
Result<store::TimeRuleRecord> read_rule(const nlohmann::json& body, store::TimeRuleRecord base) {
    Fields f(body);
    if (auto v = f.text("rule_type", 20)) base.rule_type = *v;
    if (auto v = f.boolean("allowed")) base.allowed = *v;
    for (auto [name, slot] :
         {std::pair{"start_time", &base.start_time}, std::pair{"end_time", &base.end_time},
          std::pair{"start_date", &base.start_date}, std::pair{"end_date", &base.end_date},
          std::pair{"weekdays", &base.weekdays}}) {
        if (auto v = f.text(name, 20)) *slot = *v;
    }
    if (f.error()) return *f.error();
    if (auto clear = body.find("clear_fields"); clear != body.end() && clear->is_array()) {
        for (const auto& c : *clear) {
            if (!c.is_string()) continue;
            std::string n = c.get<std::string>();
            if (n == "start_time")
                base.start_time.reset();
            else if (n == "end_time")
                base.end_time.reset();
            else if (n == "start_date")
                base.start_date.reset();
            else if (n == "end_date")
                base.end_date.reset();
            else if (n == "weekdays")
                base.weekdays.reset();
        }
    }
    return normalize_time_rule(base);
}

}  // namespace

void AdminApi::register_keys(http::Router& router) {
    route(router, "GET", "/admin/api/keys",
          [this](AdminRequest& req) { return list_api_keys(req); });
    route(router, "GET", "/admin/api/keys/{id}",
          [this](AdminRequest& req) { return get_api_key(req); });
    route(router, "POST", "/admin/api/keys",
          [this](AdminRequest& req) { return create_api_key(req); });
    route(router, "PUT", "/admin/api/keys/{id}",
          [this](AdminRequest& req) { return update_api_key(req); });
    route(router, "DELETE", "/admin/api/keys/{id}",
          [this](AdminRequest& req) { return delete_api_key(req); });
    route(router, "GET", "/admin/api/keys/{id}/time-rules",
          [this](AdminRequest& req) { return list_time_rules(req); });
    route(router, "POST", "/admin/api/keys/{id}/time-rules",
          [this](AdminRequest& req) { return create_time_rule(req); });

    auto find_rule = [this](AdminRequest& req) -> Result<store::TimeRuleRecord> {
        auto k = ctx_.store.get_api_key(req.id_param("id"));
        if (!k) return k.error();
        if (!k.value()) return not_found("API key");
        for (const auto& r : k.value()->time_rules) {
            if (r.id == req.id_param("rule_id")) return r;
        }
        return not_found("time rule");
    };

    route(router, "PUT", "/admin/api/keys/{id}/time-rules/{rule_id}",
          [this, find_rule](AdminRequest& req) {
              auto body = parse_body(req);
              if (!body) return AdminResponse::error(body.error());
              auto existing = find_rule(req);
              if (!existing) return AdminResponse::error(existing.error());
              auto rule = read_rule(body.value(), existing.value());
              if (!rule) return AdminResponse::error(rule.error());
              if (auto st = ctx_.store.update_time_rule(rule.value()); !st)
                  return AdminResponse::error(st.error());
              reload();
              return AdminResponse::ok(rule_json(rule.value()));
          });

    route(router, "DELETE", "/admin/api/keys/{id}/time-rules/{rule_id}",
          [this, find_rule](AdminRequest& req) {
              auto existing = find_rule(req);
              if (!existing) return AdminResponse::error(existing.error());
              if (auto st = ctx_.store.delete_time_rule(existing->api_key_id, existing->id); !st) {
                  return AdminResponse::error(st.error());
              }
              reload();
              return AdminResponse::ok({{"deleted", true}});
          });
}

AdminResponse AdminApi::list_api_keys(AdminRequest&) {
    auto list = ctx_.store.list_api_keys();
    if (!list) return AdminResponse::error(list.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : list.value())
        out.push_back(key_json(k));
    return AdminResponse::ok({{"api_keys", out}});
}

AdminResponse AdminApi::get_api_key(AdminRequest& req) {
    auto k = ctx_.store.get_api_key(req.id_param("id"));
    if (!k) return AdminResponse::error(k.error());
    if (!k.value()) return AdminResponse::error(not_found("API key"));
    return AdminResponse::ok(key_json(*k.value()));
}

AdminResponse AdminApi::create_api_key(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    Fields f(body.value());
    store::ApiKeyRecord k;
    k.name = f.text("name", 100, true).value_or("");
    k.allowed_binding_ids = f.ids("allowed_provider_model_ids").value_or(std::vector<int64_t>{});
    if (auto v = f.boolean("is_active")) k.is_active = *v;
    if (f.error()) return AdminResponse::error(*f.error());
    auto generated = auth::generate_api_key();
    k.key_hash = generated.hash;
    k.key_prefix = generated.prefix;
    auto id = ctx_.store.create_api_key(k);
    if (!id) return AdminResponse::error(id.error());
    reload();
    return AdminResponse::ok({{"id", id.value()},
                              {"name", k.name},
                              {"key", generated.secret},
                              {"key_prefix", k.key_prefix},
                              {"note", "Store this key now: it is shown only once."}},
                             201);
}

AdminResponse AdminApi::update_api_key(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    auto existing = ctx_.store.get_api_key(req.id_param("id"));
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value()) return AdminResponse::error(not_found("API key"));
    store::ApiKeyRecord k = *existing.value();
    Fields f(body.value());
    if (auto v = f.text("name", 100)) k.name = *v;
    if (auto v = f.boolean("is_active")) k.is_active = *v;
    if (auto v = f.ids("allowed_provider_model_ids")) k.allowed_binding_ids = *v;
    if (f.error()) return AdminResponse::error(*f.error());
    if (k.name.empty())
        return AdminResponse::error(
            make_error(ErrorCode::invalid_request, "'name' must not be empty"));
    if (auto st = ctx_.store.update_api_key(k); !st) return AdminResponse::error(st.error());
    reload();
    return AdminResponse::ok({{"id", k.id}});
}

AdminResponse AdminApi::delete_api_key(AdminRequest& req) {
    int64_t id = req.id_param("id");
    auto existing = ctx_.store.get_api_key(id);
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value()) return AdminResponse::error(not_found("API key"));
    if (auto st = ctx_.store.delete_api_key(id); !st) return AdminResponse::error(st.error());
    reload();
    return AdminResponse::ok({{"deleted", true}});
}

AdminResponse AdminApi::list_time_rules(AdminRequest& req) {
    auto k = ctx_.store.get_api_key(req.id_param("id"));
    if (!k) return AdminResponse::error(k.error());
    if (!k.value()) return AdminResponse::error(not_found("API key"));
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& r : k.value()->time_rules)
        rules.push_back(rule_json(r));
    return AdminResponse::ok({{"rules", rules}});
}

AdminResponse AdminApi::create_time_rule(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    int64_t key_id = req.id_param("id");
    auto k = ctx_.store.get_api_key(key_id);
    if (!k) return AdminResponse::error(k.error());
    if (!k.value()) return AdminResponse::error(not_found("API key"));
    store::TimeRuleRecord base;
    base.api_key_id = key_id;
    auto rule = read_rule(body.value(), base);
    if (!rule) return AdminResponse::error(rule.error());
    auto id = ctx_.store.create_time_rule(rule.value());
    if (!id) return AdminResponse::error(id.error());
    reload();
    // Read back as stored, created_at included.
    auto stored = ctx_.store.get_api_key(key_id);
    if (!stored) return AdminResponse::error(stored.error());
    if (stored.value()) {
        for (const auto& r : stored.value()->time_rules) {
            if (r.id == id.value()) return AdminResponse::ok(rule_json(r), 201);
        }
    }
    return AdminResponse::error(not_found("time rule"));
}

}  // namespace modelgate::core::admin

// /admin/api/providers/{id}/keys: the upstream keys of a provider. Secrets are
// sealed before they are stored and only a masked hint ever comes back. A key
// has two independent states: the admin's on/off switch (is_active) and the
// automatic cool-down after a rate limit or an exhausted quota (paused_until),
// which ends by itself.
#include "admin/admin_api.hpp"
#include "admin/fields.hpp"
#include "domain/provider_keys.hpp"
#include "util/time.hpp"

namespace modelgate::core::admin {

namespace {}  // namespace

nlohmann::json pauses_json(const KeyPool::KeyState& state) {
    nlohmann::json out = nlohmann::json::array();
    int64_t now = unix_ms_now();
    for (const auto& p : state.pauses) {
        out.push_back(
            {{"scope", p.model.empty() ? "key" : "model"},
             {"model", p.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.model)},
             {"until", iso8601_utc(p.until_ms)},
             {"active", p.until_ms > now},
             {"reason", p.reason},
             {"strikes", p.strikes},
             {"probing", p.probing}});
    }
    return out;
}

namespace {

// A pause that has already ended reads as none.
nlohmann::json live_pause(const std::optional<std::string>& until) {
    if (!until) return nullptr;
    auto ms = parse_iso8601(*until);
    if (!ms || *ms <= unix_ms_now()) return nullptr;
    return *until;
}

nlohmann::json key_json(const store::ProviderKeyRecord& k, const KeyPool* pool) {
    nlohmann::json paused = live_pause(k.paused_until);
    nlohmann::json pauses = nlohmann::json::array();
    int in_flight = 0;
    if (pool != nullptr) {
        auto states = pool->states();
        if (auto it = states.find(k.id); it != states.end()) {
            in_flight = it->second.in_use;
            // This instance may know of a pause the database does not have yet.
            if (it->second.paused_until_ms > unix_ms_now())
                paused = iso8601_utc(it->second.paused_until_ms);
            pauses = pauses_json(it->second);
        }
    }
    const char* state = !k.is_active ? "disabled" : paused.is_null() ? "active" : "paused";
    nlohmann::json maxc =
        k.max_concurrency ? nlohmann::json(*k.max_concurrency) : nlohmann::json(nullptr);
    return {{"id", k.id},
            {"provider_id", k.provider_id},
            {"label", k.label},
            {"api_key", k.api_key_hint},
            {"max_concurrency", maxc},
            {"max_concurrent", maxc},
            {"is_active", k.is_active},
            {"state", state},
            {"paused_until", paused},
            {"pause_reason", paused.is_null() ? nlohmann::json(nullptr)
                                              : nlohmann::json(k.pause_reason.value_or(""))},
            {"in_flight", in_flight},
            {"pauses", pauses},
            {"created_at", k.created_at},
            {"updated_at", k.updated_at}};
}

Error not_found(const char* what) {
    return make_error(ErrorCode::not_found, std::string("No such ") + what, "not_found");
}

Error duplicate_key() {
    return make_error(ErrorCode::conflict, "This upstream key is already in the provider's list.",
                      "duplicate_key");
}

std::optional<Error> apply_key_fields(const nlohmann::json& body, store::ProviderKeyRecord& k,
                                      const crypto::SecretBox& secrets, bool creating,
                                      bool* resume);

}  // namespace

std::optional<Error> check_upstream_secret(const std::string& secret) {
    if (secret.empty())
        return make_error(ErrorCode::invalid_request, "'api_key' must not be empty",
                          "invalid_field");
    for (char c : secret) {
        if (c == '\r' || c == '\n' || c == '\0')
            return make_error(ErrorCode::invalid_request, "'api_key' must not contain line breaks",
                              "invalid_field");
    }
    return std::nullopt;
}

namespace {

std::optional<Error> apply_key_fields(const nlohmann::json& body, store::ProviderKeyRecord& k,
                                      const crypto::SecretBox& secrets, bool creating,
                                      bool* resume) {
    Fields f(body);
    auto secret = f.text("api_key", 4096, creating);
    if (auto v = f.text("label", 50)) k.label = *v;
    for (const char* name : {"max_concurrency", "max_concurrent"}) {
        if (f.is_null(name))
            k.max_concurrency.reset();
        else if (auto v = f.integer(name, 1, 100000))
            k.max_concurrency = static_cast<int>(*v);
    }
    auto active = f.boolean("is_active");
    auto resume_field = f.boolean("resume");
    if (f.error()) return f.error();
    if (secret) {
        if (auto err = check_upstream_secret(*secret)) return err;
        set_provider_key_secret(k, secrets, *secret);
    }
    if (active) k.is_active = *active;
    // As in the original, switching a key on clears its cool-down too.
    if ((active && *active) || (resume_field && *resume_field)) {
        k.paused_until.reset();
        k.pause_reason.reset();
        if (resume != nullptr) *resume = true;
    }
    return std::nullopt;
}

}  // namespace

void AdminApi::register_provider_keys(http::Router& router) {
    auto provider_exists = [this](int64_t id) -> std::optional<Error> {
        auto p = ctx_.store.get_provider(id);
        if (!p) return p.error();
        if (!p.value()) return not_found("provider");
        return std::nullopt;
    };

    route(router, "GET", "/admin/api/providers/{id}/keys",
          [this, provider_exists](AdminRequest& req) {
              int64_t pid = req.id_param("id");
              if (auto err = provider_exists(pid)) return AdminResponse::error(*err);
              auto keys = ctx_.store.list_provider_keys(pid);
              if (!keys) return AdminResponse::error(keys.error());
              auto pool = ctx_.cache.key_pool(pid);
              nlohmann::json out = nlohmann::json::array();
              for (const auto& k : keys.value())
                  out.push_back(key_json(k, pool.get()));
              return AdminResponse::ok({{"keys", out}});
          });

    route(router, "POST", "/admin/api/providers/{id}/keys",
          [this, provider_exists](AdminRequest& req) {
              auto body = parse_body(req);
              if (!body) return AdminResponse::error(body.error());
              int64_t pid = req.id_param("id");
              if (auto err = provider_exists(pid)) return AdminResponse::error(*err);
              store::ProviderKeyRecord k;
              k.provider_id = pid;
              if (auto err = apply_key_fields(body.value(), k, ctx_.secrets, true, nullptr))
                  return AdminResponse::error(*err);
              auto id = ctx_.store.create_provider_key(k);
              if (!id) {
                  return AdminResponse::error(
                      id.error().code == ErrorCode::conflict ? duplicate_key() : id.error());
              }
              reload();
              return AdminResponse::ok({{"id", id.value()}, {"api_key", k.api_key_hint}}, 201);
          });

    route(router, "PUT", "/admin/api/providers/{id}/keys/{key_id}",
          [this](AdminRequest& req) { return update_provider_key(req); });
    route(router, "DELETE", "/admin/api/providers/{id}/keys/{key_id}",
          [this](AdminRequest& req) { return delete_provider_key(req); });
}

AdminResponse AdminApi::update_provider_key(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    int64_t pid = req.id_param("id");
    auto existing = ctx_.store.get_provider_key(req.id_param("key_id"));
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value() || existing.value()->provider_id != pid)
        return AdminResponse::error(not_found("provider key"));
    store::ProviderKeyRecord k = *existing.value();
    bool resume = false;
    if (auto err = apply_key_fields(body.value(), k, ctx_.secrets, false, &resume))
        return AdminResponse::error(*err);
    {
        // With the pause writer held, so a pause still on its way to the
        // database cannot land after this resume.
        std::lock_guard lock(ctx_.cache.pause_write_mutex());
        if (auto st = ctx_.store.update_provider_key(k); !st) {
            return AdminResponse::error(st.error().code == ErrorCode::conflict ? duplicate_key()
                                                                               : st.error());
        }
        if (resume) {
            if (auto st = ctx_.store.clear_model_pauses(pid, k.id); !st)
                return AdminResponse::error(st.error());
            if (auto pool = ctx_.cache.key_pool(pid)) pool->clear_pause(k.id);
        }
    }
    reload();
    auto updated = ctx_.store.get_provider_key(k.id);
    if (!updated) return AdminResponse::error(updated.error());
    if (!updated.value()) return AdminResponse::error(not_found("provider key"));
    return AdminResponse::ok(key_json(*updated.value(), ctx_.cache.key_pool(pid).get()));
}

AdminResponse AdminApi::delete_provider_key(AdminRequest& req) {
    int64_t pid = req.id_param("id");
    auto existing = ctx_.store.get_provider_key(req.id_param("key_id"));
    if (!existing) return AdminResponse::error(existing.error());
    if (!existing.value() || existing.value()->provider_id != pid)
        return AdminResponse::error(not_found("provider key"));
    if (auto st = ctx_.store.delete_provider_key(pid, existing.value()->id); !st)
        return AdminResponse::error(st.error());
    reload();
    return AdminResponse::ok({{"deleted", true}});
}

}  // namespace modelgate::core::admin

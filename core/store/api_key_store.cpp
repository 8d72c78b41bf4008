#include "store/api_key_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <set>

namespace modelgate::core::store {

namespace {

std::vector<ApiKeyRecord> select_keys(soci::session& s, const Database& db,
                                      std::optional<long long> only) {
    std::vector<ApiKeyRecord> keys;
    {
        long long id = 0, filter = only.value_or(0);
        ApiKeyRecord r;
        int active = 0;
        soci::statement st(s);
        st.exchange(soci::into(id));
        st.exchange(soci::into(r.name));
        st.exchange(soci::into(r.key_hash));
        st.exchange(soci::into(r.key_prefix));
        st.exchange(soci::into(active));
        st.exchange(soci::into(r.last_used_at));
        st.exchange(soci::into(r.created_at));
        st.exchange(soci::into(r.updated_at));
        if (only) st.exchange(soci::use(filter));
        st.alloc();
        st.prepare("SELECT id, name, key_hash, key_prefix, is_active, " + db.ts("last_used_at") +
                   ", " + db.ts("created_at") + ", " + db.ts("updated_at") + " FROM api_keys" +
                   (only ? " WHERE id = :id" : "") + " ORDER BY id");
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            ApiKeyRecord k = r;
            k.id = id;
            k.is_active = active != 0;
            keys.push_back(std::move(k));
        }
    }
    if (keys.empty()) return keys;
    std::map<long long, ApiKeyRecord*> by_id;
    for (auto& k : keys)
        by_id[k.id] = &k;
    {
        long long key_id = 0, binding_id = 0, filter = only.value_or(0);
        soci::statement st(s);
        st.exchange(soci::into(key_id));
        st.exchange(soci::into(binding_id));
        if (only) st.exchange(soci::use(filter));
        st.alloc();
        st.prepare(std::string("SELECT api_key_id, provider_model_id FROM api_key_models") +
                   (only ? " WHERE api_key_id = :id" : "") + " ORDER BY provider_model_id");
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            if (auto it = by_id.find(key_id); it != by_id.end())
                it->second->allowed_binding_ids.push_back(binding_id);
        }
    }
    {
        long long rule_id = 0, key_id = 0, filter = only.value_or(0);
        TimeRuleRecord r;
        int allowed = 0;
        soci::statement st(s);
        st.exchange(soci::into(rule_id));
        st.exchange(soci::into(key_id));
        st.exchange(soci::into(r.rule_type));
        st.exchange(soci::into(allowed));
        st.exchange(soci::into(r.start_time));
        st.exchange(soci::into(r.end_time));
        st.exchange(soci::into(r.start_date));
        st.exchange(soci::into(r.end_date));
        st.exchange(soci::into(r.weekdays));
        st.exchange(soci::into(r.created_at));
        if (only) st.exchange(soci::use(filter));
        st.alloc();
        st.prepare(
            "SELECT id, api_key_id, rule_type, allowed, start_time, end_time, start_date, "
            "end_date, weekdays, " +
            db.ts("created_at") + " FROM api_key_time_rules" +
            (only ? " WHERE api_key_id = :id" : "") + " ORDER BY id");
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            TimeRuleRecord t = r;
            t.id = rule_id;
            t.api_key_id = key_id;
            t.allowed = allowed != 0;
            if (auto it = by_id.find(key_id); it != by_id.end())
                it->second->time_rules.push_back(std::move(t));
        }
    }
    return keys;
}

void write_allowlist(soci::session& s, long long key_id, const std::vector<int64_t>& ids) {
    s << "DELETE FROM api_key_models WHERE api_key_id = :id", soci::use(key_id);
    for (int64_t b : ids) {
        long long bid = b;
        s << "INSERT INTO api_key_models (api_key_id, provider_model_id) VALUES (:k, :b)",
            soci::use(key_id, "k"), soci::use(bid, "b");
    }
}

}  // namespace

Status ApiKeyStore::check_binding_ids(soci::session& s, const std::vector<int64_t>& ids) {
    for (int64_t b : ids) {
        long long bid = b, found = 0;
        s << "SELECT COUNT(*) FROM provider_models WHERE id = :id", soci::use(bid),
            soci::into(found);
        if (found == 0) {
            return make_error(ErrorCode::invalid_request,
                              "allowed_provider_model_ids contains " + std::to_string(b) +
                                  ", which is not a model binding",
                              "unknown_binding");
        }
    }
    return Ok{};
}

Result<ApiKeyStore::BindingKeys> ApiKeyStore::set_binding_keys(
    int64_t binding_id, const std::vector<int64_t>& key_ids) {
    BindingKeys out;
    Status check = Ok{};
    try {
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            check = check_binding_ids(s, {binding_id});
            if (!check) return;
            auto keys = select_keys(s, db_, std::nullopt);
            std::set<int64_t> wanted(key_ids.begin(), key_ids.end());
            for (int64_t id : wanted) {
                auto it = std::find_if(keys.begin(), keys.end(),
                                       [&](const ApiKeyRecord& k) { return k.id == id; });
                if (it == keys.end()) {
                    check = make_error(
                        ErrorCode::invalid_request,
                        "api_key_ids contains " + std::to_string(id) + ", which is not an API key",
                        "unknown_api_key");
                    return;
                }
            }
            long long bid = binding_id;
            for (const auto& k : keys) {
                const auto& list = k.allowed_binding_ids;
                bool has = std::find(list.begin(), list.end(), binding_id) != list.end();
                bool want = wanted.count(k.id) > 0;
                long long kid = k.id;
                if (want && list.empty()) {
                    out.unrestricted.push_back(k.id);
                } else if (want && !has) {
                    s << "INSERT INTO api_key_models (api_key_id, provider_model_id) VALUES "
                         "(:k, :b)",
                        soci::use(kid, "k"), soci::use(bid, "b");
                    out.added.push_back(k.id);
                } else if (!want && has) {
                    if (list.size() == 1) {
                        check = make_error(
                            ErrorCode::conflict,
                            "API key \"" + k.name +
                                "\" may use only this model; without it, its empty allowlist "
                                "would allow every model. Give it another model or deactivate "
                                "it first.",
                            "last_allowed_model");
                        return;
                    }
                    s << "DELETE FROM api_key_models WHERE api_key_id = :k AND "
                         "provider_model_id = :b",
                        soci::use(kid, "k"), soci::use(bid, "b");
                    out.removed.push_back(k.id);
                }
            }
            s << kBumpConfigVersion;
            tr.commit();
        });
        if (!check) return check.error();
        return out;
    } catch (...) {
        return classify_store_error("binding API keys to a model");
    }
}

Result<std::vector<ApiKeyRecord>> ApiKeyStore::list_api_keys() {
    try {
        return db_.with_session(
            [&](soci::session& s) { return select_keys(s, db_, std::nullopt); });
    } catch (...) {
        return classify_store_error("listing API keys");
    }
}

Result<std::optional<ApiKeyRecord>> ApiKeyStore::get_api_key(int64_t id) {
    try {
        auto keys = db_.with_session([&](soci::session& s) { return select_keys(s, db_, id); });
        if (keys.empty()) return std::optional<ApiKeyRecord>();
        return std::optional<ApiKeyRecord>(keys.front());
    } catch (...) {
        return classify_store_error("reading an API key");
    }
}

Result<int64_t> ApiKeyStore::create_api_key(const ApiKeyRecord& k) {
    try {
        long long id = 0;
        int active = k.is_active;
        Status check = Ok{};
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            check = check_binding_ids(s, k.allowed_binding_ids);
            if (!check) return;
            s << "INSERT INTO api_keys (name, key_hash, key_prefix, is_active) VALUES (:name, "
                 ":hash, :prefix, :active) "
                 "RETURNING id",
                soci::use(k.name, "name"), soci::use(k.key_hash, "hash"),
                soci::use(k.key_prefix, "prefix"), soci::use(active, "active"), soci::into(id);
            write_allowlist(s, id, k.allowed_binding_ids);
            s << kBumpConfigVersion;
            tr.commit();
        });
        if (!check) return check.error();
        return static_cast<int64_t>(id);
    } catch (...) {
        return classify_store_error("creating an API key");
    }
}

Status ApiKeyStore::update_api_key(const ApiKeyRecord& k) {
    try {
        long long id = k.id;
        int active = k.is_active;
        Status check = Ok{};
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            check = check_binding_ids(s, k.allowed_binding_ids);
            if (!check) return;
            s << "UPDATE api_keys SET name = :name, is_active = :active, updated_at = " +
                     std::string(db_.now_sql()) + " WHERE id = :id",
                soci::use(k.name, "name"), soci::use(active, "active"), soci::use(id, "id");
            write_allowlist(s, id, k.allowed_binding_ids);
            s << kBumpConfigVersion;
            tr.commit();
        });
        if (!check) return check.error();
        return Ok{};
    } catch (...) {
        return classify_store_error("updating an API key");
    }
}

Status ApiKeyStore::delete_api_key(int64_t id) {
    return db_.transaction(
        [&](soci::session& s) {
            long long kid = id;
            s << "DELETE FROM api_keys WHERE id = :id", soci::use(kid);
            s << kBumpConfigVersion;
        },
        "deleting an API key");
}

Status ApiKeyStore::touch_api_keys(const std::vector<std::pair<int64_t, std::string>>& last_used) {
    if (last_used.empty()) return Ok{};
    return db_.transaction(
        [&](soci::session& s) {
            for (const auto& [id, when] : last_used) {
                long long kid = id;
                s << "UPDATE api_keys SET last_used_at = :t WHERE id = :id", soci::use(when, "t"),
                    soci::use(kid, "id");
            }
        },
        "recording API key use");
}

Result<int64_t> ApiKeyStore::create_time_rule(const TimeRuleRecord& r) {
    try {
        long long id = 0, key = r.api_key_id;
        int allowed = r.allowed;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            s << "INSERT INTO api_key_time_rules (api_key_id, rule_type, allowed, start_time, "
                 "end_time, start_date, "
                 "end_date, weekdays) VALUES (:k, :t, :a, :st, :et, :sd, :ed, :wd) RETURNING id",
                soci::use(key, "k"), soci::use(r.rule_type, "t"), soci::use(allowed, "a"),
                soci::use(r.start_time, "st"), soci::use(r.end_time, "et"),
                soci::use(r.start_date, "sd"), soci::use(r.end_date, "ed"),
                soci::use(r.weekdays, "wd"), soci::into(id);
            s << kBumpConfigVersion;
            tr.commit();
        });
        return static_cast<int64_t>(id);
    } catch (...) {
        return classify_store_error("creating a time rule");
    }
}

Status ApiKeyStore::update_time_rule(const TimeRuleRecord& r) {
    return db_.transaction(
        [&](soci::session& s) {
            long long id = r.id, key = r.api_key_id;
            int allowed = r.allowed;
            s << "UPDATE api_key_time_rules SET rule_type = :t, allowed = :a, start_time = :st, "
                 "end_time = :et, "
                 "start_date = :sd, end_date = :ed, weekdays = :wd WHERE id = :id AND api_key_id = "
                 ":k",
                soci::use(r.rule_type, "t"), soci::use(allowed, "a"), soci::use(r.start_time, "st"),
                soci::use(r.end_time, "et"), soci::use(r.start_date, "sd"),
                soci::use(r.end_date, "ed"), soci::use(r.weekdays, "wd"), soci::use(id, "id"),
                soci::use(key, "k");
            s << kBumpConfigVersion;
        },
        "updating a time rule");
}

Status ApiKeyStore::delete_time_rule(int64_t api_key_id, int64_t rule_id) {
    return db_.transaction(
        [&](soci::session& s) {
            long long id = rule_id, key = api_key_id;
            s << "DELETE FROM api_key_time_rules WHERE id = :id AND api_key_id = :k",
                soci::use(id, "id"), soci::use(key, "k");
            s << kBumpConfigVersion;
        },
        "deleting a time rule");
}

}  // namespace modelgate::core::store

// Upstream keys of providers, their cool-down, and the gateway-wide settings.
#include "store/provider_key_store.hpp"

#include <soci/soci.h>

#include "util/redact.hpp"

namespace modelgate::core::store {

namespace {

std::vector<ProviderKeyRecord> select_keys(soci::session& s, const Database& db,
                                           const std::string& where,
                                           std::optional<long long> param) {
    std::vector<ProviderKeyRecord> out;
    long long id = 0, provider_id = 0, p = param.value_or(0);
    ProviderKeyRecord r;
    int active = 0;
    soci::statement st(s);
    st.exchange(soci::into(id));
    st.exchange(soci::into(provider_id));
    st.exchange(soci::into(r.label));
    st.exchange(soci::into(r.api_key_sealed));
    st.exchange(soci::into(r.api_key_hint));
    st.exchange(soci::into(r.key_hash));
    st.exchange(soci::into(r.max_concurrency));
    st.exchange(soci::into(active));
    st.exchange(soci::into(r.paused_until));
    st.exchange(soci::into(r.pause_reason));
    st.exchange(soci::into(r.created_at));
    st.exchange(soci::into(r.updated_at));
    if (param) st.exchange(soci::use(p));
    st.alloc();
    st.prepare(
        "SELECT id, provider_id, label, api_key_sealed, api_key_hint, key_hash, max_concurrency, "
        "is_active, " +
        db.ts("paused_until") + ", pause_reason, " + db.ts("created_at") + ", " +
        db.ts("updated_at") + " FROM provider_keys " + where + " ORDER BY provider_id, id");
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        ProviderKeyRecord k = r;
        k.id = id;
        k.provider_id = provider_id;
        k.is_active = active != 0;
        out.push_back(std::move(k));
        r.max_concurrency.reset();
        r.paused_until.reset();
        r.pause_reason.reset();
    }
    return out;
}

}  // namespace

Result<std::vector<ProviderKeyRecord>> ProviderKeyStore::list_provider_keys(
    std::optional<int64_t> provider_id) {
    try {
        return db_.with_session([&](soci::session& s) {
            if (!provider_id) return select_keys(s, db_, "", std::nullopt);
            return select_keys(s, db_, "WHERE provider_id = :p", *provider_id);
        });
    } catch (...) {
        return classify_store_error("listing provider keys");
    }
}

Result<std::optional<ProviderKeyRecord>> ProviderKeyStore::get_provider_key(int64_t id) {
    try {
        auto rows = db_.with_session(
            [&](soci::session& s) { return select_keys(s, db_, "WHERE id = :p", id); });
        if (rows.empty()) return std::optional<ProviderKeyRecord>();
        return std::optional<ProviderKeyRecord>(rows.front());
    } catch (...) {
        return classify_store_error("reading a provider key");
    }
}

Result<int64_t> ProviderKeyStore::create_provider_key(const ProviderKeyRecord& k) {
    try {
        long long id = 0, pid = k.provider_id;
        int active = k.is_active;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            s << "INSERT INTO provider_keys (provider_id, label, api_key_sealed, api_key_hint, "
                 "key_hash, "
                 "max_concurrency, is_active) VALUES (:p, :l, :sealed, :hint, :hash, :maxc, "
                 ":active) RETURNING id",
                soci::use(pid, "p"), soci::use(k.label, "l"), soci::use(k.api_key_sealed, "sealed"),
                soci::use(k.api_key_hint, "hint"), soci::use(k.key_hash, "hash"),
                soci::use(k.max_concurrency, "maxc"), soci::use(active, "active"), soci::into(id);
            s << kBumpConfigVersion;
            tr.commit();
        });
        return static_cast<int64_t>(id);
    } catch (...) {
        return classify_store_error("adding a provider key");
    }
}

Status ProviderKeyStore::update_provider_key(const ProviderKeyRecord& k) {
    try {
        long long id = k.id;
        int active = k.is_active;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            s << "UPDATE provider_keys SET label = :l, api_key_sealed = :sealed, api_key_hint = "
                 ":hint, "
                 "key_hash = :hash, max_concurrency = :maxc, is_active = :active, paused_until = "
                 ":pu, "
                 "pause_reason = :pr, updated_at = " +
                     std::string(db_.now_sql()) + " WHERE id = :id",
                soci::use(k.label, "l"), soci::use(k.api_key_sealed, "sealed"),
                soci::use(k.api_key_hint, "hint"), soci::use(k.key_hash, "hash"),
                soci::use(k.max_concurrency, "maxc"), soci::use(active, "active"),
                soci::use(k.paused_until, "pu"), soci::use(k.pause_reason, "pr"),
                soci::use(id, "id");
            s << kBumpConfigVersion;
            tr.commit();
        });
        return Ok{};
    } catch (...) {
        return classify_store_error("updating a provider key");
    }
}

Status ProviderKeyStore::delete_provider_key(int64_t provider_id, int64_t key_id) {
    return db_.transaction(
        [&](soci::session& s) {
            long long pid = provider_id, kid = key_id;
            s << "DELETE FROM provider_keys WHERE id = :k AND provider_id = :p",
                soci::use(kid, "k"), soci::use(pid, "p");
            s << kBumpConfigVersion;
        },
        "deleting a provider key");
}

Status ProviderKeyStore::set_key_pause(int64_t key_id, const std::optional<std::string>& until,
                                       const std::string& reason) {
    return db_.transaction(
        [&](soci::session& s) {
            long long kid = key_id;
            std::optional<std::string> r =
                until ? std::optional<std::string>(clip_utf8(reason, 255)) : std::nullopt;
            s << "UPDATE provider_keys SET paused_until = :u, pause_reason = :r WHERE id = :k",
                soci::use(until, "u"), soci::use(r, "r"), soci::use(kid, "k");
            s << kBumpConfigVersion;
        },
        "pausing a provider key");
}

Status ProviderKeyStore::set_provider_pause(int64_t provider_id,
                                            const std::optional<std::string>& until,
                                            const std::string& reason) {
    return db_.transaction(
        [&](soci::session& s) {
            long long pid = provider_id;
            std::optional<std::string> r =
                until ? std::optional<std::string>(clip_utf8(reason, 255)) : std::nullopt;
            s << "UPDATE providers SET paused_until = :u, pause_reason = :r WHERE id = :p",
                soci::use(until, "u"), soci::use(r, "r"), soci::use(pid, "p");
            s << kBumpConfigVersion;
        },
        "pausing a provider");
}

namespace {

// An integer column, whichever integer type the backend reports it as.
int64_t get_int64(const soci::row& row, std::size_t i) {
    if (row.get_indicator(i) != soci::i_ok) return 0;
    switch (row.get_properties(i).get_data_type()) {
        case soci::dt_integer:
            return row.get<int>(i);
        case soci::dt_long_long:
            return row.get<long long>(i);
        case soci::dt_unsigned_long_long:
            return static_cast<int64_t>(row.get<unsigned long long>(i));
        case soci::dt_double:
            return static_cast<int64_t>(row.get<double>(i));
        default:
            return std::stoll(row.get<std::string>(i));
    }
}

}  // namespace

Result<std::vector<ModelPauseRecord>> ProviderKeyStore::list_model_pauses() {
    try {
        std::vector<ModelPauseRecord> out;
        db_.with_session([&](soci::session& s) {
            soci::rowset<soci::row> rows =
                (s.prepare << "SELECT provider_id, key_id, model, " + db_.ts("paused_until") +
                                  ", reason, strikes, length_ms FROM provider_key_model_pauses");
            for (const auto& row : rows) {
                ModelPauseRecord r;
                r.provider_id = get_int64(row, 0);
                r.key_id = get_int64(row, 1);
                r.model = row.get<std::string>(2);
                r.paused_until = row.get<std::string>(3);
                r.reason = row.get_indicator(4) == soci::i_ok ? row.get<std::string>(4) : "";
                r.strikes = static_cast<int>(get_int64(row, 5));
                r.length_ms = get_int64(row, 6);
                out.push_back(std::move(r));
            }
        });
        return out;
    } catch (...) {
        return classify_store_error("listing model pauses");
    }
}

Status ProviderKeyStore::set_model_pause(const ModelPauseRecord& p) {
    return db_.transaction(
        [&](soci::session& s) {
            long long pid = p.provider_id, kid = p.key_id, length = p.length_ms;
            int strikes = p.strikes;
            std::string model = clip_utf8(p.model, 200), reason = clip_utf8(p.reason, 255);
            s << "INSERT INTO provider_key_model_pauses (provider_id, key_id, model, paused_until, "
                 "reason, strikes, length_ms) VALUES (:p, :k, :m, :u, :r, :s, :l) "
                 "ON CONFLICT (provider_id, key_id, model) DO UPDATE SET "
                 "paused_until = excluded.paused_until, reason = excluded.reason, "
                 "strikes = excluded.strikes, length_ms = excluded.length_ms, updated_at = " +
                     std::string(db_.now_sql()),
                soci::use(pid, "p"), soci::use(kid, "k"), soci::use(model, "m"),
                soci::use(p.paused_until, "u"), soci::use(reason, "r"), soci::use(strikes, "s"),
                soci::use(length, "l");
            s << kBumpConfigVersion;
        },
        "pausing a model on a provider key");
}

Status ProviderKeyStore::clear_model_pauses(int64_t provider_id, int64_t key_id,
                                            const std::string& model) {
    return db_.transaction(
        [&](soci::session& s) {
            long long pid = provider_id, kid = key_id;
            if (model.empty()) {
                s << "DELETE FROM provider_key_model_pauses WHERE provider_id = :p AND key_id = :k",
                    soci::use(pid, "p"), soci::use(kid, "k");
            } else {
                s << "DELETE FROM provider_key_model_pauses WHERE provider_id = :p AND key_id = :k "
                     "AND model = :m",
                    soci::use(pid, "p"), soci::use(kid, "k"), soci::use(model, "m");
            }
            s << kBumpConfigVersion;
        },
        "ending a model pause");
}

}  // namespace modelgate::core::store

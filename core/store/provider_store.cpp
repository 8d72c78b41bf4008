#include "store/provider_store.hpp"

#include <soci/soci.h>

namespace modelgate::core::store {

namespace {

std::string provider_columns(const Database& db) {
    return "id, name, adapter, base_url, api_key_sealed, api_key_hint, options, max_concurrency, "
           "queue_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, total_timeout_ms, "
           "merge_consecutive_messages, is_active, " +
           db.ts("created_at") + ", " + db.ts("updated_at") + ", " + db.ts("paused_until") +
           ", pause_reason";
}

struct ProviderRow {
    long long id = 0;
    ProviderRecord r;
    int merge = 0, active = 0;

    void bind(soci::statement& st) {
        st.exchange(soci::into(id));
        st.exchange(soci::into(r.name));
        st.exchange(soci::into(r.adapter));
        st.exchange(soci::into(r.base_url));
        st.exchange(soci::into(r.api_key_sealed));
        st.exchange(soci::into(r.api_key_hint));
        st.exchange(soci::into(r.options));
        st.exchange(soci::into(r.max_concurrency));
        st.exchange(soci::into(r.queue_timeout_ms));
        st.exchange(soci::into(r.first_byte_timeout_ms));
        st.exchange(soci::into(r.idle_timeout_ms));
        st.exchange(soci::into(r.total_timeout_ms));
        st.exchange(soci::into(merge));
        st.exchange(soci::into(active));
        st.exchange(soci::into(r.created_at));
        st.exchange(soci::into(r.updated_at));
        st.exchange(soci::into(r.paused_until));
        st.exchange(soci::into(r.pause_reason));
    }
    ProviderRecord get() const {
        ProviderRecord out = r;
        out.id = id;
        out.merge_consecutive_messages = merge != 0;
        out.is_active = active != 0;
        return out;
    }
};

std::vector<ProviderRecord> select_providers(soci::session& s, const Database& db,
                                             const std::string& where,
                                             std::optional<long long> id) {
    std::vector<ProviderRecord> out;
    ProviderRow row;
    soci::statement st(s);
    long long idv = id.value_or(0);
    row.bind(st);
    if (id) st.exchange(soci::use(idv, "id"));
    st.alloc();
    st.prepare("SELECT " + provider_columns(db) + " FROM providers " + where + " ORDER BY id");
    st.define_and_bind();
    st.execute(false);
    while (st.fetch())
        out.push_back(row.get());
    return out;
}

}  // namespace

Result<std::vector<ProviderRecord>> ProviderStore::list_providers() {
    try {
        return db_.with_session(
            [&](soci::session& s) { return select_providers(s, db_, "", std::nullopt); });
    } catch (...) {
        return classify_store_error("listing providers");
    }
}

Result<std::optional<ProviderRecord>> ProviderStore::get_provider(int64_t id) {
    try {
        auto rows = db_.with_session(
            [&](soci::session& s) { return select_providers(s, db_, "WHERE id = :id", id); });
        if (rows.empty()) return std::optional<ProviderRecord>();
        return std::optional<ProviderRecord>(rows.front());
    } catch (...) {
        return classify_store_error("reading a provider");
    }
}

Result<int64_t> ProviderStore::create_provider(const ProviderRecord& p) {
    try {
        long long id = 0;
        int merge = p.merge_consecutive_messages ? 1 : 0, active = p.is_active ? 1 : 0;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            s << "INSERT INTO providers (name, adapter, base_url, api_key_sealed, api_key_hint, "
                 "options, "
                 "max_concurrency, queue_timeout_ms, first_byte_timeout_ms, idle_timeout_ms, "
                 "total_timeout_ms, "
                 "merge_consecutive_messages, is_active) VALUES (:name, :adapter, :base_url, "
                 ":sealed, :hint, "
                 ":options, :maxc, :qt, :fbt, :it, :tt, :merge, :active) RETURNING id",
                soci::use(p.name, "name"), soci::use(p.adapter, "adapter"),
                soci::use(p.base_url, "base_url"), soci::use(p.api_key_sealed, "sealed"),
                soci::use(p.api_key_hint, "hint"), soci::use(p.options, "options"),
                soci::use(p.max_concurrency, "maxc"), soci::use(p.queue_timeout_ms, "qt"),
                soci::use(p.first_byte_timeout_ms, "fbt"), soci::use(p.idle_timeout_ms, "it"),
                soci::use(p.total_timeout_ms, "tt"), soci::use(merge, "merge"),
                soci::use(active, "active"), soci::into(id);
            s << kBumpConfigVersion;
            tr.commit();
        });
        return static_cast<int64_t>(id);
    } catch (...) {
        return classify_store_error("creating a provider");
    }
}

Status ProviderStore::update_provider(const ProviderRecord& p) {
    try {
        int merge = p.merge_consecutive_messages ? 1 : 0, active = p.is_active ? 1 : 0;
        long long id = p.id;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            s << "UPDATE providers SET name = :name, adapter = :adapter, base_url = :base_url, "
                 "api_key_sealed = :sealed, api_key_hint = :hint, options = :options, "
                 "max_concurrency = :maxc, "
                 "queue_timeout_ms = :qt, first_byte_timeout_ms = :fbt, idle_timeout_ms = :it, "
                 "total_timeout_ms = :tt, merge_consecutive_messages = :merge, is_active = "
                 ":active, updated_at = " +
                     std::string(db_.now_sql()) + " WHERE id = :id",
                soci::use(p.name, "name"), soci::use(p.adapter, "adapter"),
                soci::use(p.base_url, "base_url"), soci::use(p.api_key_sealed, "sealed"),
                soci::use(p.api_key_hint, "hint"), soci::use(p.options, "options"),
                soci::use(p.max_concurrency, "maxc"), soci::use(p.queue_timeout_ms, "qt"),
                soci::use(p.first_byte_timeout_ms, "fbt"), soci::use(p.idle_timeout_ms, "it"),
                soci::use(p.total_timeout_ms, "tt"), soci::use(merge, "merge"),
                soci::use(active, "active"), soci::use(id, "id");
            s << kBumpConfigVersion;
            tr.commit();
        });
        return Ok{};
    } catch (...) {
        return classify_store_error("updating a provider");
    }
}

Status ProviderStore::delete_provider(int64_t id, bool force) {
    try {
        long long pid = id;
        bool blocked = false;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            long long bound = 0, referenced = 0;
            s << "SELECT COUNT(*) FROM provider_models WHERE provider_id = :id", soci::use(pid),
                soci::into(bound);
            // Bindings in a key's allowlist are never removed implicitly: an emptied
            // allowlist would mean "every model".
            s << "SELECT COUNT(*) FROM api_key_models akm JOIN provider_models pm ON pm.id = "
                 "akm.provider_model_id "
                 "WHERE pm.provider_id = :id",
                soci::use(pid), soci::into(referenced);
            if ((bound > 0 && !force) || referenced > 0) {
                blocked = true;
                return;
            }
            s << "DELETE FROM providers WHERE id = :id", soci::use(pid);
            s << kBumpConfigVersion;
            tr.commit();
        });
        if (blocked) {
            return make_error(
                ErrorCode::conflict,
                "the provider still has model bindings; delete them first, or pass ?force=true "
                "when none of them is in an API key's allowlist",
                "provider_in_use");
        }
        return Ok{};
    } catch (...) {
        return classify_store_error("deleting a provider");
    }
}

Error classify_store_error(const char* what) {
    try {
        throw;
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (msg.find("UNIQUE constraint") != std::string::npos ||
            msg.find("duplicate key") != std::string::npos) {
            return make_error(ErrorCode::conflict,
                              std::string("conflict while ") + what + ": the name is already taken",
                              "already_exists");
        }
        if (msg.find("FOREIGN KEY") != std::string::npos ||
            msg.find("foreign key") != std::string::npos) {
            return make_error(
                ErrorCode::conflict,
                std::string("conflict while ") + what + ": a referenced row is missing or in use",
                "reference_conflict");
        }
    } catch (...) {
    }
    try {
        throw;
    } catch (...) {
        return database_error(what);
    }
}

}  // namespace modelgate::core::store

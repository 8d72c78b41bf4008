#include "store/model_store.hpp"

#include <soci/soci.h>

namespace modelgate::core::store {

namespace {

struct ModelRow {
    long long id = 0;
    ModelRecord r;
    int thinking = 0, multimodal = 0, active = 0;

    void bind(soci::statement& st) {
        st.exchange(soci::into(id));
        st.exchange(soci::into(r.name));
        st.exchange(soci::into(r.display_name));
        st.exchange(soci::into(r.max_tokens));
        st.exchange(soci::into(r.context_length));
        st.exchange(soci::into(thinking));
        st.exchange(soci::into(r.thinking_budget));
        st.exchange(soci::into(multimodal));
        st.exchange(soci::into(active));
        st.exchange(soci::into(r.estimated_price));
        st.exchange(soci::into(r.created_at));
        st.exchange(soci::into(r.updated_at));
    }
    ModelRecord get() const {
        ModelRecord out = r;
        out.id = id;
        out.thinking_enabled = thinking != 0;
        out.is_multimodal = multimodal != 0;
        out.is_active = active != 0;
        return out;
    }
};

template <class Use>
std::vector<ModelRecord> select_models(soci::session& s, const Database& db,
                                       const std::string& where, Use&& use) {
    std::vector<ModelRecord> out;
    ModelRow row;
    soci::statement st(s);
    row.bind(st);
    use(st);
    st.alloc();
    st.prepare(
        "SELECT id, name, display_name, max_tokens, context_length, thinking_enabled, "
        "thinking_budget, "
        "is_multimodal, is_active, estimated_price, " +
        db.ts("created_at") + ", " + db.ts("updated_at") + " FROM models " + where +
        " ORDER BY name");
    st.define_and_bind();
    st.execute(false);
    while (st.fetch())
        out.push_back(row.get());
    return out;
}

struct BindingRow {
    long long id = 0, provider_id = 0, model_id = 0;
    BindingRecord r;
    int active = 0, model_active = 0;

    void bind(soci::statement& st) {
        st.exchange(soci::into(id));
        st.exchange(soci::into(provider_id));
        st.exchange(soci::into(model_id));
        st.exchange(soci::into(r.model_name_override));
        st.exchange(soci::into(active));
        st.exchange(soci::into(r.source));
        st.exchange(soci::into(r.created_at));
        st.exchange(soci::into(r.model_name));
        st.exchange(soci::into(r.display_name));
        st.exchange(soci::into(model_active));
        st.exchange(soci::into(r.provider_name));
    }
    BindingRecord get() const {
        BindingRecord out = r;
        out.id = id;
        out.provider_id = provider_id;
        out.model_id = model_id;
        out.is_active = active != 0;
        out.model_active = model_active != 0;
        return out;
    }
};

template <class Use>
std::vector<BindingRecord> select_bindings(soci::session& s, const Database& db,
                                           const std::string& where, Use&& use) {
    std::vector<BindingRecord> out;
    BindingRow row;
    soci::statement st(s);
    row.bind(st);
    use(st);
    st.alloc();
    st.prepare(
        "SELECT pm.id, pm.provider_id, pm.model_id, pm.model_name_override, pm.is_active, "
        "pm.source, " +
        db.ts("pm.created_at") +
        ", m.name, m.display_name, m.is_active, p.name FROM provider_models pm "
        "JOIN models m ON m.id = pm.model_id JOIN providers p ON p.id = pm.provider_id " +
        where + " ORDER BY p.name, m.name");
    st.define_and_bind();
    st.execute(false);
    while (st.fetch())
        out.push_back(row.get());
    return out;
}

}  // namespace

Result<std::vector<ModelRecord>> ModelStore::list_models() {
    try {
        return db_.with_session(
            [&](soci::session& s) { return select_models(s, db_, "", [](soci::statement&) {}); });
    } catch (...) {
        return classify_store_error("listing models");
    }
}

Result<std::optional<ModelRecord>> ModelStore::get_model(int64_t id) {
    try {
        long long idv = id;
        auto rows = db_.with_session([&](soci::session& s) {
            return select_models(s, db_, "WHERE id = :id",
                                 [&](soci::statement& st) { st.exchange(soci::use(idv)); });
        });
        if (rows.empty()) return std::optional<ModelRecord>();
        return std::optional<ModelRecord>(rows.front());
    } catch (...) {
        return classify_store_error("reading a model");
    }
}

Result<std::optional<ModelRecord>> ModelStore::find_model_by_name(const std::string& name) {
    try {
        auto rows = db_.with_session([&](soci::session& s) {
            return select_models(s, db_, "WHERE name = :name",
                                 [&](soci::statement& st) { st.exchange(soci::use(name)); });
        });
        if (rows.empty()) return std::optional<ModelRecord>();
        return std::optional<ModelRecord>(rows.front());
    } catch (...) {
        return classify_store_error("reading a model");
    }
}

Result<int64_t> ModelStore::create_model(const ModelRecord& m) {
    try {
        long long id = 0;
        int thinking = m.thinking_enabled, multimodal = m.is_multimodal, active = m.is_active;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            s << "INSERT INTO models (name, display_name, max_tokens, context_length, "
                 "thinking_enabled, "
                 "thinking_budget, is_multimodal, is_active, estimated_price) VALUES (:name, "
                 ":display, :maxt, "
                 ":ctx, :thinking, :budget, :mm, :active, :price) RETURNING id",
                soci::use(m.name, "name"), soci::use(m.display_name, "display"),
                soci::use(m.max_tokens, "maxt"), soci::use(m.context_length, "ctx"),
                soci::use(thinking, "thinking"), soci::use(m.thinking_budget, "budget"),
                soci::use(multimodal, "mm"), soci::use(active, "active"),
                soci::use(m.estimated_price, "price"), soci::into(id);
            s << kBumpConfigVersion;
            tr.commit();
        });
        return static_cast<int64_t>(id);
    } catch (...) {
        return classify_store_error("creating a model");
    }
}

Status ModelStore::update_model(const ModelRecord& m) {
    try {
        long long id = m.id;
        int thinking = m.thinking_enabled, multimodal = m.is_multimodal, active = m.is_active;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            s << "UPDATE models SET name = :name, display_name = :display, max_tokens = :maxt, "
                 "context_length = :ctx, thinking_enabled = :thinking, thinking_budget = :budget, "
                 "is_multimodal = :mm, is_active = :active, estimated_price = :price, updated_at "
                 "= " +
                     std::string(db_.now_sql()) + " WHERE id = :id",
                soci::use(m.name, "name"), soci::use(m.display_name, "display"),
                soci::use(m.max_tokens, "maxt"), soci::use(m.context_length, "ctx"),
                soci::use(thinking, "thinking"), soci::use(m.thinking_budget, "budget"),
                soci::use(multimodal, "mm"), soci::use(active, "active"),
                soci::use(m.estimated_price, "price"), soci::use(id, "id");
            s << kBumpConfigVersion;
            tr.commit();
        });
        return Ok{};
    } catch (...) {
        return classify_store_error("updating a model");
    }
}

Status ModelStore::delete_model(int64_t id) {
    try {
        long long mid = id;
        bool blocked = false;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            long long bound = 0;
            s << "SELECT COUNT(*) FROM provider_models WHERE model_id = :id", soci::use(mid),
                soci::into(bound);
            if (bound > 0) {
                blocked = true;
                return;
            }
            s << "DELETE FROM models WHERE id = :id", soci::use(mid);
            s << kBumpConfigVersion;
            tr.commit();
        });
        if (blocked) {
            return make_error(ErrorCode::conflict,
                              "the model is bound to a provider; delete the binding first",
                              "model_in_use");
        }
        return Ok{};
    } catch (...) {
        return classify_store_error("deleting a model");
    }
}

Result<std::vector<BindingRecord>> ModelStore::list_bindings(std::optional<int64_t> provider_id) {
    try {
        long long pid = provider_id.value_or(0);
        return db_.with_session([&](soci::session& s) {
            if (!provider_id) return select_bindings(s, db_, "", [](soci::statement&) {});
            return select_bindings(s, db_, "WHERE pm.provider_id = :pid",
                                   [&](soci::statement& st) { st.exchange(soci::use(pid)); });
        });
    } catch (...) {
        return classify_store_error("listing model bindings");
    }
}

Result<std::optional<BindingRecord>> ModelStore::get_binding(int64_t id) {
    try {
        long long idv = id;
        auto rows = db_.with_session([&](soci::session& s) {
            return select_bindings(s, db_, "WHERE pm.id = :id",
                                   [&](soci::statement& st) { st.exchange(soci::use(idv)); });
        });
        if (rows.empty()) return std::optional<BindingRecord>();
        return std::optional<BindingRecord>(rows.front());
    } catch (...) {
        return classify_store_error("reading a model binding");
    }
}

Result<int64_t> ModelStore::create_binding(const BindingRecord& b) {
    try {
        long long id = 0, pid = b.provider_id, mid = b.model_id;
        int active = b.is_active;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            s << "INSERT INTO provider_models (provider_id, model_id, model_name_override, "
                 "is_active, source) "
                 "VALUES (:pid, :mid, :ovr, :active, :src) RETURNING id",
                soci::use(pid, "pid"), soci::use(mid, "mid"),
                soci::use(b.model_name_override, "ovr"), soci::use(active, "active"),
                soci::use(b.source, "src"), soci::into(id);
            s << kBumpConfigVersion;
            tr.commit();
        });
        return static_cast<int64_t>(id);
    } catch (...) {
        return classify_store_error("creating a model binding");
    }
}

Status ModelStore::update_binding(const BindingRecord& b) {
    try {
        long long id = b.id;
        int active = b.is_active;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            s << "UPDATE provider_models SET model_name_override = :ovr, is_active = :active, "
                 "source = :src "
                 "WHERE id = :id",
                soci::use(b.model_name_override, "ovr"), soci::use(active, "active"),
                soci::use(b.source, "src"), soci::use(id, "id");
            s << kBumpConfigVersion;
            tr.commit();
        });
        return Ok{};
    } catch (...) {
        return classify_store_error("updating a model binding");
    }
}

Status ModelStore::delete_binding(int64_t id) {
    try {
        long long bid = id;
        long long referenced = 0;
        db_.with_session([&](soci::session& s) {
            WriteTransaction tr(s);
            // Removing a binding from a key's allowlist could empty the list, and an
            // empty list means "every model": refuse rather than widen access.
            s << "SELECT COUNT(*) FROM api_key_models WHERE provider_model_id = :id",
                soci::use(bid), soci::into(referenced);
            if (referenced > 0) return;
            s << "DELETE FROM provider_models WHERE id = :id", soci::use(bid);
            s << kBumpConfigVersion;
            tr.commit();
        });
        if (referenced > 0) {
            return make_error(ErrorCode::conflict,
                              "the binding is in the model allowlist of " +
                                  std::to_string(referenced) +
                                  " API key(s); remove it from those keys first",
                              "binding_in_use");
        }
        return Ok{};
    } catch (...) {
        return classify_store_error("deleting a model binding");
    }
}

}  // namespace modelgate::core::store

#include "store/settings_store.hpp"

namespace modelgate::core::store {

Result<std::map<std::string, std::string>> SettingsStore::settings() {
    try {
        std::map<std::string, std::string> out;
        db_.with_session([&](soci::session& s) {
            std::string key, value;
            soci::statement st = (s.prepare << "SELECT key, value FROM system_settings",
                                  soci::into(key), soci::into(value));
            st.execute();
            while (st.fetch())
                out[key] = value;
        });
        return out;
    } catch (...) {
        return classify_store_error("reading settings");
    }
}

Status SettingsStore::set_setting(const std::string& key, const std::string& value) {
    return db_.transaction(
        [&](soci::session& s) {
            s << "INSERT INTO system_settings (key, value) VALUES (:k, :v) ON CONFLICT (key) DO "
                 "UPDATE SET "
                 "value = excluded.value, updated_at = " +
                     std::string(db_.now_sql()),
                soci::use(key, "k"), soci::use(value, "v");
            s << kBumpConfigVersion;
        },
        "saving a setting");
}

Result<int64_t> SettingsStore::config_version() {
    try {
        long long v = 0;
        db_.with_session([&](soci::session& s) {
            s << "SELECT version FROM config_state WHERE id = 1", soci::into(v);
        });
        return static_cast<int64_t>(v);
    } catch (...) {
        return database_error("reading the configuration version");
    }
}

Status SettingsStore::bump_config_version() {
    return db_.transaction([](soci::session& s) { s << kBumpConfigVersion; },
                           "bumping the configuration version");
}

}  // namespace modelgate::core::store

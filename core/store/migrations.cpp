#include "store/migrations.hpp"

#include <soci/soci.h>

#include <set>
#include <stdexcept>

#include "store/database.hpp"
#include "util/log.hpp"

namespace modelgate::core::store {

std::vector<std::string> split_sql_statements(const std::string& script) {
    std::vector<std::string> out;
    std::string cur;
    bool in_single = false, in_double = false, in_line_comment = false;
    for (std::size_t i = 0; i < script.size(); ++i) {
        char c = script[i];
        char next = i + 1 < script.size() ? script[i + 1] : '\0';
        if (in_line_comment) {
            if (c == '\n') in_line_comment = false;
            continue;
        }
        if (!in_single && !in_double && c == '-' && next == '-') {
            in_line_comment = true;
            continue;
        }
        if (c == '\'' && !in_double)
            in_single = !in_single;
        else if (c == '"' && !in_single)
            in_double = !in_double;
        if (c == ';' && !in_single && !in_double) {
            auto first = cur.find_first_not_of(" \t\r\n");
            if (first != std::string::npos) out.push_back(cur.substr(first));
            cur.clear();
            continue;
        }
        cur.push_back(c);
    }
    auto first = cur.find_first_not_of(" \t\r\n");
    if (first != std::string::npos) out.push_back(cur.substr(first));
    return out;
}

std::vector<std::string> migrate(soci::session& sql, Dialect dialect) {
    const char* name = dialect == Dialect::postgresql ? "postgresql" : "sqlite";
    if (dialect == Dialect::postgresql) {
        // Serialise concurrent starts of several instances on one database.
        sql << "SELECT pg_advisory_lock(7305148)";
        sql << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
               "name VARCHAR(200) NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
    } else {
        sql << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
               "name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT "
               "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))";
    }
    std::vector<std::string> applied;
    try {
        std::set<int> done;
        soci::rowset<int> rs = (sql.prepare << "SELECT version FROM schema_migrations");
        for (int v : rs)
            done.insert(v);
        for (const auto& m : embedded_migrations()) {
            if (std::string(m.dialect) != name || done.count(m.version) != 0) continue;
            WriteTransaction tr(sql);
            try {
                for (const auto& stmt : split_sql_statements(m.sql))
                    sql << stmt;
                std::string mname = m.name;
                sql << "INSERT INTO schema_migrations (version, name) VALUES (:v, :n)",
                    soci::use(m.version), soci::use(mname);
                tr.commit();
            } catch (const std::exception& e) {
                throw std::runtime_error(std::string("migration ") + m.name + " (" + name +
                                         ") failed: " + e.what());
            }
            applied.emplace_back(m.name);
            MG_INFO("db", "applied migration " << m.name);
        }
    } catch (...) {
        if (dialect == Dialect::postgresql) {
            try {
                sql << "SELECT pg_advisory_unlock(7305148)";
            } catch (...) {
            }
        }
        throw;
    }
    if (dialect == Dialect::postgresql) sql << "SELECT pg_advisory_unlock(7305148)";
    return applied;
}

}  // namespace modelgate::core::store

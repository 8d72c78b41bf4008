// Versioned schema migrations, one SQL file per version and dialect
// (core/store/migrations/<dialect>/NNNN_name.sql), embedded in the binary and
// applied at start inside a transaction each; schema_migrations records them.
#pragma once

#include <string>
#include <vector>

namespace soci {
class session;
}

namespace modelgate::core::store {

struct MigrationFile {
    const char* dialect;  // "postgresql" or "sqlite"
    int version;
    const char* name;
    const char* sql;
};

const std::vector<MigrationFile>& embedded_migrations();

enum class Dialect;

// Applies what is missing; returns the names applied. Throws with a message that
// names the failing migration.
std::vector<std::string> migrate(soci::session& sql, Dialect dialect);

// Splits a SQL script into statements (semicolons outside quotes and comments).
std::vector<std::string> split_sql_statements(const std::string& script);

}  // namespace modelgate::core::store

// The database: a SOCI connection pool on PostgreSQL or SQLite, chosen by
// DATABASE_URL, plus the few places where the two dialects differ.
// Every call may block: use it from worker threads, the log writer or start-up,
// never from an HTTP reactor thread.
#pragma once

#include <soci/soci.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/soci_optional.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

enum class Dialect { postgresql, sqlite };

struct DatabaseUrl {
    Dialect dialect = Dialect::sqlite;
    std::string connect_string;  // for SOCI
    std::string display;         // with the password masked
    std::string sqlite_path;
};

// Accepts postgresql://, postgres://, postgresql+asyncpg://, postgresql+psycopg://
// and sqlite:PATH / sqlite:///PATH / sqlite://PATH.
Result<DatabaseUrl> parse_database_url(const std::string& url);

class Database {
  public:
    Database(const DatabaseUrl& url, std::size_t pool_size);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    Dialect dialect() const { return url_.dialect; }
    const char* dialect_name() const {
        return url_.dialect == Dialect::postgresql ? "postgresql" : "sqlite";
    }
    const DatabaseUrl& url() const { return url_; }

    // Runs fn with a pooled session. A broken connection is reconnected before the
    // next use. Exceptions from fn propagate (repositories convert them).
    template <class F>
    auto with_session(F&& fn) {
        std::size_t pos = pool_->lease();
        Lease lease{this, pos};
        soci::session& s = pool_->at(pos);
        revive(pos, s);
        try {
            return fn(s);
        } catch (const soci::soci_error&) {
            mark_suspect(pos);
            throw;
        }
    }

    // Runs fn inside a transaction, converting any exception to an Error.
    Status transaction(const std::function<void(soci::session&)>& fn, const char* what);
    // A connection outside the pool, set up like the pooled ones, for a thread
    // that keeps prepared statements (the request-log writer). Throws.
    std::unique_ptr<soci::session> open_session();

    std::vector<std::string> migrate();
    // Runs fn while no other instance on this database runs fn under the same
    // lock_id (PostgreSQL advisory lock, held by a connection of its own; SQLite
    // serialises writers itself). For start-up steps that race across instances,
    // like feature plugins creating their tables. Throws what fn throws.
    void one_instance_at_a_time(int64_t lock_id, const std::function<void()>& fn);
    bool ping();
    // SQLite: why the file the pool writes to is no longer the database
    // (deleted, or replaced by another file); nullopt when all is well.
    std::optional<std::string> file_problem() const;

    // SQL fragment that selects a timestamp column as ISO 8601 UTC text.
    std::string ts(const std::string& column) const;
    // SQL fragment for a boolean literal.
    const char* boolean(bool v) const;
    // SQL expression for the current time in the column format.
    const char* now_sql() const {
        return url_.dialect == Dialect::postgresql ? "now()"
                                                   : "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
    }
    // SQL fragment for a case-insensitive LIKE.
    const char* ilike() const { return url_.dialect == Dialect::postgresql ? "ILIKE" : "LIKE"; }

  private:
    struct Lease {
        Database* db;
        std::size_t pos;
        ~Lease() { db->pool_->give_back(pos); }
    };
    void setup_session(soci::session& s);
    void revive(std::size_t pos, soci::session& s);
    void mark_suspect(std::size_t pos);

    DatabaseUrl url_;
    std::unique_ptr<soci::connection_pool> pool_;
    std::mutex suspect_mu_;
    std::vector<bool> suspect_;
    unsigned long file_dev_ = 0, file_ino_ = 0;  // the SQLite file as opened
};

// Every change to the configuration tables runs this in its transaction: other
// instances reload their routing snapshot when the version moves.
inline constexpr const char* kBumpConfigVersion =
    "UPDATE config_state SET version = version + 1 WHERE id = 1";

// A transaction that takes the write lock when it begins. On SQLite a plain
// BEGIN is deferred: a transaction that reads and then writes fails at once
// with SQLITE_BUSY (busy_timeout does not apply) when another connection, such
// as the request-log writer, committed in between. BEGIN IMMEDIATE waits for
// the lock up front instead. PostgreSQL uses a plain BEGIN.
// Rolls back in the destructor unless committed.
class WriteTransaction {
  public:
    explicit WriteTransaction(soci::session& s);
    ~WriteTransaction();
    WriteTransaction(const WriteTransaction&) = delete;
    WriteTransaction& operator=(const WriteTransaction&) = delete;
    void commit();

  private:
    soci::session& s_;
    bool open_ = true;
};

// Turns the current exception into an internal Error with a redacted message.
Error database_error(const char* what);
// The same, but ErrorCode::conflict for unique and foreign-key violations.
Error classify_store_error(const char* what);

}  // namespace modelgate::core::store

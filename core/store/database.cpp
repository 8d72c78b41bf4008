#include "store/database.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <filesystem>

#include "store/migrations.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"

namespace modelgate::core::store {

namespace {

bool starts_with(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

std::string mask_password(const std::string& url) {
    // scheme://user:password@host -> scheme://user:***@host
    std::size_t scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    std::size_t at = url.find('@', scheme + 3);
    std::size_t colon = url.find(':', scheme + 3);
    if (at == std::string::npos || colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace

Result<DatabaseUrl> parse_database_url(const std::string& raw) {
    DatabaseUrl u;
    std::string url = raw;
    for (const char* driver : {"postgresql+asyncpg://", "postgresql+psycopg://",
                               "postgresql+psycopg2://", "postgres://"}) {
        if (starts_with(url, driver)) {
            url = "postgresql://" + url.substr(std::string(driver).size());
            break;
        }
    }
    if (starts_with(url, "postgresql://")) {
        u.dialect = Dialect::postgresql;
        u.connect_string = url;  // libpq understands URIs
        u.display = mask_password(url);
        return u;
    }
    if (starts_with(url, "sqlite:")) {
        std::string path = url.substr(7);
        if (starts_with(path, "///"))
            path = path.substr(2);  // sqlite:///abs -> /abs
        else if (starts_with(path, "//"))
            path = path.substr(2);  // sqlite://rel -> rel
        if (path.empty())
            return make_error(ErrorCode::invalid_request, "DATABASE_URL sqlite: needs a file path");
        if (path.find(' ') != std::string::npos || path.find('"') != std::string::npos) {
            return make_error(ErrorCode::invalid_request,
                              "the SQLite path must not contain spaces or quotes");
        }
        u.dialect = Dialect::sqlite;
        u.sqlite_path = path;
        u.connect_string = "db=" + path + " timeout=10";
        u.display = "sqlite:" + path;
        return u;
    }
    return make_error(
        ErrorCode::invalid_request,
        "DATABASE_URL must start with postgresql:// (or postgresql+asyncpg://) or sqlite:, got '" +
            mask_password(raw) + "'");
}

Database::Database(const DatabaseUrl& url, std::size_t pool_size)
    : url_(url),
      pool_(std::make_unique<soci::connection_pool>(pool_size)),
      suspect_(pool_size, false) {
    if (url_.dialect == Dialect::sqlite) {
        auto parent = std::filesystem::path(url_.sqlite_path).parent_path();
        if (!parent.empty()) std::filesystem::create_directories(parent);
    }
    for (std::size_t i = 0; i < pool_size; ++i)
        open_session(pool_->at(i));
}

Database::~Database() = default;

void Database::open_session(soci::session& s) {
    if (url_.dialect == Dialect::postgresql) {
        s.open(soci::postgresql, url_.connect_string);
        s << "SET TIME ZONE 'UTC'";
    } else {
        s.open(soci::sqlite3, url_.connect_string);
        s << "PRAGMA journal_mode=WAL";
        s << "PRAGMA synchronous=NORMAL";
        s << "PRAGMA foreign_keys=ON";
        s << "PRAGMA busy_timeout=10000";
    }
}

void Database::mark_suspect(std::size_t pos) {
    std::lock_guard lock(suspect_mu_);
    suspect_[pos] = true;
}

void Database::revive(std::size_t pos, soci::session& s) {
    {
        std::lock_guard lock(suspect_mu_);
        if (!suspect_[pos]) return;
        suspect_[pos] = false;
    }
    // After an error: check the connection and reopen it if it is gone.
    try {
        int one = 0;
        s << "SELECT 1", soci::into(one);
        return;
    } catch (const std::exception&) {
    }
    try {
        s.close();
        open_session(s);
        MG_INFO("db", "reconnected to " << url_.display);
    } catch (const std::exception& e) {
        mark_suspect(pos);
        MG_WARN("db", "reconnect to " << url_.display << " failed: " << redact(e.what(), 300));
    }
}

Status Database::transaction(const std::function<void(soci::session&)>& fn, const char* what) {
    try {
        with_session([&](soci::session& s) {
            soci::transaction tr(s);
            fn(s);
            tr.commit();
        });
        return Ok{};
    } catch (...) {
        return database_error(what);
    }
}

std::vector<std::string> Database::migrate() {
    return with_session([&](soci::session& s) { return store::migrate(s, url_.dialect); });
}

bool Database::ping() {
    try {
        return with_session([](soci::session& s) {
            int one = 0;
            s << "SELECT 1", soci::into(one);
            return one == 1;
        });
    } catch (const std::exception&) {
        return false;
    }
}

std::string Database::ts(const std::string& column) const {
    if (url_.dialect == Dialect::postgresql) {
        return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
    }
    return column;
}

const char* Database::boolean(bool v) const {
    if (url_.dialect == Dialect::postgresql) return v ? "TRUE" : "FALSE";
    return v ? "1" : "0";
}

Error database_error(const char* what) {
    std::string msg;
    try {
        throw;
    } catch (const std::exception& e) {
        msg = e.what();
    } catch (...) {
        msg = "unknown error";
    }
    MG_ERROR("db", what << ": " << redact(msg, 500));
    return make_error(ErrorCode::internal, std::string("database error while ") + what);
}

}  // namespace modelgate::core::store

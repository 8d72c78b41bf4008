#include "store/database.hpp"

#include <fcntl.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <vector>

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

std::string percent_decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() &&
            std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

// SOCI's PostgreSQL backend splits its connect string on spaces into key=value
// pairs, so a URI has to become libpq keywords. A password with spaces cannot
// travel that way: it goes to libpq through PGPASSWORD instead.
Result<std::string> uri_to_keywords(const std::string& uri) {
    std::string rest = uri.substr(std::string("postgresql://").size());
    std::string query;
    if (auto q = rest.find('?'); q != std::string::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    std::string authority = rest, dbname;
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        authority = rest.substr(0, slash);
        dbname = percent_decode(rest.substr(slash + 1));
    }
    std::string user, password, hostport = authority;
    if (auto at = authority.rfind('@'); at != std::string::npos) {
        std::string userinfo = authority.substr(0, at);
        hostport = authority.substr(at + 1);
        auto colon = userinfo.find(':');
        user = percent_decode(userinfo.substr(0, colon));
        if (colon != std::string::npos) password = percent_decode(userinfo.substr(colon + 1));
    }
    std::string host = hostport, port;
    if (!hostport.empty() && hostport.front() == '[') {
        auto close = hostport.find(']');
        host = hostport.substr(1, close == std::string::npos ? std::string::npos : close - 1);
        if (close != std::string::npos && close + 1 < hostport.size() && hostport[close + 1] == ':')
            port = hostport.substr(close + 2);
    } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    std::vector<std::pair<std::string, std::string>> kv;
    if (!host.empty()) kv.emplace_back("host", percent_decode(host));
    if (!port.empty()) kv.emplace_back("port", port);
    if (!dbname.empty()) kv.emplace_back("dbname", dbname);
    if (!user.empty()) kv.emplace_back("user", user);
    if (!password.empty()) {
        if (password.find_first_of(" \t\"'") != std::string::npos) {
            ::setenv("PGPASSWORD", password.c_str(), 1);
        } else {
            kv.emplace_back("password", password);
        }
    }
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string pair = query.substr(0, amp);
        query = amp == std::string::npos ? std::string() : query.substr(amp + 1);
        auto eq = pair.find('=');
        if (eq == std::string::npos) continue;
        kv.emplace_back(percent_decode(pair.substr(0, eq)), percent_decode(pair.substr(eq + 1)));
    }
    std::string out;
    for (const auto& [k, v] : kv) {
        if (v.find_first_of(" \t\"'") != std::string::npos) {
            return make_error(
                ErrorCode::invalid_request,
                "DATABASE_URL parameter '" + k + "' must not contain spaces or quotes");
        }
        if (!out.empty()) out.push_back(' ');
        out += k + "=" + v;
    }
    return out;
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
        auto keywords = uri_to_keywords(url);
        if (!keywords) return keywords.error();
        u.connect_string = keywords.value();
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
        // The file holds session and key hashes: owner only. SQLite gives its
        // -wal and -shm files the database file's mode.
        int fd = ::open(url_.sqlite_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) ::close(fd);
        for (const char* suffix : {"", "-wal", "-shm"})
            ::chmod((url_.sqlite_path + suffix).c_str(), 0600);
    }
    for (std::size_t i = 0; i < pool_size; ++i)
        setup_session(pool_->at(i));
    if (url_.dialect == Dialect::sqlite) {
        struct stat st {};
        if (::stat(url_.sqlite_path.c_str(), &st) == 0) {
            file_dev_ = st.st_dev;
            file_ino_ = st.st_ino;
        }
    }
}

std::optional<std::string> Database::file_problem() const {
    if (url_.dialect != Dialect::sqlite) return std::nullopt;
    struct stat st {};
    if (::stat(url_.sqlite_path.c_str(), &st) != 0)
        return "the SQLite file " + url_.sqlite_path + " was deleted";
    if (st.st_dev != file_dev_ || st.st_ino != file_ino_)
        return "the SQLite file " + url_.sqlite_path + " was replaced by another file";
    return std::nullopt;
}

Database::~Database() = default;

void Database::setup_session(soci::session& s) {
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
        setup_session(s);
        MG_INFO("db", "reconnected to " << url_.display);
    } catch (const std::exception& e) {
        mark_suspect(pos);
        MG_WARN("db", "reconnect to " << url_.display << " failed: " << redact(e.what(), 300));
    }
}

std::unique_ptr<soci::session> Database::open_session() {
    auto s = std::make_unique<soci::session>();
    setup_session(*s);
    return s;
}

void Database::one_instance_at_a_time(int64_t lock_id, const std::function<void()>& fn) {
    if (url_.dialect != Dialect::postgresql) {
        fn();
        return;
    }
    auto s = open_session();
    long long id = lock_id;
    *s << "SELECT pg_advisory_lock(:id)", soci::use(id);
    try {
        fn();
    } catch (...) {
        s->close();  // ending the connection releases the lock
        throw;
    }
    *s << "SELECT pg_advisory_unlock(:id)", soci::use(id);
}

WriteTransaction::WriteTransaction(soci::session& s) : s_(s) {
    if (s_.get_backend_name() == "sqlite3") {
        s_ << "BEGIN IMMEDIATE";
    } else {
        s_.begin();
    }
}

WriteTransaction::~WriteTransaction() {
    if (!open_) return;
    try {
        s_.rollback();
    } catch (...) {
        // The connection is broken; the pool reconnects it before its next use.
    }
}

void WriteTransaction::commit() {
    s_.commit();
    open_ = false;
}

Status Database::transaction(const std::function<void(soci::session&)>& fn, const char* what) {
    try {
        with_session([&](soci::session& s) {
            WriteTransaction tr(s);
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

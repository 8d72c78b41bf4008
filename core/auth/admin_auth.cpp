#include "auth/admin_auth.hpp"

#include "util/crypto.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"
#include "util/time.hpp"

namespace modelgate::core::auth {

namespace {

// Drops counters whose window and lock are over, when the map grows large.
template <class Map, class TimePoint>
void prune(Map& m, TimePoint now, std::size_t limit) {
    if (m.size() < limit) return;
    for (auto it = m.begin(); it != m.end();) {
        bool over = it->second.locked_until <= now &&
                    now - it->second.first > std::chrono::seconds(AdminAuth::kLockoutSeconds);
        it = over ? m.erase(it) : std::next(it);
    }
    // Still full (a flood of distinct names): forget the oldest half of the rest.
    while (m.size() >= limit)
        m.erase(m.begin());
}

}  // namespace

AdminAuth::AdminAuth(std::vector<AdminAccount> accounts, store::Database& db)
    : accounts_(std::move(accounts)), db_(db) {}

std::optional<AdminAuth::Clock::time_point> AdminAuth::locked_locked(const std::string& client_key,
                                                                     const std::string& user_key,
                                                                     Clock::time_point now) {
    std::optional<Clock::time_point> until;
    for (auto* m : {&by_client_, &by_username_}) {
        auto it = m->find(m == &by_client_ ? client_key : user_key);
        if (it != m->end() && it->second.locked_until > now &&
            (!until || it->second.locked_until > *until))
            until = it->second.locked_until;
    }
    return until;
}

int AdminAuth::fail_locked(const std::string& client_key, const std::string& user_key,
                           Clock::time_point now) {
    const auto window = std::chrono::seconds(kLockoutSeconds);
    int left = kMaxFailures;
    for (auto* m : {&by_client_, &by_username_}) {
        prune(*m, now, kMaxTracked);
        bool per_client = m == &by_client_;
        auto& f = (*m)[per_client ? client_key : user_key];
        if (f.count == 0 || now - f.first > window) {
            f.count = 0;
            f.first = now;
        }
        f.count += 1;
        int limit = per_client ? kMaxFailures : kMaxUsernameFailures;
        if (f.count >= limit) {
            f.count = 0;
            f.locked_until = now + window;
        }
        if (per_client) left = f.locked_until > now ? 0 : limit - f.count;
        if (!per_client && f.locked_until > now) left = 0;
    }
    return left;
}

Result<LoginResult> AdminAuth::login(std::string username, const std::string& password,
                                     const std::string& client_ip) {
    auto now = Clock::now();
    if (username.empty() && accounts_.size() == 1) username = accounts_.front().username;
    // Counters are keyed by a digest: a flood of long names costs no memory.
    std::string user_key = crypto::sha256_hex(username);
    std::string client_key = client_ip + "\n" + user_key;
    {
        std::lock_guard lock(mu_);
        if (auto until = locked_locked(client_key, user_key, now)) {
            auto left = std::chrono::duration_cast<std::chrono::seconds>(*until - now).count() + 1;
            return make_error(ErrorCode::rate_limited,
                              "Too many failed login attempts; try again in " +
                                  std::to_string(left) + " seconds.",
                              "login_locked");
        }
    }
    // Compare digests so every comparison takes the same time whatever the input.
    std::string given_pass = crypto::sha256_hex(password);
    bool ok = false;
    for (const auto& a : accounts_) {
        bool user_ok = crypto::constant_time_equal(user_key, crypto::sha256_hex(a.username));
        bool pass_ok = crypto::constant_time_equal(given_pass, crypto::sha256_hex(a.password));
        ok = ok || (user_ok && pass_ok);
    }
    if (!ok) {
        int left;
        {
            std::lock_guard lock(mu_);
            left = fail_locked(client_key, user_key, now);
        }
        MG_WARN("admin", "failed admin login for '" << redact(clip_utf8(username, 64), 64)
                                                    << "' from " << client_ip);
        return make_error(
            ErrorCode::unauthorized,
            left > 0 ? "Invalid username or password; " + std::to_string(left) + " attempt(s) left."
                     : "Invalid username or password; login locked for " +
                           std::to_string(kLockoutSeconds) + " seconds.",
            "invalid_credentials");
    }
    {
        std::lock_guard lock(mu_);
        by_client_.erase(client_key);
    }
    std::string token = crypto::random_base64url(32);
    std::string hash = crypto::sha256_hex(token);
    int64_t expires_ms = unix_ms_now() + kSessionSeconds * 1000LL;
    std::string expires = iso8601_utc(expires_ms);
    std::string now_text = iso8601_now();
    auto st = db_.transaction(
        [&](soci::session& s) {
            s << "DELETE FROM admin_sessions WHERE expires_at < :now", soci::use(now_text);
            s << "INSERT INTO admin_sessions (token_hash, username, expires_at) VALUES (:h, :u, "
                 ":e)",
                soci::use(hash, "h"), soci::use(username, "u"), soci::use(expires, "e");
        },
        "creating an admin session");
    if (!st) return st.error();
    remember_session(hash, username, expires_ms);
    MG_INFO("admin", "admin '" << username << "' logged in from " << client_ip);
    return LoginResult{token, username};
}

void AdminAuth::remember_session(const std::string& hash, const std::string& username,
                                 int64_t expires_ms) {
    std::lock_guard lock(mu_);
    if (sessions_.size() >= kMaxTracked) {
        int64_t now = unix_ms_now();
        for (auto it = sessions_.begin(); it != sessions_.end();)
            it = it->second.expires_ms <= now ? sessions_.erase(it) : std::next(it);
        while (sessions_.size() >= kMaxTracked)
            sessions_.erase(sessions_.begin());
    }
    sessions_[hash] = KnownSession{username, expires_ms};
}

bool AdminAuth::known_session(std::string_view token) {
    if (token.empty() || token.size() > 128) return false;
    std::string hash = crypto::sha256_hex(token);
    std::lock_guard lock(mu_);
    auto it = sessions_.find(hash);
    return it != sessions_.end() && it->second.expires_ms > unix_ms_now();
}

std::optional<std::string> AdminAuth::check(const std::string& token) {
    if (token.empty() || token.size() > 128) return std::nullopt;
    std::string hash = crypto::sha256_hex(token);
    std::string now = iso8601_now();
    try {
        std::optional<std::string> user;
        std::string expires;
        db_.with_session([&](soci::session& s) {
            std::string u;
            soci::indicator ind = soci::i_null;
            s << "SELECT username, " + db_.ts("expires_at") +
                     " FROM admin_sessions WHERE token_hash = :h AND expires_at > :now",
                soci::use(hash, "h"), soci::use(now, "now"), soci::into(u, ind),
                soci::into(expires);
            if (s.got_data() && ind == soci::i_ok) user = u;
        });
        if (user) {
            remember_session(hash, *user, parse_iso8601(expires).value_or(unix_ms_now() + 60000));
        } else {
            std::lock_guard lock(mu_);
            sessions_.erase(hash);
        }
        return user;
    } catch (...) {
        store::database_error("checking an admin session");
        return std::nullopt;
    }
}

void AdminAuth::logout(const std::string& token) {
    if (token.empty()) return;
    std::string hash = crypto::sha256_hex(token);
    {
        std::lock_guard lock(mu_);
        sessions_.erase(hash);
    }
    db_.transaction(
        [&](soci::session& s) {
            s << "DELETE FROM admin_sessions WHERE token_hash = :h", soci::use(hash);
        },
        "ending an admin session");
}

}  // namespace modelgate::core::auth

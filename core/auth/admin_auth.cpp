#include "auth/admin_auth.hpp"

#include "util/crypto.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace modelgate::core::auth {

AdminAuth::AdminAuth(std::vector<AdminAccount> accounts, store::Database& db)
    : accounts_(std::move(accounts)), db_(db) {}

Result<LoginResult> AdminAuth::login(std::string username, const std::string& password,
                                     const std::string& client_ip) {
    auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mu_);
        auto& f = failures_[client_ip];
        if (f.locked_until > now) {
            auto left =
                std::chrono::duration_cast<std::chrono::seconds>(f.locked_until - now).count() + 1;
            return make_error(ErrorCode::rate_limited,
                              "Too many failed login attempts; try again in " +
                                  std::to_string(left) + " seconds.",
                              "login_locked");
        }
    }
    if (username.empty() && accounts_.size() == 1) username = accounts_.front().username;
    // Compare digests so every comparison takes the same time whatever the input.
    std::string given_user = crypto::sha256_hex(username);
    std::string given_pass = crypto::sha256_hex(password);
    bool ok = false;
    for (const auto& a : accounts_) {
        bool user_ok = crypto::constant_time_equal(given_user, crypto::sha256_hex(a.username));
        bool pass_ok = crypto::constant_time_equal(given_pass, crypto::sha256_hex(a.password));
        ok = ok || (user_ok && pass_ok);
    }
    if (!ok) {
        int left;
        {
            std::lock_guard lock(mu_);
            auto& f = failures_[client_ip];
            f.count += 1;
            left = kMaxFailures - f.count;
            if (f.count >= kMaxFailures) {
                f.count = 0;
                f.locked_until = now + std::chrono::seconds(kLockoutSeconds);
                left = 0;
            }
        }
        MG_WARN("admin",
                "failed admin login for '" << username.substr(0, 64) << "' from " << client_ip);
        return make_error(
            ErrorCode::unauthorized,
            left > 0 ? "Invalid username or password; " + std::to_string(left) + " attempt(s) left."
                     : "Invalid username or password; login locked for " +
                           std::to_string(kLockoutSeconds) + " seconds.",
            "invalid_credentials");
    }
    {
        std::lock_guard lock(mu_);
        failures_.erase(client_ip);
    }
    std::string token = crypto::random_base64url(32);
    std::string hash = crypto::sha256_hex(token);
    std::string expires = iso8601_utc(unix_ms_now() + kSessionSeconds * 1000LL);
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
    MG_INFO("admin", "admin '" << username << "' logged in from " << client_ip);
    return LoginResult{token, username};
}

std::optional<std::string> AdminAuth::check(const std::string& token) {
    if (token.empty() || token.size() > 128) return std::nullopt;
    std::string hash = crypto::sha256_hex(token);
    std::string now = iso8601_now();
    try {
        std::optional<std::string> user;
        db_.with_session([&](soci::session& s) {
            std::string u;
            soci::indicator ind = soci::i_null;
            s << "SELECT username FROM admin_sessions WHERE token_hash = :h AND expires_at > :now",
                soci::use(hash, "h"), soci::use(now, "now"), soci::into(u, ind);
            if (s.got_data() && ind == soci::i_ok) user = u;
        });
        return user;
    } catch (...) {
        store::database_error("checking an admin session");
        return std::nullopt;
    }
}

void AdminAuth::logout(const std::string& token) {
    if (token.empty()) return;
    std::string hash = crypto::sha256_hex(token);
    db_.transaction(
        [&](soci::session& s) {
            s << "DELETE FROM admin_sessions WHERE token_hash = :h", soci::use(hash);
        },
        "ending an admin session");
}

}  // namespace modelgate::core::auth

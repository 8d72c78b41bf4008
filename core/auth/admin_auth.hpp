// Admin accounts (from ADMIN_USERS / ADMIN_USERNAME+ADMIN_PASSWORD, or a
// generated one), password checks in constant time, sessions stored hashed in
// the database (so every instance honours them and a restart keeps them), and
// lockouts after repeated failures: per client and username, and per username
// across clients (so one client behind an untrusted proxy, whose clients all
// share one address, locks out only the names it tries). Sessions this
// instance has seen valid are remembered, so a request's head can be admitted
// with the full body limit without a database call on the reactor.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace modelgate::core::auth {

// The cookie that carries an admin session.
inline constexpr const char* kSessionCookie = "mg_admin_session";

struct LoginResult {
    std::string token;
    std::string username;
};

class AdminAuth {
  public:
    static constexpr int kSessionSeconds = 24 * 3600;
    static constexpr int kMaxFailures = 5;           // per client address and username
    static constexpr int kMaxUsernameFailures = 20;  // per username, from any address
    static constexpr int kLockoutSeconds = 300;
    static constexpr std::size_t kMaxTracked = 10000;  // failure counters kept at most

    AdminAuth(std::vector<AdminAccount> accounts, store::Database& db);

    // Blocking (database). Errors: 401 wrong credentials, 429 locked out.
    Result<LoginResult> login(std::string username, const std::string& password,
                              const std::string& client_ip);
    // The username of a valid session token, or nullopt.
    std::optional<std::string> check(const std::string& token);
    void logout(const std::string& token);
    // Non-blocking: true when this instance saw the session valid and it has
    // not expired or been ended here since. Only a hint for body limits; the
    // handler still checks the session with check().
    bool known_session(std::string_view token);
    const std::vector<AdminAccount>& accounts() const { return accounts_; }

  private:
    struct Failures {
        int count = 0;
        std::chrono::steady_clock::time_point first{};
        std::chrono::steady_clock::time_point locked_until{};
    };
    using Clock = std::chrono::steady_clock;

    // The lock that applies to this client and username, if any (mu_ held).
    std::optional<Clock::time_point> locked_locked(const std::string& client_key,
                                                   const std::string& user_key,
                                                   Clock::time_point now);
    // Counts a failure; returns the attempts left for this client (mu_ held).
    int fail_locked(const std::string& client_key, const std::string& user_key,
                    Clock::time_point now);
    void remember_session(const std::string& hash, const std::string& username, int64_t expires_ms);

    std::vector<AdminAccount> accounts_;
    store::Database& db_;
    std::mutex mu_;
    std::map<std::string, Failures> by_client_;    // "ip\nusername"
    std::map<std::string, Failures> by_username_;  // username
    struct KnownSession {
        std::string username;
        int64_t expires_ms = 0;
    };
    std::map<std::string, KnownSession> sessions_;  // token hash
};

}  // namespace modelgate::core::auth

// Admin accounts (from ADMIN_USERS / ADMIN_USERNAME+ADMIN_PASSWORD, or a
// generated one), password checks in constant time, sessions stored hashed in
// the database (so every instance honours them and a restart keeps them), and
// a per-client lockout after repeated failures.
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

struct LoginResult {
    std::string token;
    std::string username;
};

class AdminAuth {
  public:
    static constexpr int kSessionSeconds = 24 * 3600;
    static constexpr int kMaxFailures = 5;
    static constexpr int kLockoutSeconds = 300;

    AdminAuth(std::vector<AdminAccount> accounts, store::Database& db);

    // Blocking (database). Errors: 401 wrong credentials, 429 locked out.
    Result<LoginResult> login(std::string username, const std::string& password,
                              const std::string& client_ip);
    // The username of a valid session token, or nullopt.
    std::optional<std::string> check(const std::string& token);
    void logout(const std::string& token);
    const std::vector<AdminAccount>& accounts() const { return accounts_; }

  private:
    struct Failures {
        int count = 0;
        std::chrono::steady_clock::time_point locked_until{};
    };

    std::vector<AdminAccount> accounts_;
    store::Database& db_;
    std::mutex mu_;
    std::map<std::string, Failures> failures_;
};

}  // namespace modelgate::core::auth

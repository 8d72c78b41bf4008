// Repository of request_logs: batched writes for the log writer and the filtered,
// paged query behind GET /admin/api/logs/query.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/log_record.hpp"
#include "util/result.hpp"

namespace modelgate::core::store {

struct LogQuery {
    std::string key_name;  // exact name match, else case-insensitive substring
    std::string model;     // substring of the upstream or requested model
    std::optional<int64_t> provider_id;
    std::string status;
    std::optional<int64_t> from_ms, to_ms;
    std::string request_id;
    int page = 1;
    int page_size = 50;
};

struct LogPage {
    nlohmann::json logs = nlohmann::json::array();
    int64_t total = 0;
};

class LogStore {
  public:
    explicit LogStore(Database& db);
    ~LogStore();

    // Writes the records in order, in one transaction. Throws on database errors
    // (the log writer keeps the batch and retries). Called from one thread (the
    // log writer): it keeps a connection of its own with the statements prepared
    // once, and reconnects after a failure.
    void write_batch(const std::vector<LogRecord>& records);
    Result<LogPage> query(const LogQuery& q);
    // The most frequent client User-Agents of gateway-key calls since since_ms,
    // with the number of such calls in all.
    struct AgentCount {
        std::string user_agent;
        int64_t count = 0;
    };
    Result<std::pair<std::vector<AgentCount>, int64_t>> top_user_agents(int64_t since_ms,
                                                                        int limit);
    // Marks rows still pending after max_age_ms as timeout (crash leftovers).
    Result<int64_t> expire_pending(int64_t max_age_ms);

  private:
    struct Writer;
    Database& db_;
    std::unique_ptr<Writer> writer_;
};

}  // namespace modelgate::core::store

// Repository of request_logs: batched writes for the log writer and the filtered,
// paged query behind GET /admin/api/logs/query.
#pragma once

#include <functional>
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
    std::vector<std::string> statuses;  // any of these (besides status)
    std::optional<int64_t> api_key_id;
    std::optional<double> min_latency_ms;
    enum class Order { newest, oldest, slowest } order = Order::newest;
    bool count_total = true;  // false: total is -1 (no COUNT over a large range)
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

    // Moves rows created before cutoff_ms (and no longer pending) to
    // request_logs_history, batch_rows ids at a time, each batch one short
    // transaction that copies and then deletes exactly what was copied: a process
    // that dies half-way leaves every row in one table or the other, never both
    // and never neither. after_copy (tests) runs inside each batch between the
    // copy and the delete; an exception from it rolls the batch back.
    struct ArchiveReport {
        int64_t moved = 0;
        int batches = 0;
    };
    Result<ArchiveReport> archive(int64_t cutoff_ms, int batch_rows = 5000,
                                  const std::function<void(int batch)>& after_copy = nullptr);
    // What is happening now, across every instance: calls in the last 10 s and
    // 60 s, the mean token rate of calls that ended in the last 10 s, and the
    // calls still pending (started in the last hour) per key and model.
    Result<nlohmann::json> activity(int64_t now_ms);
    // Deletes archived rows created before cutoff_ms, in batches; returns how many.
    Result<int64_t> purge_history(int64_t cutoff_ms, int batch_rows = 5000);

  private:
    struct Writer;
    Database& db_;
    std::unique_ptr<Writer> writer_;
};

}  // namespace modelgate::core::store

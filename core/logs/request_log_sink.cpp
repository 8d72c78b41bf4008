#include "logs/request_log_sink.hpp"

#include "util/time.hpp"

namespace modelgate::core {

void RequestLogSink::write(const std::vector<LogRecord>& batch) {
    logs_.write_batch(batch);
    for (const auto& r : batch) {
        if (r.api_key_id && r.kind == LogRecord::Kind::final) {
            auto& t = last_used_[*r.api_key_id];
            t = std::max(t, r.created_at_ms);
        }
    }
    auto now = std::chrono::steady_clock::now();
    if (!last_used_.empty() && now - last_touch_ > std::chrono::seconds(5)) {
        std::vector<std::pair<int64_t, std::string>> updates;
        for (const auto& [id, ms] : last_used_)
            updates.emplace_back(id, iso8601_utc(ms));
        if (config_.touch_api_keys(updates))
            last_used_.clear();  // else retried with the next batch
        last_touch_ = now;
    }
}

}  // namespace modelgate::core

// The production LogSink: request_logs through LogStore, and each key's
// last_used_at, coalesced so a busy key costs one UPDATE per interval.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "logs/log_writer.hpp"
#include "store/config_store.hpp"
#include "store/log_store.hpp"

namespace modelgate::core {

class RequestLogSink final : public LogSink {
  public:
    RequestLogSink(store::LogStore& logs, store::ConfigStore& config)
        : logs_(logs), config_(config) {}
    void write(const std::vector<LogRecord>& batch) override;

  private:
    store::LogStore& logs_;
    store::ConfigStore& config_;
    std::map<int64_t, int64_t> last_used_;  // key id -> newest call (ms), not yet stored
    std::chrono::steady_clock::time_point last_touch_{};
};

}  // namespace modelgate::core

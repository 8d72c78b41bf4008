// The request-log writer: one thread drains a queue of log records into the
// database in batched transactions. Submitting never blocks the caller. When the
// database is unreachable the records wait in memory, and past a limit in an
// append-only spill file, and are written when it comes back (also after a
// restart): a request log is never silently lost. Replays are idempotent (rows
// are keyed by request_id), so a crash mid-replay only rewrites rows.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/log_record.hpp"

namespace modelgate::core {

// Where batches go. write() throws when the batch could not be stored.
class LogSink {
  public:
    virtual ~LogSink() = default;
    virtual void write(const std::vector<LogRecord>& batch) = 0;
};

struct LogWriterOptions {
    std::size_t batch_max = 512;
    std::chrono::milliseconds flush_interval{50};
    std::size_t memory_limit = 100000;  // records kept in memory before spilling
    std::string spill_path;             // empty: never spill (memory only)
    std::chrono::milliseconds max_backoff{5000};
};

struct LogWriterStats {
    uint64_t submitted = 0;
    uint64_t written = 0;
    uint64_t failed_batches = 0;
    uint64_t spilled = 0;
    std::size_t queued = 0;
    bool database_ok = true;
};

class LogWriter {
  public:
    LogWriter(LogSink& sink, LogWriterOptions options);
    ~LogWriter();
    LogWriter(const LogWriter&) = delete;
    LogWriter& operator=(const LogWriter&) = delete;

    void start();
    void submit(LogRecord record);
    // Writes everything queued (and spilled) if the database allows within the
    // deadline; what is left goes to the spill file. Then stops the thread.
    void stop(std::chrono::milliseconds deadline);
    // Blocks until everything submitted so far is written (tests, shutdown).
    bool flush(std::chrono::milliseconds timeout);
    LogWriterStats stats() const;

  private:
    void run();
    bool write_batch(std::vector<LogRecord>& batch);
    void spill_locked_records(std::deque<LogRecord>& records);
    bool replay_spill();  // true when the spill file is fully written
    bool spill_has_data() const;

    LogSink& sink_;
    LogWriterOptions opt_;
    mutable std::mutex mu_;
    std::condition_variable cv_, drained_cv_;
    std::deque<LogRecord> queue_;
    bool stopping_ = false;
    bool flush_requested_ = false;
    bool in_flight_ = false;
    std::atomic<uint64_t> submitted_{0}, written_{0}, failed_{0}, spilled_{0};
    std::atomic<bool> db_ok_{true};
    std::atomic<uint64_t> spill_offset_{
        0};  // bytes of the spill file already written to the database
    std::chrono::milliseconds backoff_{0};
    std::thread thread_;
};

std::string log_record_to_json(const LogRecord& r);
bool log_record_from_json(const std::string& line, LogRecord& out);

}  // namespace modelgate::core

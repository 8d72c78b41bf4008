// The log writer against a sink that fails on demand: nothing is lost, order is
// kept, memory is bounded by the spill file, and a restart replays the spill.
#include "logs/log_writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "support/gateway.hpp"

using namespace modelgate::core;

namespace {

class FlakySink : public LogSink {
  public:
    void write(const std::vector<LogRecord>& batch) override {
        if (failing.load()) throw std::runtime_error("database is down");
        std::lock_guard lock(mu);
        for (const auto& r : batch) {
            // Upsert by request id, like the real table.
            auto& row = rows[r.request_id];
            if (r.kind == LogRecord::Kind::pending && !row.empty()) continue;
            row = call_status_name(r.status);
            order.push_back(r.request_id + ":" + call_status_name(r.status));
        }
        batches.fetch_add(1);
    }
    std::atomic<bool> failing{false};
    std::atomic<int> batches{0};
    std::mutex mu;
    std::map<std::string, std::string> rows;
    std::vector<std::string> order;
};

LogRecord record(int i, const char* status, LogRecord::Kind kind = LogRecord::Kind::final) {
    LogRecord r;
    r.kind = kind;
    r.request_id = "req" + std::to_string(i);
    r.status = parse_call_status(status).value();
    r.model = "m";
    r.created_at_ms = 1000 + i;
    return r;
}

}  // namespace

TEST(LogWriter, WritesInOrderInBatches) {
    FlakySink sink;
    LogWriterOptions o;
    o.batch_max = 10;
    o.flush_interval = std::chrono::milliseconds(5);
    LogWriter w(sink, o);
    w.start();
    for (int i = 0; i < 35; ++i)
        w.submit(record(i, "success"));
    ASSERT_TRUE(w.flush(std::chrono::seconds(5)));
    EXPECT_EQ(sink.rows.size(), 35u);
    EXPECT_EQ(sink.order.front(), "req0:success");
    EXPECT_EQ(sink.order.back(), "req34:success");
    EXPECT_GE(sink.batches.load(), 4);
    EXPECT_EQ(w.stats().written, 35u);
}

TEST(LogWriter, KeepsEverythingWhileTheDatabaseIsDownAndSpillsPastTheLimit) {
    std::string dir = modelgate::test::temp_dir("mg-spill-");
    FlakySink sink;
    sink.failing = true;
    LogWriterOptions o;
    o.batch_max = 4;
    o.flush_interval = std::chrono::milliseconds(5);
    o.memory_limit = 5;
    o.max_backoff = std::chrono::milliseconds(50);
    o.spill_path = dir + "/spill.jsonl";
    LogWriter w(sink, o);
    w.start();
    for (int i = 0; i < 20; ++i) {
        w.submit(record(i, "pending", LogRecord::Kind::pending));
        w.submit(record(i, i % 3 == 0 ? "error" : "success"));
    }
    // The writer thread spills what is past the limit (submit never writes a
    // file: it runs on reactor threads), so on a busy machine the queue is over
    // the limit for a moment after the first spill.
    for (int i = 0;
         i < 200 && (w.stats().spilled == 0 || w.stats().queued > o.memory_limit + o.batch_max);
         ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_GT(w.stats().spilled, 0u);
    EXPECT_EQ(std::filesystem::status(o.spill_path).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
        << "the spill file holds keys' names, clients and errors: owner only";
    EXPECT_GT(w.stats().failed_batches, 0u);
    EXPECT_FALSE(w.stats().database_ok);
    EXPECT_LE(w.stats().queued, o.memory_limit + o.batch_max);
    sink.failing = false;
    ASSERT_TRUE(w.flush(std::chrono::seconds(10)));
    ASSERT_EQ(sink.rows.size(), 20u);
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(sink.rows["req" + std::to_string(i)], i % 3 == 0 ? "error" : "success");
    // The pending record of each call was written before its final one.
    for (int i = 0; i < 20; ++i) {
        std::string id = "req" + std::to_string(i);
        auto p = std::find(sink.order.begin(), sink.order.end(), id + ":pending");
        auto f = std::find(sink.order.begin(), sink.order.end(), id + ":" + sink.rows[id]);
        EXPECT_TRUE(p < f) << id;
    }
    EXPECT_EQ(std::filesystem::file_size(o.spill_path), 0u);
    std::filesystem::remove_all(dir);
}

TEST(LogWriter, WhatCouldNotBeWrittenAtShutdownIsReplayedAfterRestart) {
    std::string dir = modelgate::test::temp_dir("mg-spill-");
    LogWriterOptions o;
    o.flush_interval = std::chrono::milliseconds(5);
    o.max_backoff = std::chrono::milliseconds(20);
    o.spill_path = dir + "/spill.jsonl";
    {
        FlakySink down;
        down.failing = true;
        LogWriter w(down, o);
        w.start();
        for (int i = 0; i < 7; ++i)
            w.submit(record(i, "success"));
        w.stop(std::chrono::milliseconds(200));
        EXPECT_EQ(down.rows.size(), 0u);
    }
    EXPECT_GT(std::filesystem::file_size(o.spill_path), 0u);
    FlakySink up;
    LogWriter w2(up, o);
    w2.start();
    w2.submit(record(100, "success"));
    ASSERT_TRUE(w2.flush(std::chrono::seconds(5)));
    EXPECT_EQ(up.rows.size(), 8u);
    // Spilled (older) records come before new ones.
    EXPECT_EQ(up.order.front(), "req0:success");
    EXPECT_EQ(up.order.back(), "req100:success");
    std::filesystem::remove_all(dir);
}

TEST(LogWriter, RecordsRoundTripThroughTheSpillFormat) {
    LogRecord r = record(5, "cancelled");
    r.api_key_id = 3;
    r.prompt_tokens = 12;
    r.ttft_ms = 1.5;
    r.error = "line\nbreak \"quoted\" 你好";
    r.stream = true;
    LogRecord back;
    ASSERT_TRUE(log_record_from_json(log_record_to_json(r), back));
    EXPECT_EQ(back.request_id, r.request_id);
    EXPECT_EQ(back.api_key_id, r.api_key_id);
    EXPECT_EQ(back.prompt_tokens, r.prompt_tokens);
    EXPECT_EQ(back.ttft_ms, r.ttft_ms);
    EXPECT_EQ(back.error, r.error);
    EXPECT_TRUE(back.stream);
    EXPECT_FALSE(log_record_from_json("{not json", back));
}

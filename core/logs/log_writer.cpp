#include "logs/log_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/json.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"

namespace modelgate::core {

namespace {

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

template <class T>
void read_opt(const nlohmann::json& j, const char* key, std::optional<T>& out) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) out = it->get<T>();
}

}  // namespace

std::string log_record_to_json(const LogRecord& r) {
    nlohmann::json j = {{"kind", r.kind == LogRecord::Kind::pending ? "pending" : "final"},
                        {"request_id", r.request_id},
                        {"api_key_id", opt(r.api_key_id)},
                        {"api_key_name", r.api_key_name},
                        {"provider_id", opt(r.provider_id)},
                        {"provider_name", r.provider_name},
                        {"model", r.model},
                        {"requested_model", r.requested_model},
                        {"endpoint", r.endpoint},
                        {"stream", r.stream},
                        {"status", call_status_name(r.status)},
                        {"upstream_status", opt(r.upstream_status)},
                        {"downstream_status", opt(r.downstream_status)},
                        {"prompt_tokens", opt(r.prompt_tokens)},
                        {"completion_tokens", opt(r.completion_tokens)},
                        {"total_tokens", opt(r.total_tokens)},
                        {"tokens_estimated", r.tokens_estimated},
                        {"usage", r.usage_json},
                        {"latency_ms", opt(r.latency_ms)},
                        {"ttft_ms", opt(r.ttft_ms)},
                        {"queue_ms", opt(r.queue_ms)},
                        {"client_ip", r.client_ip},
                        {"user_agent", r.user_agent},
                        {"error", r.error},
                        {"created_at_ms", r.created_at_ms},
                        {"updated_at_ms", r.updated_at_ms}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool log_record_from_json(const std::string& line, LogRecord& r) {
    auto j = parse_json(line);
    if (!j.is_object()) return false;
    try {
        r = LogRecord{};
        r.kind = j.value("kind", "final") == "pending" ? LogRecord::Kind::pending
                                                       : LogRecord::Kind::final;
        r.request_id = j.at("request_id").get<std::string>();
        read_opt(j, "api_key_id", r.api_key_id);
        r.api_key_name = j.value("api_key_name", "");
        read_opt(j, "provider_id", r.provider_id);
        r.provider_name = j.value("provider_name", "");
        r.model = j.value("model", "");
        r.requested_model = j.value("requested_model", "");
        r.endpoint = j.value("endpoint", "chat");
        r.stream = j.value("stream", false);
        auto status = parse_call_status(j.at("status").get<std::string>());
        if (!status) return false;
        r.status = *status;
        read_opt(j, "upstream_status", r.upstream_status);
        read_opt(j, "downstream_status", r.downstream_status);
        read_opt(j, "prompt_tokens", r.prompt_tokens);
        read_opt(j, "completion_tokens", r.completion_tokens);
        read_opt(j, "total_tokens", r.total_tokens);
        r.tokens_estimated = j.value("tokens_estimated", false);
        r.usage_json = j.value("usage", "");
        read_opt(j, "latency_ms", r.latency_ms);
        read_opt(j, "ttft_ms", r.ttft_ms);
        read_opt(j, "queue_ms", r.queue_ms);
        r.client_ip = j.value("client_ip", "");
        r.user_agent = j.value("user_agent", "");
        r.error = j.value("error", "");
        r.created_at_ms = j.value("created_at_ms", int64_t{0});
        r.updated_at_ms = j.value("updated_at_ms", int64_t{0});
        return !r.request_id.empty();
    } catch (const std::exception&) {
        return false;
    }
}

LogWriter::LogWriter(LogSink& sink, LogWriterOptions options)
    : sink_(sink), opt_(std::move(options)) {}

LogWriter::~LogWriter() {
    stop(std::chrono::milliseconds(0));
}

void LogWriter::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void LogWriter::submit(LogRecord record) {
    submitted_.fetch_add(1, std::memory_order_relaxed);
    bool full;
    {
        std::lock_guard lock(mu_);
        queue_.push_back(std::move(record));
        full = queue_.size() == opt_.batch_max;
    }
    // Group commit: the writer wakes for a full batch or when the flush interval
    // passes, not for every record.
    if (full) cv_.notify_one();
}

LogWriterStats LogWriter::stats() const {
    LogWriterStats s;
    s.submitted = submitted_.load();
    s.written = written_.load();
    s.failed_batches = failed_.load();
    s.spilled = spilled_.load();
    s.database_ok = db_ok_.load();
    std::lock_guard lock(mu_);
    s.queued = queue_.size();
    return s;
}

bool LogWriter::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    flush_requested_ = true;
    cv_.notify_one();
    return drained_cv_.wait_for(
        lock, timeout, [this] { return queue_.empty() && !in_flight_ && !spill_has_data(); });
}

bool LogWriter::spill_has_data() const {
    if (opt_.spill_path.empty()) return false;
    std::error_code ec;
    auto size = std::filesystem::file_size(opt_.spill_path, ec);
    return !ec && size > spill_offset_;
}

void LogWriter::stop(std::chrono::milliseconds deadline) {
    if (!thread_.joinable()) return;
    flush(deadline);
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    // Whatever could not be written now waits in the spill file for the next start.
    std::lock_guard lock(mu_);
    if (!queue_.empty()) {
        std::size_t n = queue_.size();
        spill_locked_records(queue_);
        MG_WARN("logwriter",
                n << " request log records could not be written before shutdown; kept in "
                  << opt_.spill_path);
    }
}

void LogWriter::spill_locked_records(std::deque<LogRecord>& records) {
    if (opt_.spill_path.empty() || records.empty()) return;
    // Created owner-only: the records name keys, clients and their errors.
    int fd = ::open(opt_.spill_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    std::ofstream out(opt_.spill_path, std::ios::app | std::ios::binary);
    if (!out) {
        MG_ERROR("logwriter",
                 "cannot open spill file " << opt_.spill_path << "; keeping records in memory");
        return;
    }
    std::size_t n = 0;
    for (const auto& r : records) {
        out << log_record_to_json(r) << '\n';
        ++n;
    }
    out.flush();
    if (!out) {
        MG_ERROR("logwriter", "writing the spill file " << opt_.spill_path
                                                        << " failed; keeping records in memory");
        return;
    }
    spilled_.fetch_add(n);
    records.clear();
}

bool LogWriter::write_batch(std::vector<LogRecord>& batch) {
    try {
        sink_.write(batch);
        written_.fetch_add(batch.size());
        if (!db_ok_.exchange(true))
            MG_INFO("logwriter", "database reachable again; writing queued request logs");
        backoff_ = std::chrono::milliseconds(0);
        return true;
    } catch (const std::exception& e) {
        failed_.fetch_add(1);
        if (db_ok_.exchange(false)) {
            MG_ERROR("logwriter",
                     "writing request logs failed, will retry: " << redact(e.what(), 300));
        }
        backoff_ =
            std::min(opt_.max_backoff, std::max(std::chrono::milliseconds(100), backoff_ * 2));
        return false;
    }
}

bool LogWriter::replay_spill() {
    std::ifstream in(opt_.spill_path, std::ios::binary);
    if (!in) return true;
    in.seekg(static_cast<std::streamoff>(spill_offset_.load()));
    std::vector<LogRecord> batch;
    std::string line;
    uint64_t offset = spill_offset_.load();
    while (true) {
        batch.clear();
        uint64_t batch_end = offset;
        while (batch.size() < opt_.batch_max && std::getline(in, line)) {
            batch_end += line.size() + 1;
            LogRecord r;
            if (log_record_from_json(line, r))
                batch.push_back(std::move(r));
            else if (!line.empty())
                MG_WARN("logwriter", "skipping an unreadable line in " << opt_.spill_path);
        }
        if (batch.empty() && batch_end == offset) break;
        if (!batch.empty() && !write_batch(batch)) return false;
        offset = batch_end;
        spill_offset_ = offset;
    }
    // Fully replayed: start the file afresh.
    std::error_code ec;
    std::filesystem::resize_file(opt_.spill_path, 0, ec);
    spill_offset_ = 0;
    MG_INFO("logwriter", "replayed spilled request logs from " << opt_.spill_path);
    return true;
}

void LogWriter::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        if (backoff_.count() > 0) {
            cv_.wait_for(lock, backoff_, [this] { return stopping_; });
        } else {
            cv_.wait_for(lock, opt_.flush_interval, [this] {
                return stopping_ || flush_requested_ || queue_.size() >= opt_.batch_max;
            });
        }
        flush_requested_ = false;
        if (stopping_ && (queue_.empty() || !db_ok_.load())) break;

        // Spilled records are older than anything in memory: they go first.
        if (spill_has_data()) {
            in_flight_ = true;
            lock.unlock();
            bool done = replay_spill();
            lock.lock();
            in_flight_ = false;
            if (!done) {
                if (queue_.size() > opt_.memory_limit) spill_locked_records(queue_);
                continue;
            }
        }
        if (queue_.empty()) {
            drained_cv_.notify_all();
            continue;
        }
        std::vector<LogRecord> batch;
        std::size_t n = std::min(queue_.size(), opt_.batch_max);
        batch.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        in_flight_ = true;
        lock.unlock();
        bool ok = write_batch(batch);
        lock.lock();
        in_flight_ = false;
        if (!ok) {
            // Put the batch back in front, in order, and spill if memory is full.
            for (auto it = batch.rbegin(); it != batch.rend(); ++it)
                queue_.push_front(std::move(*it));
            if (queue_.size() > opt_.memory_limit) spill_locked_records(queue_);
        }
        if (queue_.empty() && !spill_has_data()) drained_cv_.notify_all();
    }
    drained_cv_.notify_all();
}

}  // namespace modelgate::core

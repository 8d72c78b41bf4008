// One outgoing HTTP exchange handed to the upstream loop. The loop calls the
// job's hooks on its own thread, in order: on_headers once (when the final
// response head arrived), on_data any number of times, on_finished exactly once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace modelgate::core::upstream {

struct RequestSpec {
    std::string method = "POST";
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    std::string body;
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds first_byte_timeout{120000};  // until the response head
    std::chrono::milliseconds idle_timeout{120000};        // between body bytes
    std::chrono::milliseconds total_timeout{600000};
    // Where the upstream secret sits among the headers (-1: none), so a retry
    // on another upstream key only swaps that line.
    int secret_line = -1;
    std::string secret_prefix;  // "Authorization: Bearer " or "<Header>: "
};

enum class Outcome {
    completed,  // the upstream finished the response
    cancelled,  // cancel() was called (client gone, shutdown)
    aborted,    // on_data asked to stop
    first_byte_timeout,
    idle_timeout,
    total_timeout,
    connect_failed,
    transport_error,  // reset, truncated body, TLS failure, ...
};

const char* outcome_name(Outcome o);
inline bool is_timeout(Outcome o) {
    return o == Outcome::first_byte_timeout || o == Outcome::idle_timeout ||
           o == Outcome::total_timeout;
}

enum class DataAction { proceed, pause, abort };

class Job {
  public:
    virtual ~Job() = default;
    virtual void on_headers(
        int status, std::string_view header_lines) = 0;  // names lower-cased, "name: value\n"
    // Return pause to stop reading until resume(); the same bytes are delivered
    // again after the resume, so a paused call must not consume them.
    virtual DataAction on_data(std::string_view bytes) = 0;
    virtual void on_finished(Outcome outcome, const std::string& detail) = 0;

    RequestSpec spec;
    std::atomic<uint64_t> transfer_id{0};  // set by the loop
    // Set by the loop before on_finished: the connection was refused or reset
    // before a byte of the request went out (not a timeout), so the upstream
    // cannot have seen it and it may be sent again.
    bool never_sent = false;
};

}  // namespace modelgate::core::upstream

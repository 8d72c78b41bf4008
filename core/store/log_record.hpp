// One request log row, as the proxy records it. A streaming call writes a
// `pending` record first and a final one later with the same request_id; a
// non-streaming call writes only the final one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/call_status.hpp"

namespace modelgate::core {

struct LogRecord {
    enum class Kind { pending, final };
    Kind kind = Kind::final;

    std::string request_id;
    std::optional<int64_t> api_key_id;
    std::string api_key_name;
    std::optional<int64_t> provider_id;
    std::string provider_name;
    std::string model;              // upstream model name
    std::string requested_model;    // what the client sent, e.g. "openai/gpt-4o"
    std::string endpoint = "chat";  // chat | embeddings
    bool stream = false;
    CallStatus status = CallStatus::error;
    std::optional<int> upstream_status;
    std::optional<int> downstream_status;
    std::optional<int64_t> prompt_tokens, completion_tokens, total_tokens;
    bool tokens_estimated = false;
    std::string usage_json;  // the upstream's usage object, empty when none
    std::optional<double> latency_ms, ttft_ms, queue_ms;
    std::string client_ip;
    std::string user_agent;
    std::string error;
    int64_t created_at_ms = 0;
    int64_t updated_at_ms = 0;
};

}  // namespace modelgate::core

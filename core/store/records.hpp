// Plain rows of the configuration tables, as the repositories read and write them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace modelgate::core::store {

struct ProviderRecord {
    int64_t id = 0;
    std::string name;
    std::string adapter = "openai";
    std::string base_url;
    std::optional<std::string> api_key_sealed;
    std::string api_key_hint;
    std::string options = "{}";  // JSON object, adapter options
    int max_concurrency = 8;
    int queue_timeout_ms = 30000;
    int first_byte_timeout_ms = 120000;
    int idle_timeout_ms = 120000;
    int total_timeout_ms = 600000;
    bool merge_consecutive_messages = false;
    bool is_active = true;
    std::string created_at, updated_at;
    std::optional<std::string> paused_until;  // automatic cool-down (ISO 8601)
    std::optional<std::string> pause_reason;
};

// One upstream key of a provider.
struct ProviderKeyRecord {
    int64_t id = 0;
    int64_t provider_id = 0;
    std::string label;
    std::string api_key_sealed;
    std::string api_key_hint;
    std::string key_hash;                // SHA-256 of the secret, for duplicates
    std::optional<int> max_concurrency;  // null: the provider's limit
    bool is_active = true;               // the admin's switch; never changed automatically
    std::optional<std::string> paused_until;
    std::optional<std::string> pause_reason;
    std::string created_at, updated_at;
};

// A cool-down of one model on one upstream key (key_id 0: a keyless provider).
struct ModelPauseRecord {
    int64_t provider_id = 0;
    int64_t key_id = 0;
    std::string model;
    std::string paused_until;  // ISO 8601 UTC
    std::string reason;
    int strikes = 1;
    int64_t length_ms = 0;
};

struct ModelRecord {
    int64_t id = 0;
    std::string name;
    std::optional<std::string> display_name;
    int max_tokens = 16384;
    int context_length = 131072;
    bool thinking_enabled = false;
    int thinking_budget = 8192;
    bool is_multimodal = false;
    bool is_active = true;
    double estimated_price = 0;
    std::string created_at, updated_at;
};

struct BindingRecord {
    int64_t id = 0;
    int64_t provider_id = 0;
    int64_t model_id = 0;
    std::optional<std::string> model_name_override;
    bool is_active = true;
    std::string source = "manual";
    std::string created_at;
    // joined from models
    std::string model_name;
    std::optional<std::string> display_name;
    bool model_active = true;
    // joined from providers
    std::string provider_name;
};

struct TimeRuleRecord {
    int64_t id = 0;
    int64_t api_key_id = 0;
    std::string rule_type;  // time_range | date_range | weekday
    bool allowed = true;
    std::optional<std::string> start_time, end_time;  // HH:MM:SS
    std::optional<std::string> start_date, end_date;  // YYYY-MM-DD
    std::optional<std::string> weekdays;              // "0,1,2" (0 = Monday)
    std::string created_at;
};

struct ApiKeyRecord {
    int64_t id = 0;
    std::string name;
    std::string key_hash;
    std::string key_prefix;
    bool is_active = true;
    std::optional<std::string> last_used_at;
    std::string created_at, updated_at;
    std::vector<int64_t> allowed_binding_ids;
    std::vector<TimeRuleRecord> time_rules;
};

}  // namespace modelgate::core::store

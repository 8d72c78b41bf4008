// What the gateway does when the upstream refuses a call: which cool-down the
// refusal starts (a rate limit pauses the model on that key, an account-wide
// refusal the whole key), whether the call gets one more try on another key,
// and what the client is told. Part of ProxyCall (see proxy_call.hpp).
#include <algorithm>

#include "proxy/proxy_call.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"

namespace modelgate::core::proxy {

namespace {

// Cool-downs when the upstream gives no time: a rate limit is usually over in
// seconds, an exhausted quota is retried after half an hour, a key the
// upstream refuses after a minute (a refused probe doubles each of them).
constexpr int64_t kRateLimitPauseMs = 5 * 1000;
constexpr int64_t kQuotaPauseMs = 30 * 60 * 1000;
constexpr int64_t kRefusedKeyPauseMs = 60 * 1000;

struct Refusal {
    std::optional<KeyPool::Scope> scope;  // what to pause, if anything
    int64_t base_ms = 0;
    const char* what = "";
    bool another_key = false;  // worth one more try on another key
};

// Providers limit rates per model (and key); quota, balance and the key's
// validity are the account's.
Refusal refusal_of(int status, int32_t error_class) {
    using Scope = KeyPool::Scope;
    if (error_class == MG_ERRCLASS_QUOTA || status == 402)
        return {Scope::key, kQuotaPauseMs, "quota exhausted", true};
    if (error_class == MG_ERRCLASS_RATE_LIMITED || status == 429)
        return {Scope::model, kRateLimitPauseMs, "rate limited", true};
    if (error_class == MG_ERRCLASS_AUTH || error_class == MG_ERRCLASS_PERMISSION || status == 401 ||
        status == 403)
        return {Scope::key, kRefusedKeyPauseMs, "the upstream refused the key", false};
    return {};
}

// The gateway's error code for an upstream error class; its status (from the
// one error table) is what a client gets for an error inside a 2xx answer.
ErrorCode error_code_for_class(int32_t error_class) {
    switch (error_class) {
        case MG_ERRCLASS_INVALID_REQUEST:
            return ErrorCode::invalid_request;
        case MG_ERRCLASS_AUTH:
            return ErrorCode::unauthorized;
        case MG_ERRCLASS_PERMISSION:
            return ErrorCode::forbidden;
        case MG_ERRCLASS_NOT_FOUND:
            return ErrorCode::not_found;
        case MG_ERRCLASS_RATE_LIMITED:
        case MG_ERRCLASS_QUOTA:
            return ErrorCode::upstream_rate_limited;
        case MG_ERRCLASS_RETRYABLE:
            return ErrorCode::unavailable;
        default:
            return ErrorCode::upstream_error;
    }
}

std::string message_of(const nlohmann::json& error) {
    if (error.is_object() && error.contains("message") && error["message"].is_string())
        return error["message"].get<std::string>();
    return {};
}

std::string retry_after_seconds(int64_t ms) {
    return std::to_string((std::min(ms, KeyPool::kLongestPauseMs) + 999) / 1000);
}

}  // namespace

void ProxyCall::on_upstream_refusal(const host::ErrorClassification& cls) {
    const int status = upstream_status_;
    const int64_t now = unix_ms_now();
    KeyPool& keys = *init_.provider->keys;
    Refusal refusal = refusal_of(status, cls.error_class);
    if (refusal.scope && lease_) {
        int64_t hint = cls.reset_at_unix_ms > now ? cls.reset_at_unix_ms
                       : cls.retry_after_ms > 0   ? now + cls.retry_after_ms
                                                  : 0;
        std::string reason = refusal.what;
        if (std::string m = message_of(cls.error); !m.empty()) reason += ": " + redact(m, 200);
        int64_t until = keys.pause(*lease_, *refusal.scope, hint, refusal.base_ms, reason);
        MG_WARN("proxy", "provider '" << init_.provider->name << "' key "
                                      << (lease_->key_id == 0 ? std::string("(keyless)")
                                                              : std::to_string(lease_->key_id))
                                      << (*refusal.scope == KeyPool::Scope::model
                                              ? " model " + init_.call.model
                                              : std::string())
                                      << " paused for " << std::max<int64_t>(0, until - now) / 1000
                                      << " s: " << reason);
    }
    // One more try, on another key, while nothing has reached the client.
    if (refusal.another_key && lease_ && !tried_another_key_ && !client_gone_.load()) {
        tried_another_key_ = true;
        KeyPool::Unavailable why;
        auto next = keys.acquire(init_.api_key_id, init_.call.model, now, &why, lease_->key_id);
        if (next) {
            MG_INFO("proxy", "call " << init_.request_id << ": retrying on upstream key "
                                     << next->key_id << " after " << refusal.what);
            deps_.metrics.record_retry(init_.provider->name, "another_key");
            keys.release(*lease_);
            lease_ = std::move(next);
            resubmit();
            return;
        }
    }
    bool rate = refusal.another_key || status == 429;
    int downstream = rate            ? 429
                     : status >= 400 ? status
                                     : http_status(error_code_for_class(cls.error_class));
    http::HeaderList extra;
    int64_t retry_ms = cls.retry_after_ms;
    if (rate) {
        // No key is left for this model: come back when the first one is.
        if (auto why = keys.unavailable(now, init_.call.model); why && why->retry_after_ms > 0)
            retry_ms = why->retry_after_ms;
    }
    if (retry_ms > 0) extra.emplace_back("Retry-After", retry_after_seconds(retry_ms));
    ErrorCode code =
        rate ? ErrorCode::upstream_rate_limited : error_code_for_class(cls.error_class);
    fail_upstream(downstream, call_status(code), cls.error, extra);
}

}  // namespace modelgate::core::proxy

// The upstream keys of one provider and how calls are spread over them.
//
// Each key has its own concurrency limit (default: the provider's); the
// provider's semaphore admits as many calls as the keys that are usable now can
// carry, so a call that gets a slot always finds a key with room. A gateway key
// sticks to one upstream key (30 minutes, renewed on use) so upstream prompt
// caches keep working; other calls go to the least loaded key. A key that hit a
// rate limit or a quota is paused until its reset and comes back by itself; the
// admin's own on/off switch is separate and never changed here. A provider with
// no key of its own (a local Ollama, say) has one keyless slot that pauses the
// provider as a whole. Lives across configuration reloads (in-use counts and
// pauses carry over).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "limits/async_semaphore.hpp"
#include "util/timer_service.hpp"

namespace modelgate::core {

class KeyPool : public std::enable_shared_from_this<KeyPool> {
  public:
    // One key's state; every field is guarded by the pool's mutex (a reload
    // may change the secret while calls run, so calls use their Lease's copy).
    struct Key {
        int64_t id = 0;  // provider_keys.id; 0 for the keyless slot
        std::string label;
        std::string secret;
        int limit = 1;
        int in_use = 0;
        int64_t paused_until_ms = 0;
        std::string pause_reason;
    };

    // What a call holds while it runs: the key and a copy of its secret.
    struct Lease {
        std::shared_ptr<Key> key;
        int64_t key_id = 0;
        std::string secret;
    };

    // What configure() takes for one key.
    struct KeySpec {
        int64_t id = 0;
        std::string label;
        std::string secret;
        std::optional<int> limit;  // null: the provider's
        int64_t paused_until_ms = 0;
        std::string pause_reason;
    };

    struct Unavailable {
        int64_t retry_after_ms = 0;  // 0: no usable key at all (not a matter of time)
        std::string reason;
    };

    static std::shared_ptr<KeyPool> create(TimerService& timers) {
        return std::shared_ptr<KeyPool>(new KeyPool(timers));
    }

    // Called (outside the pool's lock) when a pause starts, to persist it.
    using PauseListener =
        std::function<void(int64_t key_id, int64_t until_ms, const std::string& reason)>;

    // Applies the configuration: the keys the admin has switched on (keyless:
    // the provider has no key of its own), the provider's own limit and pause.
    void configure(std::vector<KeySpec> keys, bool keyless, int provider_limit,
                   int64_t provider_paused_until_ms, std::string provider_pause_reason,
                   std::shared_ptr<AsyncSemaphore> limiter);
    void set_pause_listener(PauseListener listener);

    // Before queueing a call: why it cannot be served now, or nullopt.
    std::optional<Unavailable> unavailable(int64_t now_ms) const;
    // When the call got its slot: the key to use (sticky per gateway key), or
    // nullopt and why.
    std::optional<Lease> acquire(std::optional<int64_t> gateway_key, int64_t now_ms,
                                 Unavailable* why);
    void release(const Lease& lease);
    // The upstream said "slow down" or "quota exhausted": pause this key (the
    // keyless slot pauses the provider) until until_ms.
    void pause(const Lease& lease, int64_t until_ms, const std::string& reason);
    // The admin lifted a pause (key_id 0: the provider's own).
    void clear_pause(int64_t key_id);
    // A usable key's secret for a side request (model listing) that takes no
    // slot; nullopt when no key is usable now.
    std::optional<std::string> any_secret(int64_t now_ms) const;

    // For the admin API: id -> (in_use, paused_until_ms, reason).
    struct KeyState {
        int in_use = 0;
        int64_t paused_until_ms = 0;
        std::string pause_reason;
    };
    std::unordered_map<int64_t, KeyState> states() const;
    bool keyless() const;

  private:
    explicit KeyPool(TimerService& timers) : timers_(timers) {}
    bool usable_locked(const Key& k, int64_t now_ms) const { return k.paused_until_ms <= now_ms; }
    std::optional<Unavailable> unavailable_locked(int64_t now_ms) const;
    // Sets the semaphore to what the usable keys carry, and wakes up at the
    // earliest end of a pause to raise it again. Call without mu_ held.
    void refresh_limit();

    TimerService& timers_;
    mutable std::mutex mu_;
    std::vector<std::shared_ptr<Key>> keys_;
    int provider_limit_ = 1;
    std::shared_ptr<AsyncSemaphore> limiter_;
    struct Sticky {
        int64_t key_id;
        int64_t expires_ms;
    };
    std::unordered_map<int64_t, Sticky> sticky_;
    std::size_t rotate_ = 0;
    TimerService::Id wake_timer_ = 0;
    PauseListener listener_;
};

}  // namespace modelgate::core

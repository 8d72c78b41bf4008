// The upstream keys of one provider and how calls are spread over them.
//
// Each key has its own concurrency limit (default: the provider's); the
// provider's semaphore admits as many calls as the keys that are usable now can
// carry, so a call that gets a slot always finds a key with room. A gateway key
// sticks to one upstream key (30 minutes, renewed on use) so upstream prompt
// caches keep working; other calls go to the least loaded key. A provider with
// no key of its own (a local Ollama, say) has one keyless slot (id 0).
//
// Cool-downs follow how providers refuse: a rate limit is per model, so it
// pauses the pair (key, model) and the key keeps serving other models; an
// account-wide refusal (quota or balance exhausted, key invalid or forbidden)
// pauses the whole key. A pause ends by itself; the first call after it is a
// probe (other calls keep off that key and model meanwhile): a success ends
// the cool-down, another refusal of the same scope pauses again for twice as
// long (capped at a week). The admin's own on/off switch is separate and never
// changed here. Lives across configuration reloads (in-use counts and pauses
// carry over).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "limits/async_semaphore.hpp"
#include "util/timer_service.hpp"

namespace modelgate::core {

class KeyPool : public std::enable_shared_from_this<KeyPool> {
  public:
    static constexpr int64_t kLongestPauseMs = 7 * 24 * 3600 * 1000LL;

    enum class Scope { key, model };

    struct Pause {
        int64_t until_ms = 0;  // the pause ends then (in the past: the next call probes)
        std::string reason;
        int strikes = 0;        // refusals in a row without a success between them
        int64_t length_ms = 0;  // of the last pause: a refused probe doubles it
        bool probing = false;   // a call is finding out whether the pause is over
        bool active(int64_t now_ms) const { return until_ms > now_ms; }
        // Recorded and not cleared by a success: the next call is a probe.
        bool recorded() const { return strikes > 0; }
    };

    // One key's state; every field is guarded by the pool's mutex (a reload
    // may change the secret while calls run, so calls use their Lease's copy).
    struct Key {
        int64_t id = 0;  // provider_keys.id; 0 for the keyless slot
        std::string label;
        std::string secret;
        int limit = 1;
        int in_use = 0;
        Pause pause;                                    // the whole key
        std::unordered_map<std::string, Pause> models;  // one upstream model on this key
    };

    // What a call holds while it runs: the key, a copy of its secret, the model.
    struct Lease {
        std::shared_ptr<Key> key;
        int64_t key_id = 0;
        std::string secret;
        std::string model;
        bool probing_key = false;    // this call probes the key's pause
        bool probing_model = false;  // this call probes the model's pause
    };

    // What configure() takes for one key.
    struct KeySpec {
        int64_t id = 0;
        std::string label;
        std::string secret;
        std::optional<int> limit;  // null: the provider's
        Pause pause;               // as stored (shared by every instance)
        std::unordered_map<std::string, Pause> models;
    };

    struct Unavailable {
        int64_t retry_after_ms = 0;  // 0: no usable key at all (not a matter of time)
        std::string reason;
    };

    static std::shared_ptr<KeyPool> create(TimerService& timers) {
        return std::shared_ptr<KeyPool>(new KeyPool(timers));
    }

    // Called (outside the pool's lock) when a pause starts, grows or is
    // cleared by a success (pause.until_ms == 0), to persist it. model is
    // empty for the whole key.
    using PauseListener =
        std::function<void(int64_t key_id, const std::string& model, const Pause& pause)>;

    // Applies the configuration: the keys the admin has switched on (keyless:
    // the provider has no key of its own, and its pauses are the provider's).
    void configure(std::vector<KeySpec> keys, bool keyless, int provider_limit,
                   KeySpec provider_slot, std::shared_ptr<AsyncSemaphore> limiter);
    void set_pause_listener(PauseListener listener);

    // Before queueing a call for this upstream model (empty: any model): why
    // it cannot be served now, or nullopt.
    std::optional<Unavailable> unavailable(int64_t now_ms, std::string_view model) const;
    // When the call got its slot: a key usable for the model (sticky per
    // gateway key, never avoid_key), or nullopt and why.
    std::optional<Lease> acquire(std::optional<int64_t> gateway_key, const std::string& model,
                                 int64_t now_ms, Unavailable* why,
                                 std::optional<int64_t> avoid_key = std::nullopt);
    // The call is over (whatever happened): its slot on the key is free again.
    void release(const Lease& lease);
    // The upstream served the call: a probe ended the cool-down.
    void succeeded(const Lease& lease);
    // The upstream refused: pause the key, or the key for the lease's model.
    // hint_until_ms is when the upstream said to come back (0: it did not say,
    // then base_ms); a refused probe waits twice as long as the pause before.
    // Returns when the pause ends.
    int64_t pause(const Lease& lease, Scope scope, int64_t hint_until_ms, int64_t base_ms,
                  const std::string& reason);
    // The admin lifted a key's pauses (key_id 0: the provider's own).
    void clear_pause(int64_t key_id);
    // A usable key's secret for a side request (model listing) that takes no
    // slot; nullopt when no key is usable now.
    std::optional<std::string> any_secret(int64_t now_ms) const;

    // For the admin API.
    struct PauseState {
        std::string model;  // empty: the whole key
        int64_t until_ms = 0;
        std::string reason;
        int strikes = 0;
        bool probing = false;
    };
    struct KeyState {
        int in_use = 0;
        int64_t paused_until_ms = 0;  // the whole key's
        std::string pause_reason;
        std::vector<PauseState> pauses;  // recorded ones, key and models
    };
    std::unordered_map<int64_t, KeyState> states() const;
    bool keyless() const;

  private:
    explicit KeyPool(TimerService& timers) : timers_(timers) {}
    // Open: no pause now and no probe in flight.
    static bool open(const Pause& p, int64_t now_ms) { return !p.active(now_ms) && !p.probing; }
    bool usable_locked(const Key& k, std::string_view model, int64_t now_ms) const;
    std::optional<Unavailable> unavailable_locked(int64_t now_ms, std::string_view model) const;
    // Sets the semaphore to what the keys without a whole-key pause carry, and
    // wakes up at the earliest end of such a pause to raise it again. Call
    // without mu_ held.
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

#include "domain/key_pool.hpp"

#include <algorithm>
#include <limits>

#include "util/time.hpp"

namespace modelgate::core {

namespace {
constexpr int64_t kStickyMs = 30 * 60 * 1000;
}

void KeyPool::configure(std::vector<KeySpec> specs, bool keyless, int provider_limit,
                        int64_t provider_paused_until_ms, std::string provider_pause_reason,
                        std::shared_ptr<AsyncSemaphore> limiter) {
    {
        std::lock_guard lock(mu_);
        provider_limit_ = std::max(1, provider_limit);
        limiter_ = std::move(limiter);
        if (keyless) {
            specs.clear();
            // No key of its own: one keyless slot that carries the provider's pause.
            KeySpec slot;
            slot.id = 0;
            slot.paused_until_ms = provider_paused_until_ms;
            slot.pause_reason = std::move(provider_pause_reason);
            specs.push_back(std::move(slot));
        }
        std::vector<std::shared_ptr<Key>> next;
        for (auto& s : specs) {
            std::shared_ptr<Key> k;
            for (const auto& old : keys_) {
                if (old->id == s.id) k = old;  // keep in-use counts across reloads
            }
            if (!k) k = std::make_shared<Key>();
            k->id = s.id;
            k->label = s.label;
            k->secret = std::move(s.secret);
            k->limit = std::max(1, s.limit.value_or(provider_limit_));
            // The database may lag behind a pause this instance just made.
            if (s.paused_until_ms > k->paused_until_ms) {
                k->paused_until_ms = s.paused_until_ms;
                k->pause_reason = s.pause_reason;
            } else if (s.paused_until_ms == 0 && k->paused_until_ms <= unix_ms_now()) {
                k->paused_until_ms = 0;
                k->pause_reason.clear();
            }
            next.push_back(std::move(k));
        }
        keys_ = std::move(next);
        for (auto it = sticky_.begin(); it != sticky_.end();) {
            bool known = std::any_of(keys_.begin(), keys_.end(),
                                     [&](const auto& k) { return k->id == it->second.key_id; });
            it = known ? std::next(it) : sticky_.erase(it);
        }
    }
    refresh_limit();
}

bool KeyPool::keyless() const {
    std::lock_guard lock(mu_);
    return keys_.size() == 1 && keys_.front()->id == 0;
}

std::optional<KeyPool::Unavailable> KeyPool::unavailable(int64_t now_ms) const {
    std::lock_guard lock(mu_);
    return unavailable_locked(now_ms);
}

std::optional<KeyPool::Unavailable> KeyPool::unavailable_locked(int64_t now_ms) const {
    if (keys_.empty()) return Unavailable{0, "the provider has no usable upstream key"};
    int64_t earliest = std::numeric_limits<int64_t>::max();
    std::string reason;
    for (const auto& k : keys_) {
        if (usable_locked(*k, now_ms)) return std::nullopt;
        if (k->paused_until_ms < earliest) {
            earliest = k->paused_until_ms;
            reason = k->pause_reason;
        }
    }
    return Unavailable{std::max<int64_t>(1, earliest - now_ms), reason};
}

std::optional<KeyPool::Lease> KeyPool::acquire(std::optional<int64_t> gateway_key, int64_t now_ms,
                                               Unavailable* why) {
    std::lock_guard lock(mu_);
    std::shared_ptr<Key> chosen;
    if (gateway_key) {
        auto it = sticky_.find(*gateway_key);
        if (it != sticky_.end() && it->second.expires_ms > now_ms) {
            for (const auto& k : keys_) {
                if (k->id == it->second.key_id && usable_locked(*k, now_ms) && k->in_use < k->limit)
                    chosen = k;
            }
        }
    }
    if (!chosen) {
        // The least loaded usable key; ties rotate so equal keys share the work.
        double best = std::numeric_limits<double>::max();
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            const auto& k = keys_[(i + rotate_) % keys_.size()];
            if (!usable_locked(*k, now_ms) || k->in_use >= k->limit) continue;
            double load = static_cast<double>(k->in_use) / k->limit;
            if (load < best) {
                best = load;
                chosen = k;
            }
        }
        ++rotate_;
    }
    if (!chosen) {
        if (why != nullptr)
            *why = unavailable_locked(now_ms).value_or(
                Unavailable{1000, "all upstream keys are busy"});
        return std::nullopt;
    }
    ++chosen->in_use;
    if (gateway_key) sticky_[*gateway_key] = Sticky{chosen->id, now_ms + kStickyMs};
    return Lease{chosen, chosen->id, chosen->secret};
}

void KeyPool::set_pause_listener(PauseListener listener) {
    std::lock_guard lock(mu_);
    listener_ = std::move(listener);
}

void KeyPool::release(const Lease& lease) {
    if (!lease.key) return;
    bool paused = false;
    {
        std::lock_guard lock(mu_);
        if (lease.key->in_use > 0) --lease.key->in_use;
        paused = !usable_locked(*lease.key, unix_ms_now());
    }
    // A paused key's calls still count against the provider's slots until they end.
    if (paused) refresh_limit();
}

std::optional<std::string> KeyPool::any_secret(int64_t now_ms) const {
    std::lock_guard lock(mu_);
    for (const auto& k : keys_) {
        if (usable_locked(*k, now_ms)) return k->secret;
    }
    return std::nullopt;
}

void KeyPool::pause(const Lease& lease, int64_t until_ms, const std::string& reason) {
    const auto& key = lease.key;
    if (!key) return;
    PauseListener listener;
    {
        std::lock_guard lock(mu_);
        if (until_ms <= key->paused_until_ms) return;
        // Calls still running on the key may report the same limit: tell the
        // listener about a new pause or a real extension, not every echo.
        const int64_t now_ms = unix_ms_now();
        bool news = key->paused_until_ms <= now_ms || until_ms - key->paused_until_ms > 5000;
        key->paused_until_ms = until_ms;
        key->pause_reason = reason;
        for (auto it = sticky_.begin(); it != sticky_.end();) {
            it = it->second.key_id == key->id ? sticky_.erase(it) : std::next(it);
        }
        if (news) listener = listener_;
    }
    refresh_limit();
    if (listener) listener(lease.key_id, until_ms, reason);
}

void KeyPool::clear_pause(int64_t key_id) {
    {
        std::lock_guard lock(mu_);
        for (const auto& k : keys_) {
            if (k->id == key_id) {
                k->paused_until_ms = 0;
                k->pause_reason.clear();
            }
        }
    }
    refresh_limit();
}

std::unordered_map<int64_t, KeyPool::KeyState> KeyPool::states() const {
    std::lock_guard lock(mu_);
    std::unordered_map<int64_t, KeyState> out;
    for (const auto& k : keys_)
        out[k->id] = KeyState{k->in_use, k->paused_until_ms, k->pause_reason};
    return out;
}

void KeyPool::refresh_limit() {
    std::shared_ptr<AsyncSemaphore> limiter;
    int limit = 1;
    {
        std::lock_guard lock(mu_);
        const int64_t now_ms = unix_ms_now();
        int carry = 0;     // what the usable keys can take
        int draining = 0;  // calls still running on paused keys
        int64_t next_resume = 0;
        for (const auto& k : keys_) {
            if (usable_locked(*k, now_ms)) {
                carry += k->limit;
            } else {
                draining += k->in_use;
                if (next_resume == 0 || k->paused_until_ms < next_resume)
                    next_resume = k->paused_until_ms;
            }
        }
        limiter = limiter_;
        // With no usable key, waiting calls are let through at once to fail
        // fast with Retry-After in acquire(), rather than sit out the queue.
        limit = carry == 0 ? provider_limit_ + draining
                           : std::max(1, std::min(provider_limit_, carry + draining));
        if (wake_timer_ != 0) timers_.cancel(wake_timer_);
        wake_timer_ = 0;
        if (next_resume > 0) {
            std::weak_ptr<KeyPool> weak = weak_from_this();
            wake_timer_ =
                timers_.schedule_after(std::chrono::milliseconds(next_resume - now_ms + 5), [weak] {
                    if (auto self = weak.lock()) {
                        {
                            std::lock_guard inner(self->mu_);
                            self->wake_timer_ = 0;
                        }
                        self->refresh_limit();
                    }
                });
        }
    }
    // Outside the lock: raising the limit grants waiting calls right here, and
    // they come back into acquire().
    if (limiter) limiter->set_limit(limit);
}

}  // namespace modelgate::core

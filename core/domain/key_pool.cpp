#include "domain/key_pool.hpp"

#include <algorithm>
#include <limits>

#include "util/time.hpp"

namespace modelgate::core {

namespace {

constexpr int64_t kStickyMs = 30 * 60 * 1000;
// How soon to come back while another call probes a pause.
constexpr int64_t kProbeWaitMs = 1000;

// The stored pause wins when it ends later (another instance paused it, or
// this one's write has not come back yet); a pause the store no longer has
// and that is over was cleared elsewhere.
void merge_pause(KeyPool::Pause& local, const KeyPool::Pause& stored, int64_t now_ms) {
    if (stored.until_ms > local.until_ms) {
        bool probing = local.probing;
        local = stored;
        local.probing = probing;
    } else if (!stored.recorded() && stored.until_ms == 0 && !local.active(now_ms)) {
        local.until_ms = 0;
        local.strikes = 0;
        local.length_ms = 0;
        local.reason.clear();
    } else {
        local.strikes = std::max(local.strikes, stored.strikes);
    }
}

}  // namespace

void KeyPool::configure(std::vector<KeySpec> specs, bool keyless, int provider_limit,
                        KeySpec provider_slot, std::shared_ptr<AsyncSemaphore> limiter) {
    {
        std::lock_guard lock(mu_);
        const int64_t now_ms = unix_ms_now();
        provider_limit_ = std::max(1, provider_limit);
        limiter_ = std::move(limiter);
        if (keyless) {
            // No key of its own: one keyless slot that carries the provider's pauses.
            specs.clear();
            provider_slot.id = 0;
            specs.push_back(std::move(provider_slot));
        }
        std::vector<std::shared_ptr<Key>> next;
        for (auto& s : specs) {
            std::shared_ptr<Key> k;
            for (const auto& old : keys_) {
                if (old->id == s.id) k = old;  // keep in-use counts and pauses across reloads
            }
            if (!k) k = std::make_shared<Key>();
            k->id = s.id;
            k->label = s.label;
            k->secret = std::move(s.secret);
            k->limit = std::max(1, s.limit.value_or(provider_limit_));
            merge_pause(k->pause, s.pause, now_ms);
            for (auto& [model, stored] : s.models)
                merge_pause(k->models[model], stored, now_ms);
            for (auto it = k->models.begin(); it != k->models.end();) {
                if (s.models.count(it->first) == 0) merge_pause(it->second, Pause{}, now_ms);
                bool empty =
                    !it->second.recorded() && !it->second.active(now_ms) && !it->second.probing;
                it = empty ? k->models.erase(it) : std::next(it);
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

bool KeyPool::usable_locked(const Key& k, std::string_view model, int64_t now_ms) const {
    if (!open(k.pause, now_ms)) return false;
    if (model.empty()) return true;
    auto it = k.models.find(std::string(model));
    return it == k.models.end() || open(it->second, now_ms);
}

std::optional<KeyPool::Unavailable> KeyPool::unavailable(int64_t now_ms,
                                                         std::string_view model) const {
    std::lock_guard lock(mu_);
    return unavailable_locked(now_ms, model);
}

std::optional<KeyPool::Unavailable> KeyPool::unavailable_locked(int64_t now_ms,
                                                                std::string_view model) const {
    if (keys_.empty()) return Unavailable{0, "the provider has no usable upstream key"};
    int64_t earliest = std::numeric_limits<int64_t>::max();
    std::string reason;
    auto back_at = [now_ms](const Pause& p) {
        return p.active(now_ms) ? p.until_ms : p.probing ? now_ms + kProbeWaitMs : 0;
    };
    for (const auto& k : keys_) {
        if (usable_locked(*k, model, now_ms)) return std::nullopt;
        int64_t at = back_at(k->pause);
        std::string why = k->pause.reason;
        if (!model.empty()) {
            if (auto it = k->models.find(std::string(model)); it != k->models.end()) {
                int64_t model_at = back_at(it->second);
                if (model_at > at) {
                    at = model_at;
                    why = it->second.reason;
                }
            }
        }
        if (at < earliest) {
            earliest = at;
            reason = why;
        }
    }
    return Unavailable{std::max<int64_t>(1, earliest - now_ms), reason};
}

std::optional<KeyPool::Lease> KeyPool::acquire(std::optional<int64_t> gateway_key,
                                               const std::string& model, int64_t now_ms,
                                               Unavailable* why, std::optional<int64_t> avoid_key) {
    std::lock_guard lock(mu_);
    auto eligible = [&](const Key& k) {
        return usable_locked(k, model, now_ms) && k.in_use < k.limit &&
               (!avoid_key || k.id != *avoid_key);
    };
    std::shared_ptr<Key> chosen;
    if (gateway_key) {
        auto it = sticky_.find(*gateway_key);
        if (it != sticky_.end() && it->second.expires_ms > now_ms) {
            for (const auto& k : keys_) {
                if (k->id == it->second.key_id && eligible(*k)) chosen = k;
            }
        }
    }
    if (!chosen) {
        // The least loaded usable key; ties rotate so equal keys share the work.
        double best = std::numeric_limits<double>::max();
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            const auto& k = keys_[(i + rotate_) % keys_.size()];
            if (!eligible(*k)) continue;
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
            *why = unavailable_locked(now_ms, model)
                       .value_or(Unavailable{1000, "all upstream keys are busy"});
        return std::nullopt;
    }
    ++chosen->in_use;
    if (gateway_key) sticky_[*gateway_key] = Sticky{chosen->id, now_ms + kStickyMs};
    Lease lease{chosen, chosen->id, chosen->secret, model};
    // A pause that ended without a success since: this call finds out.
    if (chosen->pause.recorded()) {
        chosen->pause.probing = true;
        lease.probing_key = true;
    }
    if (auto it = chosen->models.find(model); it != chosen->models.end() && it->second.recorded()) {
        it->second.probing = true;
        lease.probing_model = true;
    }
    return lease;
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
        Key& k = *lease.key;
        if (k.in_use > 0) --k.in_use;
        if (lease.probing_key) k.pause.probing = false;
        if (lease.probing_model) {
            if (auto it = k.models.find(lease.model); it != k.models.end())
                it->second.probing = false;
        }
        paused = k.pause.active(unix_ms_now());
    }
    // A paused key's calls still count against the provider's slots until they end.
    if (paused) refresh_limit();
}

void KeyPool::succeeded(const Lease& lease) {
    if (!lease.key) return;
    std::vector<std::string> cleared;  // "" for the key
    PauseListener listener;
    {
        std::lock_guard lock(mu_);
        Key& k = *lease.key;
        const int64_t now_ms = unix_ms_now();
        if (k.pause.recorded() && !k.pause.active(now_ms)) {
            k.pause = Pause{};
            cleared.emplace_back();
        }
        if (auto it = k.models.find(lease.model);
            it != k.models.end() && it->second.recorded() && !it->second.active(now_ms)) {
            k.models.erase(it);
            cleared.push_back(lease.model);
        }
        if (!cleared.empty()) listener = listener_;
    }
    if (listener) {
        for (const auto& model : cleared)
            listener(lease.key_id, model, Pause{});
    }
}

int64_t KeyPool::pause(const Lease& lease, Scope scope, int64_t hint_until_ms, int64_t base_ms,
                       const std::string& reason) {
    if (!lease.key) return 0;
    PauseListener listener;
    Pause now_paused;
    std::string model = scope == Scope::model ? lease.model : std::string();
    {
        std::lock_guard lock(mu_);
        const int64_t now_ms = unix_ms_now();
        Pause& p = scope == Scope::key ? lease.key->pause : lease.key->models[lease.model];
        int64_t hinted = hint_until_ms > now_ms ? hint_until_ms - now_ms : 0;
        int64_t length;
        bool news = true;
        if (p.active(now_ms)) {
            // Calls of the same moment report the same refusal: only a later end counts.
            if (hint_until_ms <= p.until_ms) return p.until_ms;
            length = hinted;
            news = hint_until_ms - p.until_ms > 5000;
        } else if (p.recorded()) {
            length = std::max(hinted, p.length_ms * 2);  // a refused probe
            ++p.strikes;
        } else {
            length = hinted > 0 ? hinted : base_ms;
            p.strikes = 1;
        }
        length = std::clamp<int64_t>(length, 1, kLongestPauseMs);
        p.until_ms = now_ms + length;
        p.length_ms = length;
        p.reason = reason;
        p.probing = false;
        for (auto it = sticky_.begin(); it != sticky_.end();) {
            it = it->second.key_id == lease.key->id ? sticky_.erase(it) : std::next(it);
        }
        now_paused = p;
        if (news) listener = listener_;
    }
    if (scope == Scope::key) refresh_limit();
    if (listener) listener(lease.key_id, model, now_paused);
    return now_paused.until_ms;
}

void KeyPool::clear_pause(int64_t key_id) {
    {
        std::lock_guard lock(mu_);
        for (const auto& k : keys_) {
            if (k->id != key_id) continue;
            k->pause = Pause{};
            k->models.clear();
        }
    }
    refresh_limit();
}

std::optional<std::string> KeyPool::any_secret(int64_t now_ms) const {
    std::lock_guard lock(mu_);
    for (const auto& k : keys_) {
        if (open(k->pause, now_ms)) return k->secret;
    }
    return std::nullopt;
}

std::unordered_map<int64_t, KeyPool::KeyState> KeyPool::states() const {
    std::lock_guard lock(mu_);
    const int64_t now_ms = unix_ms_now();
    std::unordered_map<int64_t, KeyState> out;
    for (const auto& k : keys_) {
        KeyState s;
        s.in_use = k->in_use;
        if (k->pause.active(now_ms)) {
            s.paused_until_ms = k->pause.until_ms;
            s.pause_reason = k->pause.reason;
        }
        if (k->pause.recorded() || k->pause.active(now_ms)) {
            s.pauses.push_back(
                {"", k->pause.until_ms, k->pause.reason, k->pause.strikes, k->pause.probing});
        }
        for (const auto& [model, p] : k->models) {
            if (p.recorded() || p.active(now_ms))
                s.pauses.push_back({model, p.until_ms, p.reason, p.strikes, p.probing});
        }
        std::sort(s.pauses.begin(), s.pauses.end(),
                  [](const PauseState& a, const PauseState& b) { return a.model < b.model; });
        out[k->id] = std::move(s);
    }
    return out;
}

void KeyPool::refresh_limit() {
    std::shared_ptr<AsyncSemaphore> limiter;
    int limit = 1;
    {
        std::lock_guard lock(mu_);
        const int64_t now_ms = unix_ms_now();
        int carry = 0;     // what the keys without a whole-key pause can take
        int draining = 0;  // calls still running on paused keys
        int64_t next_resume = 0;
        for (const auto& k : keys_) {
            if (!k->pause.active(now_ms)) {
                carry += k->limit;
            } else {
                draining += k->in_use;
                if (next_resume == 0 || k->pause.until_ms < next_resume)
                    next_resume = k->pause.until_ms;
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

// Holds the current routing snapshot and rebuilds it from the database: at start,
// after every admin change on this instance, and when another instance bumps the
// configuration version (polled). Readers take the snapshot without locking
// beyond an atomic shared_ptr load, so the hot path never waits for a rebuild.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "domain/snapshot.hpp"
#include "plugins/plugin_host.hpp"
#include "store/config_store.hpp"
#include "util/crypto.hpp"
#include "util/timer_service.hpp"

namespace modelgate::core {

// Options of a provider that the gateway handles itself, stored among the
// adapter's options; the adapter never sees them.
struct GatewayOptions {
    bool force_stream_usage = true;  // ask the upstream for usage in streams
    bool auto_sync_models = false;   // the scheduled model sync includes the provider
    std::string user_agent;          // outbound User-Agent for this provider
};
// Removes the gateway's options from options and returns them.
GatewayOptions take_gateway_options(nlohmann::json& options);
// A value that can go into an HTTP header line (no CR, LF or NUL; at most 512 bytes).
bool valid_header_value(std::string_view value);

// The setting that overrides the outbound User-Agent for every provider.
inline constexpr const char* kUserAgentSetting = "proxy.user_agent";

class ConfigCache {
  public:
    // Called when a cool-down starts, grows or ends by a success (until_ms
    // 0): of a key (key_id 0: a keyless provider) or, with a model, of that
    // model on the key. From whatever thread saw the upstream's answer.
    using PauseHandler = std::function<void(int64_t provider_id, int64_t key_id,
                                            const std::string& model, const KeyPool::Pause& pause)>;

    ConfigCache(store::ConfigStore& store, const plugins::PluginHost& plugins,
                const crypto::SecretBox& secrets, TimerService& timers,
                std::string default_user_agent);
    ~ConfigCache();

    std::shared_ptr<const Snapshot> current() const { return std::atomic_load(&snapshot_); }
    // Rebuilds now (blocking, worker threads only). On failure the old snapshot stays.
    Status reload();
    // Polls the configuration version every interval and reloads when it moved.
    void start_polling(std::chrono::milliseconds interval);
    void stop_polling();
    // All limiters ever created, by provider id (for metrics).
    std::map<int64_t, std::pair<std::string, std::shared_ptr<AsyncSemaphore>>> limiters() const;
    // The key pool of a provider (null if never loaded), for the admin API.
    std::shared_ptr<KeyPool> key_pool(int64_t provider_id) const;
    // Set before the first reload.
    void set_pause_handler(PauseHandler handler) { pause_handler_ = std::move(handler); }
    // Held while a cool-down is written to the database and while an admin ends
    // one, so a late write of a pause cannot undo the admin's resume.
    std::mutex& pause_write_mutex() { return pause_write_mu_; }
    const std::string& default_user_agent() const { return default_user_agent_; }

  private:
    struct Rows;
    Result<Rows> read_rows();
    std::shared_ptr<ProviderRuntime> provider_runtime(const store::ProviderRecord& p,
                                                      const Rows& rows,
                                                      const std::string& user_agent);
    // The limiter and key pool that outlive snapshots, created on first sight.
    void attach_slots(ProviderRuntime& rt);
    static void add_bindings(Snapshot& snap, const Rows& rows);

    std::mutex pause_write_mu_;
    store::ConfigStore& store_;
    const plugins::PluginHost& plugins_;
    const crypto::SecretBox& secrets_;
    TimerService& timers_;
    std::shared_ptr<const Snapshot> snapshot_;
    std::mutex reload_mu_;
    std::string default_user_agent_;
    PauseHandler pause_handler_;
    // What outlives snapshots, per provider id: in-use counts, waiters, pauses.
    struct ProviderSlots {
        std::string name;
        std::shared_ptr<AsyncSemaphore> limiter;
        std::shared_ptr<KeyPool> keys;
    };
    mutable std::mutex limiters_mu_;
    std::map<int64_t, ProviderSlots> slots_;
    std::mutex poll_mu_;
    std::condition_variable poll_cv_;
    bool polling_ = false;
    std::thread poller_;
};

}  // namespace modelgate::core

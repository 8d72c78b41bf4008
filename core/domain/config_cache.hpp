// Holds the current routing snapshot and rebuilds it from the database: at start,
// after every admin change on this instance, and when another instance bumps the
// configuration version (polled). Readers take the snapshot without locking
// beyond an atomic shared_ptr load, so the hot path never waits for a rebuild.
#pragma once

#include <atomic>
#include <condition_variable>
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

class ConfigCache {
  public:
    ConfigCache(store::ConfigStore& store, const plugins::PluginHost& plugins,
                const crypto::SecretBox& secrets, TimerService& timers);
    ~ConfigCache();

    std::shared_ptr<const Snapshot> current() const { return std::atomic_load(&snapshot_); }
    // Rebuilds now (blocking, worker threads only). On failure the old snapshot stays.
    Status reload();
    // Polls the configuration version every interval and reloads when it moved.
    void start_polling(std::chrono::milliseconds interval);
    void stop_polling();
    // All limiters ever created, by provider id (for metrics).
    std::map<int64_t, std::pair<std::string, std::shared_ptr<AsyncSemaphore>>> limiters() const;

  private:
    store::ConfigStore& store_;
    const plugins::PluginHost& plugins_;
    const crypto::SecretBox& secrets_;
    TimerService& timers_;
    std::shared_ptr<const Snapshot> snapshot_;
    std::mutex reload_mu_;
    mutable std::mutex limiters_mu_;
    std::map<int64_t, std::pair<std::string, std::shared_ptr<AsyncSemaphore>>> limiters_;
    std::mutex poll_mu_;
    std::condition_variable poll_cv_;
    bool polling_ = false;
    std::thread poller_;
};

}  // namespace modelgate::core

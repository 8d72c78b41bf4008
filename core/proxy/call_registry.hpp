// The calls in flight on this instance: for graceful shutdown (wait for them,
// then end the rest) and for the in-flight gauge.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace modelgate::core::proxy {

class ProxyCall;

class CallRegistry {
  public:
    void add(const std::string& id, const std::shared_ptr<ProxyCall>& call);
    void remove(const std::string& id);
    std::size_t size() const;
    std::vector<std::shared_ptr<ProxyCall>> snapshot() const;
    // Waits until no call is in flight; false on timeout.
    template <class Duration>
    bool wait_empty(Duration timeout) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [this] { return calls_.empty(); });
    }

  private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::unordered_map<std::string, std::weak_ptr<ProxyCall>> calls_;
};

}  // namespace modelgate::core::proxy

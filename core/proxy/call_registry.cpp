#include "proxy/call_registry.hpp"

namespace modelgate::core::proxy {

void CallRegistry::add(const std::string& id, const std::shared_ptr<ProxyCall>& call) {
    std::lock_guard lock(mu_);
    calls_[id] = call;
}

void CallRegistry::remove(const std::string& id) {
    std::lock_guard lock(mu_);
    calls_.erase(id);
    if (calls_.empty()) cv_.notify_all();
}

std::size_t CallRegistry::size() const {
    std::lock_guard lock(mu_);
    return calls_.size();
}

std::vector<std::shared_ptr<ProxyCall>> CallRegistry::snapshot() const {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<ProxyCall>> out;
    for (const auto& [id, weak] : calls_) {
        if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
}

}  // namespace modelgate::core::proxy

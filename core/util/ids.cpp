#include "util/ids.hpp"

#include <atomic>
#include <cstdio>

#include "util/crypto.hpp"

namespace modelgate::core {

namespace {

struct IdState {
    std::string prefix = crypto::random_hex(4);
    std::atomic<uint64_t> counter{std::stoull(crypto::random_hex(6), nullptr, 16)};
};

IdState& state() {
    static IdState s;
    return s;
}

}  // namespace

std::string next_request_id() {
    auto& s = state();
    uint64_t n = s.counter.fetch_add(1, std::memory_order_relaxed);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%016llx", s.prefix.c_str(),
                  static_cast<unsigned long long>(n));
    return buf;
}

}  // namespace modelgate::core

#include "http/client_ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "util/log.hpp"

namespace modelgate::core::http {

namespace {

std::optional<std::array<uint8_t, 16>> to_bytes(const std::string& ip) {
    std::array<uint8_t, 16> out{};
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
        out[10] = 0xff;
        out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        return out;
    }
    if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        return out;
    }
    return std::nullopt;
}

bool in_cidr(const std::array<uint8_t, 16>& a, const Cidr& c) {
    int bits = c.prefix;
    for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
        if ((a[i] & mask) != (c.addr[i] & mask)) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '"' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

std::optional<std::string> normalize_ip(std::string_view text) {
    text = trim(text);
    if (text.empty() || text == "unknown") return std::nullopt;
    std::string s(text);
    if (s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string::npos) return std::nullopt;
        s = s.substr(1, close - 1);
    } else if (std::count(s.begin(), s.end(), ':') == 1) {
        s = s.substr(0, s.find(':'));  // a.b.c.d:port
    }
    if (!to_bytes(s)) return std::nullopt;
    return s;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
    text = trim(text);
    std::size_t slash = text.find('/');
    std::string ip(text.substr(0, slash));
    auto bytes = to_bytes(ip);
    if (!bytes) return std::nullopt;
    bool v4 = ip.find(':') == std::string::npos;
    int prefix = v4 ? 32 : 128;
    if (slash != std::string_view::npos) {
        try {
            prefix = std::stoi(std::string(text.substr(slash + 1)));
        } catch (...) {
            return std::nullopt;
        }
        if (prefix < 0 || prefix > (v4 ? 32 : 128)) return std::nullopt;
    }
    Cidr c;
    c.addr = *bytes;
    c.prefix = v4 ? prefix + 96 : prefix;
    return c;
}

ClientIpResolver::ClientIpResolver(const std::vector<std::string>& trusted) {
    for (const auto& t : trusted) {
        auto c = parse_cidr(t);
        if (c)
            trusted_.push_back(*c);
        else
            MG_WARN("config", "ignoring invalid trusted proxy '" << t << "'");
    }
}

bool ClientIpResolver::trusted(std::string_view ip) const {
    auto n = normalize_ip(ip);
    if (!n) return false;
    auto bytes = to_bytes(*n);
    for (const auto& c : trusted_) {
        if (in_cidr(*bytes, c)) return true;
    }
    return false;
}

std::string ClientIpResolver::resolve(std::string_view peer_ip, std::string_view xff,
                                      std::string_view x_real_ip) const {
    std::string peer = normalize_ip(peer_ip).value_or(std::string(peer_ip));
    if (trusted_.empty() || !trusted(peer)) return peer;
    // Walk X-Forwarded-For from the right: the first hop that is not ours is the client.
    std::vector<std::string> hops;
    while (!xff.empty()) {
        std::size_t comma = xff.find(',');
        auto hop = normalize_ip(xff.substr(0, comma));
        if (hop) hops.push_back(*hop);
        xff = comma == std::string_view::npos ? std::string_view() : xff.substr(comma + 1);
    }
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        if (!trusted(*it)) return *it;
    }
    if (!hops.empty()) return hops.front();
    if (auto real = normalize_ip(x_real_ip)) return *real;
    return peer;
}

}  // namespace modelgate::core::http

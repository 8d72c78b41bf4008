// Which address a request came from. Forwarding headers (X-Forwarded-For,
// X-Real-IP) are believed only when the socket peer is a configured trusted
// proxy; then the right-most address that is not itself a trusted proxy wins.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modelgate::core::http {

struct Cidr {
    std::array<uint8_t, 16> addr{};  // IPv4 mapped into ::ffff:a.b.c.d
    int prefix = 128;
};

std::optional<Cidr> parse_cidr(std::string_view text);
// Normalizes "1.2.3.4", "1.2.3.4:80", "[::1]:80", "::1"; nullopt if not an IP.
std::optional<std::string> normalize_ip(std::string_view text);

class ClientIpResolver {
  public:
    explicit ClientIpResolver(const std::vector<std::string>& trusted);
    bool trusted(std::string_view ip) const;
    std::string resolve(std::string_view peer_ip, std::string_view x_forwarded_for,
                        std::string_view x_real_ip) const;

  private:
    std::vector<Cidr> trusted_;
};

}  // namespace modelgate::core::http

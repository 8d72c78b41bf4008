// The input format of adapter_fuzz, shared with the seed generator so seeds
// made from fixtures mean what the harness reads:
//
//   byte 0     selector: target = byte % kTargetCount, variant = byte / kTargetCount
//              (the variant picks the HTTP status)
//   stream:    byte 1 = n, then n chunk lengths (a byte b feeds b + 1 bytes), cycled
//              over the payload; n = 0 feeds the payload whole
//   the rest   the payload: an upstream body, stream bytes, "headers\0body" for
//              classify_error ("name: value\n" lines), or a client request body
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modelgate::fuzz {

enum class Target : uint8_t {
    parse_chat = 0,
    parse_embeddings = 1,
    parse_models = 2,
    stream = 3,
    classify_error = 4,
    build_chat = 5,
    build_chat_stream = 6,
    build_embeddings = 7,
};
inline constexpr uint8_t kTargetCount = 8;

// Statuses parse_response sees (2xx only: the core parses nothing else).
inline constexpr int kParseStatuses[] = {200, 201, 203, 206};
// Statuses classify_error sees: failures, and a 2xx whose body is an error.
inline constexpr int kErrorStatuses[] = {400, 401, 402, 403, 404, 408, 409, 413, 422,
                                         429, 500, 502, 503, 504, 529, 200, 302, 418};

struct Input {
    Target target = Target::parse_chat;
    uint8_t variant = 0;
    std::vector<std::size_t> chunks;  // stream: lengths to feed, cycled
    std::string_view payload;
};

inline int parse_status(uint8_t variant) {
    return kParseStatuses[variant % std::size(kParseStatuses)];
}
inline int error_status(uint8_t variant) {
    return kErrorStatuses[variant % std::size(kErrorStatuses)];
}

// The variant that makes error_status() return status (0 when it cannot).
inline uint8_t variant_for_error_status(int status) {
    for (std::size_t i = 0; i < std::size(kErrorStatuses); ++i) {
        if (kErrorStatuses[i] == status) return static_cast<uint8_t>(i);
    }
    return 0;
}

inline std::optional<Input> decode(const uint8_t* data, std::size_t size) {
    if (size == 0) return std::nullopt;
    Input in;
    in.target = static_cast<Target>(data[0] % kTargetCount);
    in.variant = static_cast<uint8_t>(data[0] / kTargetCount);
    std::size_t pos = 1;
    if (in.target == Target::stream && pos < size) {
        std::size_t n = data[pos++];
        for (std::size_t i = 0; i < n && pos < size; ++i)
            in.chunks.push_back(static_cast<std::size_t>(data[pos++]) + 1);
    }
    in.payload = std::string_view(reinterpret_cast<const char*>(data) + pos, size - pos);
    return in;
}

// chunk_lengths: each 1..256, only for Target::stream.
inline std::string encode(Target target, uint8_t variant,
                          const std::vector<std::size_t>& chunk_lengths, std::string_view payload) {
    std::string out;
    out.push_back(static_cast<char>(static_cast<uint8_t>(target) +
                                    kTargetCount * (variant % (256 / kTargetCount))));
    if (target == Target::stream) {
        std::size_t n = chunk_lengths.size() < 255 ? chunk_lengths.size() : 255;
        out.push_back(static_cast<char>(n));
        for (std::size_t i = 0; i < n; ++i)
            out.push_back(static_cast<char>((chunk_lengths[i] - 1) & 0xff));
    }
    out.append(payload);
    return out;
}

}  // namespace modelgate::fuzz

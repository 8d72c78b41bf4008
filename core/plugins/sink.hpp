// A host-side mg_sink that collects bytes into a std::string.
#pragma once

#include <modelgate/abi.h>

#include <string>
#include <string_view>

namespace modelgate::core::plugins {

struct StringSink {
    std::string data;
    mg_sink sink{this, &StringSink::append};

    StringSink() = default;
    StringSink(const StringSink&) = delete;
    StringSink& operator=(const StringSink&) = delete;
    const mg_sink* get() const { return &sink; }

    static void append(void* ctx, const char* bytes, uint64_t len) {
        if (len > 0)
            static_cast<StringSink*>(ctx)->data.append(bytes, static_cast<std::size_t>(len));
    }
};

inline mg_str to_mg(std::string_view s) {
    return {s.data(), s.size()};
}
inline std::string_view from_mg(mg_str s) {
    return s.data != nullptr ? std::string_view(s.data, static_cast<std::size_t>(s.len))
                             : std::string_view();
}

}  // namespace modelgate::core::plugins

// Buffers across the C ABI, for plugins, the host library and the gateway
// alike: mg_str views and an mg_sink that collects into a std::string. The
// sink's callback is noexcept: no exception crosses the ABI in either
// direction (a failed allocation drops the bytes and marks the sink).
#pragma once

#include <modelgate/abi.h>

#include <cstdint>
#include <string>
#include <string_view>

// Hidden in plugins like the rest of the SDK (see sdk.hpp).
#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

namespace modelgate::sdk {

// A view of an mg_str (a null data pointer reads as empty).
inline std::string_view view(mg_str s) noexcept {
    return {s.data != nullptr ? s.data : "", static_cast<std::size_t>(s.len)};
}
// An mg_str over s; valid while s is.
inline mg_str str(std::string_view s) noexcept {
    return {s.data(), s.size()};
}

// Appends to a sink (a null sink swallows the bytes).
inline void append(const mg_sink* sink, std::string_view bytes) noexcept {
    if (sink != nullptr && sink->append != nullptr && !bytes.empty())
        sink->append(sink->ctx, bytes.data(), bytes.size());
}

// A sink that collects into a std::string.
struct StringSink {
    std::string data;
    bool truncated = false;  // an append could not be stored (out of memory)
    mg_sink sink{this, &StringSink::append_to};

    StringSink() = default;
    StringSink(const StringSink&) = delete;
    StringSink& operator=(const StringSink&) = delete;
    const mg_sink* get() const { return &sink; }

  private:
    static void append_to(void* ctx, const char* bytes, uint64_t len) noexcept {
        auto* self = static_cast<StringSink*>(ctx);
        if (len == 0 || bytes == nullptr) return;
        try {
            self->data.append(bytes, static_cast<std::size_t>(len));
        } catch (...) {
            self->truncated = true;
        }
    }
};

}  // namespace modelgate::sdk

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

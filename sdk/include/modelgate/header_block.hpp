// Header blocks: how HTTP headers cross the ABI, as "name: value\n" lines
// (upstream requests built by adapters, upstream response headers given to
// classify_error, plugin route requests and responses). This is the one place
// that writes, parses and validates them; plugins (through the SDK), the host
// library and the gateway all use it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

namespace modelgate::sdk::headers {

using Header = std::pair<std::string, std::string>;

// An RFC 9110 token: the only characters a header name may have.
inline bool valid_name(std::string_view name) noexcept {
    if (name.empty()) return false;
    for (char c : name) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        for (char t : std::string_view("!#$%&'*+-.^_`|~"))
            ok = ok || c == t;
        if (!ok) return false;
    }
    return true;
}

// No CR, LF or NUL: a value that cannot break out of its line.
inline bool valid_value(std::string_view value) noexcept {
    return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

inline bool equal_names(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Each valid header as "name: value\n"; invalid ones are left out.
inline std::string write(const std::vector<Header>& headers) {
    std::string out;
    for (const auto& [name, value] : headers) {
        if (!valid_name(name) || !valid_value(value)) continue;
        out.append(name).append(": ").append(value).push_back('\n');
    }
    return out;
}

// Calls fn(name, value) for each valid line of a block, value trimmed; lines
// that are not a valid header are skipped.
template <class Fn>
void for_each(std::string_view block, Fn&& fn) {
    while (!block.empty()) {
        std::size_t nl = block.find('\n');
        std::string_view line = block.substr(0, nl);
        block = nl == std::string_view::npos ? std::string_view() : block.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
            value.remove_suffix(1);
        if (!valid_name(name) || !valid_value(value)) continue;
        fn(name, value);
    }
}

// A block whose every non-empty line must be a valid header: false (out left
// partial) at the first line that is not.
inline bool parse_strict(std::string_view block, std::vector<Header>& out) {
    while (!block.empty()) {
        std::size_t nl = block.find('\n');
        std::string_view line = block.substr(0, nl);
        block = nl == std::string_view::npos ? std::string_view() : block.substr(nl + 1);
        if (line.empty()) continue;
        std::size_t before = out.size();
        for_each(line, [&](std::string_view n, std::string_view v) { out.emplace_back(n, v); });
        if (out.size() == before || line.back() == '\r') return false;
    }
    return true;
}

// Every valid header of a block; lines that are not one are left out.
inline std::vector<Header> parse(std::string_view block) {
    std::vector<Header> out;
    for_each(block, [&](std::string_view n, std::string_view v) { out.emplace_back(n, v); });
    return out;
}

// The first value of a header (name compared without case), or empty.
inline std::string_view find(std::string_view block, std::string_view name) {
    std::string_view found;
    bool done = false;
    for_each(block, [&](std::string_view n, std::string_view v) {
        if (!done && equal_names(n, name)) {
            found = v;
            done = true;
        }
    });
    return found;
}

}  // namespace modelgate::sdk::headers

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

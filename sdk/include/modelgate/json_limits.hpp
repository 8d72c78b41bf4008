// Bounded JSON parsing for plugins and the core alike. nlohmann/json parses and
// frees documents without recursion, but dumps, copies and compares them
// recursively: a document nested 100,000 deep (about 200 KB of brackets)
// overflows the stack there. Every JSON that comes from outside (client
// requests, upstream answers, stream events) goes through parse_json, which
// refuses such a document after one cheap pass over the text.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

// Hidden in plugins like the rest of the SDK (see sdk.hpp).
#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

namespace modelgate::sdk {

// Deeper than any real request or answer; shallow enough for every recursion.
inline constexpr std::size_t kMaxJsonDepth = 128;

// False when arrays and objects in text nest deeper than max_depth (brackets
// inside strings do not count). One pass, no allocation.
inline bool json_depth_ok(std::string_view text, std::size_t max_depth = kMaxJsonDepth) noexcept {
    std::size_t depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        switch (c) {
            case '"':
                in_string = true;
                break;
            case '[':
            case '{':
                if (++depth > max_depth) return false;
                break;
            case ']':
            case '}':
                if (depth > 0) --depth;
                break;
            default:
                break;
        }
    }
    return true;
}

// Parses without throwing: a discarded value (is_discarded()) when text is not
// JSON or nests deeper than max_depth. Json: nlohmann::json or ordered_json.
template <class Json = nlohmann::json>
inline Json parse_json(std::string_view text, std::size_t max_depth = kMaxJsonDepth) {
    if (!json_depth_ok(text, max_depth)) return Json(Json::value_t::discarded);
    return Json::parse(text, nullptr, false);
}

}  // namespace modelgate::sdk

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

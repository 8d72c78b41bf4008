// URL pieces a feature plugin's routes need: percent-decoding, query
// parameters, and route patterns with {name} segments.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modelgate::sdk::url {

// Percent-decodes `text`; '+' becomes a space when form is true (query strings).
// A malformed escape is kept as it is.
inline std::string decode(std::string_view text, bool form = false) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
            i += 2;
        } else {
            out.push_back(form && c == '+' ? ' ' : c);
        }
    }
    return out;
}

// The first value of `name` in a raw query string ("a=1&b=x%20y"), decoded.
inline std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        std::size_t eq = pair.find('=');
        if (decode(pair.substr(0, eq), true) != name) continue;
        return eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1), true);
    }
    return std::nullopt;
}

// The '/'-separated segments of a path ("/a/b/" gives "a", "b").
inline std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        std::size_t slash = path.find('/');
        if (slash != 0) out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

// A route pattern: literal segments and {name} segments ("/reports/{id}").
class Pattern {
  public:
    explicit Pattern(std::string_view pattern) : text_(pattern) {
        for (auto s : segments(text_)) {
            bool param = s.size() > 2 && s.front() == '{' && s.back() == '}';
            parts_.push_back({std::string(param ? s.substr(1, s.size() - 2) : s), param});
        }
    }
    // The literal path before the first {name} segment: what the host routes.
    std::string prefix() const {
        std::string p;
        for (const auto& part : parts_) {
            if (part.param) break;
            p += "/" + part.text;
        }
        return p.empty() ? "/" : p;
    }
    // Literal segments before parameters: a literal route wins over a pattern.
    int literal_segments() const {
        int n = 0;
        for (const auto& part : parts_)
            n += part.param ? 0 : 1;
        return n;
    }
    // True when `path` matches; the decoded {name} values go to params.
    bool match(std::string_view path, std::map<std::string, std::string>& params) const {
        auto segs = segments(path);
        if (segs.size() != parts_.size()) return false;
        std::map<std::string, std::string> found;
        for (std::size_t i = 0; i < segs.size(); ++i) {
            if (parts_[i].param)
                found[parts_[i].text] = decode(segs[i]);
            else if (segs[i] != parts_[i].text)
                return false;
        }
        params = std::move(found);
        return true;
    }
    const std::string& text() const { return text_; }

  private:
    struct Part {
        std::string text;
        bool param = false;
    };
    std::string text_;
    std::vector<Part> parts_;
};

}  // namespace modelgate::sdk::url

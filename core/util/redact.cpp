#include "util/redact.hpp"

#include <array>
#include <cctype>

#include "util/text.hpp"

namespace modelgate::core {

namespace {

bool token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '~' || c == '+' || c == '/' || c == '=';
}

// Names whose values are secrets, compared without case, '-' and '_'.
constexpr std::array<std::string_view, 18> kSensitive = {
    "apikey",       "authorization", "cookie",     "password",    "proxyauthorization",
    "refreshtoken", "session",       "sessionid",  "setcookie",   "token",
    "xapikey",      "accesstoken",   "bottoken",   "xgoogapikey", "secret",
    "clientsecret", "authtoken",     "upstreamkey"};

}  // namespace

bool is_sensitive_name(std::string_view name) {
    std::string n;
    for (char c : name) {
        if (c == '-' || c == '_') continue;
        n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    for (auto s : kSensitive) {
        if (n == s) return true;
    }
    return false;
}

std::string clip_utf8(std::string_view s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return std::string(s);
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
        --cut;
    return std::string(s.substr(0, cut));
}

std::string redact(std::string_view text, std::size_t max_len) {
    std::string out;
    out.reserve(text.size());
    std::string low = ascii_lower(text);
    std::size_t i = 0;
    while (i < text.size()) {
        // "Bearer <token>"
        if (low.compare(i, 7, "bearer ") == 0) {
            out.append(text.substr(i, 7));
            std::size_t j = i + 7;
            while (j < text.size() && text[j] == ' ')
                ++j;
            std::size_t k = j;
            while (k < text.size() && token_char(text[k]))
                ++k;
            if (k > j) {
                out.append("[REDACTED]");
                i = k;
                continue;
            }
            i += 7;
            continue;
        }
        // key-shaped strings: sk-..., mg-... with 16+ token characters
        if ((low.compare(i, 3, "sk-") == 0 || low.compare(i, 3, "mg-") == 0) &&
            (i == 0 || !token_char(text[i - 1]))) {
            std::size_t k = i + 3;
            while (k < text.size() && token_char(text[k]))
                ++k;
            if (k - i >= 19) {
                out.append(text.substr(i, 3)).append("[REDACTED]");
                i = k;
                continue;
            }
        }
        // "name": "value"  /  'name': 'value'  /  name=value
        if (text[i] == '"' || text[i] == '\'') {
            char q = text[i];
            std::size_t end = text.find(q, i + 1);
            if (end != std::string_view::npos && end - i < 64) {
                std::string_view name = text.substr(i + 1, end - i - 1);
                std::size_t j = end + 1;
                while (j < text.size() && text[j] == ' ')
                    ++j;
                if (j < text.size() && text[j] == ':' && is_sensitive_name(name)) {
                    ++j;
                    while (j < text.size() && text[j] == ' ')
                        ++j;
                    if (j < text.size() && (text[j] == '"' || text[j] == '\'')) {
                        char vq = text[j];
                        std::size_t k = j + 1;
                        while (k < text.size() && text[k] != vq) {
                            if (text[k] == '\\') ++k;
                            ++k;
                        }
                        out.append(text.substr(i, j - i + 1)).append("[REDACTED]").push_back(vq);
                        i = k < text.size() ? k + 1 : text.size();
                        continue;
                    }
                }
            }
        }
        out.push_back(text[i]);
        ++i;
    }
    if (out.size() > max_len) {
        std::size_t cut = max_len;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
            --cut;  // keep UTF-8 whole
        std::size_t dropped = out.size() - cut;
        out.resize(cut);
        out.append("... [truncated ").append(std::to_string(dropped)).append(" bytes]");
    }
    return out;
}

}  // namespace modelgate::core

#include "features/i18n.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/json.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace modelgate::core {

namespace {

// Catalogs are small files an operator controls; bound them anyway.
constexpr std::uintmax_t kMaxCatalogBytes = 4u << 20;

// Calls fn(lang, catalog) for every readable <lang>.json in dir.
template <class F>
void each_catalog(const std::string& dir, F&& fn) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".json") continue;
        std::error_code size_ec;
        if (entry.file_size(size_ec) > kMaxCatalogBytes || size_ec) {
            MG_WARN("i18n", "ignoring " << entry.path().string() << ": too large or unreadable");
            continue;
        }
        std::ifstream in(entry.path());
        std::stringstream ss;
        ss << in.rdbuf();
        auto j = parse_json(ss.str());
        if (!j.is_object()) {
            MG_WARN("i18n", "ignoring " << entry.path().string() << ": not a JSON object");
            continue;
        }
        fn(entry.path().stem().string(), j);
    }
}

}  // namespace

std::size_t Catalogs::load(const std::string& dir) {
    each_catalog(dir, [&](const std::string& lang, const nlohmann::json& j) {
        auto& catalog = catalogs_[lang];
        for (const auto& [k, v] : j.items()) {
            if (v.is_string()) catalog[k] = v.get<std::string>();
        }
    });
    if (catalogs_.empty()) MG_WARN("i18n", "no translation catalogs found in " << dir);
    return catalogs_.size();
}

std::size_t Catalogs::merge(const std::string& dir, const std::string& prefix) {
    std::size_t added = 0;
    std::string want = prefix + ".";
    each_catalog(dir, [&](const std::string& lang, const nlohmann::json& j) {
        auto& catalog = catalogs_[lang];
        for (const auto& [k, v] : j.items()) {
            if (!v.is_string()) continue;
            if (k.rfind(want, 0) != 0) {
                MG_WARN("i18n", dir << "/" << lang << ".json: key '" << k
                                    << "' is outside the plugin's namespace '" << want
                                    << "'; ignored");
                continue;
            }
            if (catalog.emplace(k, v.get<std::string>()).second) ++added;
        }
    });
    return added;
}

std::optional<std::string> Catalogs::find(std::string_view locale, std::string_view key) const {
    auto c = catalogs_.find(locale);
    if (c == catalogs_.end()) return std::nullopt;
    auto t = c->second.find(key);
    if (t == c->second.end()) return std::nullopt;
    return t->second;
}

std::string Catalogs::text(std::string_view locale, std::string_view key) const {
    for (std::string_view lang : {locale, std::string_view("en")}) {
        if (auto t = find(lang, key)) return *t;
    }
    return std::string(key);
}

std::string Catalogs::format(std::string_view locale, std::string_view key,
                             const std::map<std::string, std::string>& args) const {
    std::string t = text(locale, key), out;
    out.reserve(t.size());
    std::size_t pos = 0;
    while (pos < t.size()) {
        std::size_t open = t.find('{', pos), close = std::string::npos;
        if (open != std::string::npos) close = t.find('}', open + 1);
        if (close == std::string::npos) break;
        out.append(t, pos, open - pos);
        auto it = args.find(t.substr(open + 1, close - open - 1));
        if (it != args.end())
            out += it->second;
        else
            out.append(t, open, close - open + 1);
        pos = close + 1;
    }
    out.append(t, std::min(pos, t.size()));
    return out;
}

std::vector<std::string> Catalogs::keys(std::string_view lang) const {
    std::vector<std::string> out;
    auto c = catalogs_.find(lang);
    if (c == catalogs_.end()) return out;
    for (const auto& [k, v] : c->second)
        out.push_back(k);
    return out;
}

std::string Catalogs::pick(std::string_view query_lang, std::string_view cookie_lang,
                           std::string_view accept_language) const {
    for (std::string_view v : {query_lang, cookie_lang}) {
        std::string lang = ascii_lower(v.substr(0, 16));
        if (!lang.empty() && has_language(lang)) return lang;
    }
    // Accept-Language: "zh-CN,zh;q=0.9,en;q=0.8". The highest q wins; the first
    // listed wins a tie. At most 32 entries are read.
    std::string best = "en";
    double best_q = -1;
    std::size_t pos = 0;
    for (int n = 0; n < 32 && pos < accept_language.size(); ++n) {
        std::size_t comma = accept_language.find(',', pos);
        std::string_view item = accept_language.substr(
            pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        pos = comma == std::string_view::npos ? accept_language.size() : comma + 1;
        std::size_t semi = item.find(';');
        std::string tag = ascii_lower(trim(item.substr(0, semi)));
        double q = 1;
        if (semi != std::string_view::npos) {
            std::string_view params = trim(item.substr(semi + 1));
            if (params.rfind("q=", 0) == 0)
                q = std::strtod(std::string(params.substr(2)).c_str(), nullptr);
        }
        std::string primary = tag.substr(0, tag.find('-'));
        if (q > best_q && q > 0 && has_language(primary)) {
            best = primary;
            best_q = q;
        }
    }
    return best;
}

}  // namespace modelgate::core

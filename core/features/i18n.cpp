#include "features/i18n.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/json.hpp"
#include "util/log.hpp"

namespace modelgate::core {

std::size_t Catalogs::load(const std::string& dir) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".json") continue;
        std::ifstream in(entry.path());
        std::stringstream ss;
        ss << in.rdbuf();
        auto j = parse_json(ss.str());
        if (!j.is_object()) {
            MG_WARN("i18n", "ignoring " << entry.path().string() << ": not a JSON object");
            continue;
        }
        auto& catalog = catalogs_[entry.path().stem().string()];
        for (const auto& [k, v] : j.items()) {
            if (v.is_string()) catalog[k] = v.get<std::string>();
        }
    }
    if (catalogs_.empty()) MG_WARN("i18n", "no translation catalogs found in " << dir);
    return catalogs_.size();
}

std::string Catalogs::text(std::string_view locale, std::string_view key) const {
    for (std::string_view lang : {locale, std::string_view("en")}) {
        auto c = catalogs_.find(lang);
        if (c == catalogs_.end()) continue;
        auto t = c->second.find(key);
        if (t != c->second.end()) return t->second;
    }
    return std::string(key);
}

}  // namespace modelgate::core

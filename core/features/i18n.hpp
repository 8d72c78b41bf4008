// Translation catalogs: locales/<lang>.json, flat "key": "text" objects, one per
// language, shared by the server and the UIs. Lookups fall back to English,
// then to the key itself. Feature plugins ship their own catalogs next to their
// library (<library stem>.locales/<lang>.json) with keys under their id
// ("analysis.title"); they can add keys, never change the core's.
//
// What is translated: messages people read (admin and portal errors, job and
// report texts, the UIs). The /v1 API answers in English: its readers are
// programs that match on `code`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modelgate::core {

class Catalogs {
  public:
    // Loads every *.json in dir; returns the number of languages loaded.
    std::size_t load(const std::string& dir);
    // Adds a plugin's catalogs from dir: only keys that start with "<prefix>."
    // (and are not already there) are taken. Returns the keys added.
    std::size_t merge(const std::string& dir, const std::string& prefix);
    std::string text(std::string_view locale, std::string_view key) const;
    // text() with each "{name}" replaced by args[name]; unknown names stay.
    std::string format(std::string_view locale, std::string_view key,
                       const std::map<std::string, std::string>& args) const;
    // The text in that language only; nullopt when the catalog lacks the key.
    std::optional<std::string> find(std::string_view locale, std::string_view key) const;
    std::size_t languages() const { return catalogs_.size(); }
    bool has_language(std::string_view lang) const { return catalogs_.count(lang) > 0; }
    std::vector<std::string> keys(std::string_view lang) const;

    // The language of a request: ?lang= when it names a catalog, then the lang
    // cookie, then the best Accept-Language match ("zh-CN;q=0.9" picks zh),
    // else English.
    std::string pick(std::string_view query_lang, std::string_view cookie_lang,
                     std::string_view accept_language) const;

  private:
    std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> catalogs_;
};

}  // namespace modelgate::core

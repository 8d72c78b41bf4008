// Translation catalogs: locales/<lang>.json, flat "key": "text" objects, one per
// language, shared by the server and the UIs. Lookups fall back to English,
// then to the key itself.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace modelgate::core {

class Catalogs {
  public:
    // Loads every *.json in dir; returns the number of languages loaded.
    std::size_t load(const std::string& dir);
    std::string text(std::string_view locale, std::string_view key) const;
    std::size_t languages() const { return catalogs_.size(); }

  private:
    std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> catalogs_;
};

}  // namespace modelgate::core

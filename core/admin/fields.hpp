// Typed reading of admin request fields with one readable error: each getter
// returns nullopt when the field is absent, and records a 400 when it is there
// but wrong. Check error() once at the end.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace modelgate::core::admin {

class Fields {
  public:
    explicit Fields(const nlohmann::json& body) : body_(body) {}

    bool has(const char* name) const { return body_.contains(name); }
    bool is_null(const char* name) const { return body_.contains(name) && body_[name].is_null(); }

    std::optional<std::string> text(const char* name, std::size_t max_len = 255,
                                    bool required = false);
    std::optional<int64_t> integer(const char* name, int64_t min, int64_t max,
                                   bool required = false);
    std::optional<double> number(const char* name, double min, double max);
    std::optional<bool> boolean(const char* name);
    std::optional<nlohmann::json> object(const char* name);
    // A list of positive ids, duplicates dropped, at most max_count of them.
    std::optional<std::vector<int64_t>> ids(const char* name, std::size_t max_count = 10000);

    const std::optional<Error>& error() const { return error_; }

  private:
    void fail(const std::string& message);
    const nlohmann::json& body_;
    std::optional<Error> error_;
};

// An upstream API key as an admin typed it: not empty, no line breaks (it
// goes into a header line).
std::optional<Error> check_upstream_secret(const std::string& secret);

}  // namespace modelgate::core::admin

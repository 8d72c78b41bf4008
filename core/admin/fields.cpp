#include "admin/fields.hpp"

#include <algorithm>
#include <set>

namespace modelgate::core::admin {

void Fields::fail(const std::string& message) {
    if (!error_) error_ = make_error(ErrorCode::invalid_request, message, "invalid_field");
}

std::optional<std::string> Fields::text(const char* name, std::size_t max_len, bool required) {
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) {
        if (required) fail(std::string("'") + name + "' is required");
        return std::nullopt;
    }
    if (!it->is_string()) {
        fail(std::string("'") + name + "' must be a string");
        return std::nullopt;
    }
    std::string v = it->get<std::string>();
    if (v.size() > max_len) {
        fail(std::string("'") + name + "' is longer than " + std::to_string(max_len) +
             " characters");
        return std::nullopt;
    }
    if (required && v.empty()) {
        fail(std::string("'") + name + "' must not be empty");
        return std::nullopt;
    }
    return v;
}

std::optional<int64_t> Fields::integer(const char* name, int64_t min, int64_t max, bool required) {
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) {
        if (required) fail(std::string("'") + name + "' is required");
        return std::nullopt;
    }
    if (!it->is_number_integer()) {
        fail(std::string("'") + name + "' must be an integer");
        return std::nullopt;
    }
    int64_t v = it->get<int64_t>();
    if (v < min || v > max) {
        fail(std::string("'") + name + "' must be between " + std::to_string(min) + " and " +
             std::to_string(max));
        return std::nullopt;
    }
    return v;
}

std::optional<double> Fields::number(const char* name, double min, double max) {
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) {
        fail(std::string("'") + name + "' must be a number");
        return std::nullopt;
    }
    double v = it->get<double>();
    if (v < min || v > max) {
        fail(std::string("'") + name + "' is out of range");
        return std::nullopt;
    }
    return v;
}

std::optional<bool> Fields::boolean(const char* name) {
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) {
        fail(std::string("'") + name + "' must be true or false");
        return std::nullopt;
    }
    return it->get<bool>();
}

std::optional<nlohmann::json> Fields::object(const char* name) {
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return std::nullopt;
    if (!it->is_object()) {
        fail(std::string("'") + name + "' must be an object");
        return std::nullopt;
    }
    return *it;
}

std::optional<std::vector<int64_t>> Fields::ids(const char* name, std::size_t max_count) {
    auto it = body_.find(name);
    if (it == body_.end() || it->is_null()) return std::nullopt;
    if (!it->is_array()) {
        fail(std::string("'") + name + "' must be an array of ids");
        return std::nullopt;
    }
    if (it->size() > max_count) {
        fail(std::string("'") + name + "' may list at most " + std::to_string(max_count) + " ids");
        return std::nullopt;
    }
    std::vector<int64_t> out;
    std::set<int64_t> seen;
    for (const auto& v : *it) {
        if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
            fail(std::string("'") + name + "' must contain positive integer ids");
            return std::nullopt;
        }
        int64_t id = v.get<int64_t>();
        if (seen.insert(id).second) out.push_back(id);
    }
    return out;
}

}  // namespace modelgate::core::admin

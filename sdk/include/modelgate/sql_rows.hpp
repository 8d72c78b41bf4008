// Typed access to the rows the host's SQL services return: a result set is
// {"columns": [...], "rows": [[...], ...]}, values as the database typed them.
// Both dialects answer alike through these accessors: an integer column that
// PostgreSQL hands back as NUMERIC (SUM of BIGINT) or SQLite as REAL still
// reads as integer(), a timestamp as text().
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace modelgate::sdk {

class Row {
  public:
    Row(const std::vector<std::string>* columns, const nlohmann::json* values)
        : columns_(columns), values_(values) {}

    // The raw value; throws std::out_of_range for a column the result lacks.
    const nlohmann::json& operator[](std::string_view column) const {
        for (std::size_t i = 0; i < columns_->size(); ++i) {
            if ((*columns_)[i] == column) return (*values_)[i];
        }
        throw std::out_of_range("no column '" + std::string(column) + "' in the result");
    }
    bool is_null(std::string_view column) const { return (*this)[column].is_null(); }

    // Throw std::invalid_argument when the value is null or not of the kind.
    int64_t integer(std::string_view column) const {
        auto v = optional_integer(column);
        if (!v) throw std::invalid_argument("column '" + std::string(column) + "' is null");
        return *v;
    }
    double real(std::string_view column) const {
        auto v = optional_real(column);
        if (!v) throw std::invalid_argument("column '" + std::string(column) + "' is null");
        return *v;
    }
    std::string text(std::string_view column) const {
        auto v = optional_text(column);
        if (!v) throw std::invalid_argument("column '" + std::string(column) + "' is null");
        return *v;
    }

    std::optional<int64_t> optional_integer(std::string_view column) const {
        const auto& v = (*this)[column];
        if (v.is_null()) return std::nullopt;
        if (v.is_number_integer()) return v.get<int64_t>();
        if (v.is_number_float()) {
            double d = v.get<double>();
            if (std::floor(d) == d && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
        } else if (v.is_string()) {
            const std::string& s = v.get_ref<const std::string&>();
            int64_t n = 0;
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
            if (ec == std::errc() && end == s.data() + s.size()) return n;
        }
        throw std::invalid_argument("column '" + std::string(column) + "' is not an integer");
    }
    std::optional<double> optional_real(std::string_view column) const {
        const auto& v = (*this)[column];
        if (v.is_null()) return std::nullopt;
        if (v.is_number()) return v.get<double>();
        if (v.is_string()) {
            try {
                std::size_t used = 0;
                double d = std::stod(v.get<std::string>(), &used);
                if (used == v.get_ref<const std::string&>().size()) return d;
            } catch (const std::exception&) {
            }
        }
        throw std::invalid_argument("column '" + std::string(column) + "' is not a number");
    }
    std::optional<std::string> optional_text(std::string_view column) const {
        const auto& v = (*this)[column];
        if (v.is_null()) return std::nullopt;
        if (v.is_string()) return v.get<std::string>();
        return v.dump();  // a number as its text
    }

  private:
    const std::vector<std::string>* columns_;
    const nlohmann::json* values_;
};

class ResultSet {
  public:
    ResultSet() = default;
    // From one {"columns", "rows"} object; throws std::invalid_argument otherwise.
    explicit ResultSet(nlohmann::json result) {
        if (!result.is_object() || !result["columns"].is_array() || !result["rows"].is_array())
            throw std::invalid_argument("not a result set");
        for (const auto& c : result["columns"])
            columns_.push_back(c.get<std::string>());
        rows_ = std::move(result["rows"]);
    }
    std::size_t size() const { return rows_.size(); }
    bool empty() const { return rows_.empty(); }
    Row operator[](std::size_t i) const { return Row(&columns_, &rows_.at(i)); }
    const std::vector<std::string>& columns() const { return columns_; }

    class iterator {
      public:
        iterator(const ResultSet* set, std::size_t i) : set_(set), i_(i) {}
        Row operator*() const { return (*set_)[i_]; }
        iterator& operator++() {
            ++i_;
            return *this;
        }
        bool operator!=(const iterator& o) const { return i_ != o.i_; }

      private:
        const ResultSet* set_;
        std::size_t i_;
    };
    iterator begin() const { return {this, 0}; }
    iterator end() const { return {this, rows_.size()}; }

  private:
    std::vector<std::string> columns_;
    nlohmann::json rows_ = nlohmann::json::array();
};

}  // namespace modelgate::sdk

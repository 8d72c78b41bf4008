// Small text helpers shared by every layer.
#pragma once

#include <string>
#include <string_view>

namespace modelgate::core {

// ASCII letters in lower case; other bytes as they are (header names, schemes).
std::string ascii_lower(std::string_view s);
// Without leading and trailing spaces and tabs.
std::string_view trim(std::string_view s);

}  // namespace modelgate::core

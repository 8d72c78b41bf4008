// Removes secrets from text before it is logged or stored: bearer tokens, API key
// shaped strings, and the values of sensitive JSON/header fields. Then bounds the
// length. Used for error details in request_logs and for every log line that
// carries outside text.
#pragma once

#include <string>
#include <string_view>

namespace modelgate::core {

std::string redact(std::string_view text, std::size_t max_len = 2000);
bool is_sensitive_name(std::string_view name);
// At most max_bytes of s, cut at a UTF-8 character boundary.
std::string clip_utf8(std::string_view s, std::size_t max_bytes);

}  // namespace modelgate::core

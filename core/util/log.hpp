// The gateway's own log: one line per event to stderr ("2026-11-26T13:45:00.123Z
// INFO  [proxy] message"), optionally mirrored to a file. Thread-safe; lines are
// never interleaved. Secrets must be passed through redact() by the caller.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace modelgate::core::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level level);
Level level();
bool parse_level(std::string_view text, Level& out);
// Mirrors every line to this file too (appending); empty disables.
bool set_file(const std::string& path);
void write(Level level, std::string_view component, std::string_view message);

inline bool enabled(Level l) {
    return static_cast<int>(l) >= static_cast<int>(level());
}

}  // namespace modelgate::core::log

#define MG_LOG(lvl, component, expr)                                                     \
    do {                                                                                 \
        if (::modelgate::core::log::enabled(::modelgate::core::log::Level::lvl)) {       \
            std::ostringstream mg_log_os_;                                               \
            mg_log_os_ << expr;                                                          \
            ::modelgate::core::log::write(::modelgate::core::log::Level::lvl, component, \
                                          mg_log_os_.str());                             \
        }                                                                                \
    } while (0)
#define MG_DEBUG(component, expr) MG_LOG(debug, component, expr)
#define MG_INFO(component, expr) MG_LOG(info, component, expr)
#define MG_WARN(component, expr) MG_LOG(warn, component, expr)
#define MG_ERROR(component, expr) MG_LOG(error, component, expr)

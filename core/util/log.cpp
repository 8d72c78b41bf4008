#include "util/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "util/time.hpp"

namespace modelgate::core::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mu;
std::FILE* g_file = nullptr;

const char* name(Level l) {
    switch (l) {
        case Level::debug:
            return "DEBUG";
        case Level::info:
            return "INFO ";
        case Level::warn:
            return "WARN ";
        case Level::error:
            return "ERROR";
    }
    return "?";
}
}  // namespace

void set_level(Level level) {
    g_level.store(static_cast<int>(level));
}
Level level() {
    return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}

bool parse_level(std::string_view text, Level& out) {
    std::string t;
    for (char c : text)
        t.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
    if (t == "DEBUG")
        out = Level::debug;
    else if (t == "INFO")
        out = Level::info;
    else if (t == "WARNING" || t == "WARN")
        out = Level::warn;
    else if (t == "ERROR")
        out = Level::error;
    else
        return false;
    return true;
}

bool set_file(const std::string& path) {
    std::lock_guard lock(g_mu);
    if (g_file != nullptr) std::fclose(g_file);
    g_file = nullptr;
    if (path.empty()) return true;
    g_file = std::fopen(path.c_str(), "a");
    return g_file != nullptr;
}

void write(Level level, std::string_view component, std::string_view message) {
    std::string line = iso8601_now();
    line.push_back(' ');
    line.append(name(level));
    line.append(" [").append(component).append("] ");
    for (char c : message)
        line.push_back(c == '\n' || c == '\r' ? ' ' : c);  // one event, one line
    line.push_back('\n');
    std::lock_guard lock(g_mu);
    std::fwrite(line.data(), 1, line.size(), stderr);
    if (g_file != nullptr) {
        std::fwrite(line.data(), 1, line.size(), g_file);
        std::fflush(g_file);
    }
}

}  // namespace modelgate::core::log

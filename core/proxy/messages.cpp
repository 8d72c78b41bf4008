#include "proxy/messages.hpp"

#include <string>

namespace modelgate::core::proxy {

namespace {

using nlohmann::json;

// The text of a system message: a string, or the text parts (and bare strings)
// of a list.
std::string system_text(const json& content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out;
    if (!content.is_array()) return out;
    for (const auto& part : content) {
        const std::string* text = nullptr;
        if (part.is_string()) {
            text = &part.get_ref<const std::string&>();
        } else if (part.is_object()) {
            auto t = part.find("text");
            if (t != part.end() && t->is_string() && part.value("type", "text") == "text")
                text = &t->get_ref<const std::string&>();
        }
        if (text == nullptr) continue;
        if (!out.empty()) out += "\n\n";
        out += *text;
    }
    return out;
}

bool is_role(const json& m, const char* role) {
    auto r = m.find("role");
    return r != m.end() && r->is_string() && r->get_ref<const std::string&>() == role;
}

bool mergeable(const json& m) {
    auto c = m.find("content");
    return c != m.end() && c->is_string() && !m.contains("tool_calls") &&
           !m.contains("tool_call_id");
}

bool merge_system(json& messages) {
    std::size_t systems = 0;
    for (const auto& m : messages)
        systems += is_role(m, "system") ? 1 : 0;
    if (systems < 2) return false;
    std::string text;
    json rest = json::array();
    for (auto& m : messages) {
        if (!is_role(m, "system")) {
            rest.push_back(std::move(m));
            continue;
        }
        std::string part = system_text(m.value("content", json()));
        if (part.empty()) continue;
        if (!text.empty()) text += "\n\n";
        text += part;
    }
    json merged = json::array();
    merged.push_back(json{{"role", "system"}, {"content", text}});
    for (auto& m : rest)
        merged.push_back(std::move(m));
    messages = std::move(merged);
    return true;
}

bool merge_consecutive(json& messages) {
    bool changed = false;
    json out = json::array();
    for (auto& m : messages) {
        if (!out.empty() && m.is_object()) {
            json& prev = out.back();
            if (prev.is_object() && prev.value("role", json()) == m.value("role", json()) &&
                mergeable(prev) && mergeable(m)) {
                // Appended in place: merging n messages stays linear in their size.
                prev["content"].get_ref<std::string&>().append("\n\n").append(
                    m["content"].get_ref<const std::string&>());
                changed = true;
                continue;
            }
        }
        out.push_back(std::move(m));
    }
    messages = std::move(out);
    return changed;
}

}  // namespace

bool preprocess_messages(json& messages, MergeRules rules) {
    if (!messages.is_array()) return false;
    bool changed = false;
    if (rules.merge_system) changed |= merge_system(messages);
    if (rules.merge_consecutive) changed |= merge_consecutive(messages);
    return changed;
}

}  // namespace modelgate::core::proxy

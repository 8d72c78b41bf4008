#include "thinking_patch.hpp"

#include <algorithm>
#include <cctype>

namespace modelgate::providers::deepseek {

namespace {

bool starts_with_icase(std::string_view s, std::string_view prefix) {
    if (prefix.empty() || s.size() < prefix.size()) return false;
    return std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
    });
}

// Python-style truthiness, as clients write these fields: null, false, "" and
// empty arrays or objects mean "not there".
bool present(const json& m, const char* key) {
    auto it = m.find(key);
    if (it == m.end() || it->is_null()) return false;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_string() || it->is_array() || it->is_object()) return !it->empty();
    return true;
}

bool has_role(const json& m, std::string_view role) {
    auto it = m.find("role");
    return it != m.end() && it->is_string() && it->get_ref<const std::string&>() == role;
}

}  // namespace

bool is_thinking_model(const ThinkingRules& rules, std::string_view model) {
    std::size_t slash = model.rfind('/');
    if (slash != std::string_view::npos) model.remove_prefix(slash + 1);
    return std::any_of(rules.model_prefixes.begin(), rules.model_prefixes.end(),
                       [&](const std::string& p) { return starts_with_icase(model, p); });
}

bool thinking_active(const ThinkingRules& rules, const json& body, std::string_view model) {
    if (rules.force) return true;
    if (body.is_object()) {
        auto thinking = body.find("thinking");
        if (thinking != body.end() && thinking->is_object()) {
            auto type = thinking->find("type");
            if (type != thinking->end() && type->is_string() &&
                type->get_ref<const std::string&>() == "enabled")
                return true;
        }
    }
    return is_thinking_model(rules, model);
}

std::size_t patch_assistant_history(json& messages) {
    if (!messages.is_array()) return 0;
    bool tool_context = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const json& m = messages[i];
        if (!m.is_object()) continue;
        if (has_role(m, "tool") || present(m, "tool_calls") || present(m, "tool_call_id"))
            tool_context = true;
        if (has_role(m, "user")) start = i + 1;
    }
    if (tool_context) start = 0;
    std::size_t patched = 0;
    for (std::size_t i = start; i < messages.size(); ++i) {
        json& m = messages[i];
        if (!m.is_object() || !has_role(m, "assistant")) continue;
        auto rc = m.find("reasoning_content");
        if (rc != m.end() && !rc->is_null()) continue;
        m["reasoning_content"] = "";
        ++patched;
    }
    return patched;
}

}  // namespace modelgate::providers::deepseek

#include "proxy/usage.hpp"

#include <cmath>

#include "util/json.hpp"

namespace modelgate::core::proxy {

namespace {

bool is_cjk(uint32_t cp) {
    return (cp >= 0x3040 && cp <= 0x30FF) ||  // kana
           (cp >= 0x3400 && cp <= 0x4DBF) ||  // CJK extension A
           (cp >= 0x4E00 && cp <= 0x9FFF) ||  // CJK unified
           (cp >= 0xAC00 && cp <= 0xD7AF) ||  // Hangul
           (cp >= 0xF900 && cp <= 0xFAFF) ||  // compatibility ideographs
           (cp >= 0xFF00 && cp <= 0xFFEF) ||  // full-width forms
           (cp >= 0x3000 && cp <= 0x303F) ||  // CJK punctuation
           (cp >= 0x20000 && cp <= 0x2FA1F);  // extensions B-F
}

std::optional<int64_t> int_field(const nlohmann::json& usage,
                                 std::initializer_list<const char*> names) {
    for (const char* n : names) {
        auto it = usage.find(n);
        if (it == usage.end()) continue;
        if (it->is_number_integer() || it->is_number_unsigned()) return it->get<int64_t>();
        if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
        if (it->is_string()) {
            const auto& s = it->get_ref<const std::string&>();
            if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos &&
                s.size() < 18)
                return std::stoll(s);
        }
    }
    return std::nullopt;
}

void collect_text(const nlohmann::json& j, double& units) {
    if (j.is_string()) {
        units += token_units(j.get_ref<const std::string&>());
    } else if (j.is_array()) {
        for (const auto& e : j)
            collect_text(e, units);
    } else if (j.is_object()) {
        for (const auto& [k, v] : j.items()) {
            if (k == "image_url" || k == "input_audio") {
                units += 85;  // a low-detail image costs about this much
                continue;
            }
            units += token_units(k) * 0.25;
            collect_text(v, units);
        }
    }
}

}  // namespace

double token_units(std::string_view text) {
    double units = 0;
    for (std::size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        uint32_t cp;
        std::size_t len;
        if (c < 0x80) {
            cp = c;
            len = 1;
        } else if ((c >> 5) == 0x6) {
            cp = c & 0x1F;
            len = 2;
        } else if ((c >> 4) == 0xE) {
            cp = c & 0x0F;
            len = 3;
        } else if ((c >> 3) == 0x1E) {
            cp = c & 0x07;
            len = 4;
        } else {
            ++i;
            units += 1;  // stray byte
            continue;
        }
        for (std::size_t k = 1; k < len && i + k < text.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        }
        i += len;
        if (cp < 0x80)
            units += 0.25;
        else if (is_cjk(cp))
            units += 1.0;
        else
            units += 0.5;
    }
    return units;
}

int64_t estimate_tokens(std::string_view text) {
    if (text.empty()) return 0;
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(token_units(text))));
}

int64_t estimate_prompt_tokens(std::string_view request_body) {
    auto j = parse_json(request_body);
    if (!j.is_object()) return estimate_tokens(request_body);
    double units = 0;
    bool any = false;
    for (const char* k : {"messages", "input", "prompt", "tools"}) {
        if (auto it = j.find(k); it != j.end()) {
            collect_text(*it, units);
            any = true;
        }
    }
    if (auto it = j.find("messages"); it != j.end() && it->is_array())
        units += 4.0 * static_cast<double>(it->size());
    if (!any) return estimate_tokens(request_body);
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(units)));
}

TokenCounts tokens_from_usage(const nlohmann::json& usage, int64_t prompt_estimate,
                              int64_t completion_estimate) {
    TokenCounts t;
    if (usage.is_object()) {
        t.prompt =
            int_field(usage, {"prompt_tokens", "input_tokens", "promptTokens", "inputTokens"});
        t.completion = int_field(
            usage, {"completion_tokens", "output_tokens", "completionTokens", "outputTokens"});
        t.total = int_field(usage, {"total_tokens", "totalTokens"});
    }
    if (!t.prompt) {
        if (t.total && t.completion) {
            t.prompt = std::max<int64_t>(0, *t.total - *t.completion);
        } else {
            t.prompt = prompt_estimate;
            t.estimated = true;
        }
    }
    if (!t.completion) {
        if (t.total) {
            t.completion = std::max<int64_t>(0, *t.total - *t.prompt);
        } else {
            t.completion = completion_estimate;
            t.estimated = true;
        }
    }
    if (!t.total) t.total = *t.prompt + *t.completion;
    return t;
}

}  // namespace modelgate::core::proxy

namespace modelgate::core::proxy {

double answer_units(std::string_view answer_body) {
    auto j = parse_json(answer_body);
    double units = 0;
    if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array()) return 0;
    for (const auto& c : j["choices"]) {
        if (!c.is_object() || !c.contains("message") || !c["message"].is_object()) continue;
        const auto& m = c["message"];
        for (const char* k : {"content", "reasoning_content"}) {
            if (m.contains(k) && m[k].is_string())
                units += token_units(m[k].get_ref<const std::string&>());
        }
        if (m.contains("tool_calls")) {
            collect_text(m["tool_calls"], units);
        }
    }
    return units;
}

}  // namespace modelgate::core::proxy

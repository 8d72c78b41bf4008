#include "ollama_answer.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace modelgate::ollama {

namespace {

const json* find(const json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::optional<int64_t> count(const json& answer, const char* key) {
    const json* v = find(answer, key);
    if (v == nullptr || !(v->is_number_integer() || v->is_number_unsigned())) return std::nullopt;
    return v->get<int64_t>();
}

std::string string_or(const json& object, const char* key, std::string_view fallback) {
    const json* v = find(object, key);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string(fallback);
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                     (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
        out += kBase64[(v >> 18) & 63];
        out += kBase64[(v >> 12) & 63];
        out += kBase64[(v >> 6) & 63];
        out += kBase64[v & 63];
    }
    if (i < bytes.size()) {
        uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
        out += kBase64[(v >> 18) & 63];
        out += kBase64[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? kBase64[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

}  // namespace

std::string stable_hex(std::string_view bytes) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4)
        out[static_cast<std::size_t>(i)] = kHex[h & 15];
    return out;
}

int64_t unix_seconds(std::string_view s) {
    int y, mo, d, h, mi, sec;
    if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
        !digits(s, 17, 2, sec))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return 0;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9')
            ++i;
    }
    int64_t offset = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        std::size_t colon = i + 3 < s.size() && s[i + 3] == ':' ? 1 : 0;
        if (!digits(s, i + 1, 2, oh) || !digits(s, i + 3 + colon, 2, om)) return 0;
        offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 5 + colon;
    } else {
        return 0;
    }
    if (i != s.size()) return 0;
    int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    return days * 86400 + h * 3600 + mi * 60 + sec - offset;
}

TokenCounts TokenCounts::of(const json& answer) {
    return {count(answer, "prompt_eval_count"), count(answer, "eval_count")};
}

json TokenCounts::for_client() const {
    int64_t p = prompt.value_or(0), c = completion.value_or(0);
    return {{"prompt_tokens", p}, {"completion_tokens", c}, {"total_tokens", p + c}};
}

json TokenCounts::for_core() const {
    json u = json::object();
    if (prompt) u["prompt_tokens"] = *prompt;
    if (completion) u["completion_tokens"] = *completion;
    if (complete()) u["total_tokens"] = *prompt + *completion;
    return u;
}

std::string finish_reason(const json& answer) {
    std::string reason = string_or(answer, "done_reason", "stop");
    return reason == "length" ? "length" : "stop";
}

json openai_tool_calls(const json& calls, std::string_view answer_hash,
                       std::optional<std::size_t> first_index) {
    json out = json::array();
    if (!calls.is_array()) return out;
    std::size_t next = first_index.value_or(0);
    for (const auto& call : calls) {
        const json* fn = call.is_object() ? find(call, "function") : nullptr;
        if (fn == nullptr || !fn->is_object()) continue;
        const json* args = find(*fn, "arguments");
        std::string arguments = args == nullptr ? "{}"
                                : args->is_string()
                                    ? args->get<std::string>()
                                    : args->dump(-1, ' ', false, json::error_handler_t::replace);
        std::string id = string_or(call, "id", "");
        if (id.empty())
            id = "call_" + stable_hex(std::string(answer_hash) + "/" + std::to_string(next));
        json converted = {
            {"id", id},
            {"type", "function"},
            {"function", {{"name", string_or(*fn, "name", "")}, {"arguments", arguments}}}};
        if (first_index) converted["index"] = next;
        out.push_back(std::move(converted));
        ++next;
    }
    return out;
}

json chat_completion(const json& answer, std::string_view answer_hash,
                     std::string_view fallback_model) {
    const json* message = find(answer, "message");
    if (message == nullptr || !message->is_object())
        throw std::runtime_error("the Ollama chat answer has no 'message' object");
    std::string content = string_or(*message, "content", "");
    std::string thinking = string_or(*message, "thinking", "");
    json calls = json::array();
    if (const json* tc = find(*message, "tool_calls"))
        calls = openai_tool_calls(*tc, answer_hash, {});

    json out_message = {{"role", "assistant"}};
    // OpenAI sends null content next to tool calls.
    out_message["content"] = content.empty() && !calls.empty() ? json(nullptr) : json(content);
    if (!thinking.empty()) out_message["reasoning_content"] = thinking;
    if (!calls.empty()) out_message["tool_calls"] = calls;

    return {
        {"id", std::string("chatcmpl-") + std::string(answer_hash)},
        {"object", "chat.completion"},
        {"created", unix_seconds(string_or(answer, "created_at", ""))},
        {"model", string_or(answer, "model", fallback_model)},
        {"choices", json::array({{{"index", 0},
                                  {"message", std::move(out_message)},
                                  {"logprobs", nullptr},
                                  {"finish_reason", calls.empty() ? finish_reason(answer)
                                                                  : std::string("tool_calls")}}})},
        {"usage", TokenCounts::of(answer).for_client()}};
}

std::string base64_float32(const json& numbers) {
    std::string bytes;
    bytes.reserve(numbers.size() * 4);
    for (const auto& n : numbers) {
        auto f = static_cast<float>(n.get<double>());
        uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
        char le[4];
        std::memcpy(le, &bits, sizeof le);
        bytes.append(le, sizeof le);
    }
    return base64(bytes);
}

json embedding_list(const json& answer, std::string_view encoding,
                    std::string_view fallback_model) {
    const json* embeddings = find(answer, "embeddings");
    if (embeddings == nullptr || !embeddings->is_array())
        throw std::runtime_error("the Ollama embeddings answer has no 'embeddings' array");
    json data = json::array();
    for (std::size_t i = 0; i < embeddings->size(); ++i) {
        const json& e = (*embeddings)[i];
        if (!e.is_array() ||
            !std::all_of(e.begin(), e.end(), [](const json& n) { return n.is_number(); }))
            throw std::runtime_error("an Ollama embedding is not an array of numbers");
        data.push_back({{"object", "embedding"},
                        {"index", i},
                        {"embedding", encoding == "base64" ? json(base64_float32(e)) : e}});
    }
    int64_t prompt = count(answer, "prompt_eval_count").value_or(0);
    return {{"object", "list"},
            {"data", std::move(data)},
            {"model", string_or(answer, "model", fallback_model)},
            {"usage", {{"prompt_tokens", prompt}, {"total_tokens", prompt}}}};
}

json embedding_usage_for_core(const json& answer) {
    auto prompt = count(answer, "prompt_eval_count");
    if (!prompt) return json::object();
    return {{"prompt_tokens", *prompt}, {"total_tokens", *prompt}};
}

json model_list(const json& tags, std::string_view owned_by) {
    const json* models = find(tags, "models");
    if (models == nullptr || !models->is_array())
        throw std::runtime_error("the Ollama model list has no 'models' array");
    json data = json::array();
    for (const auto& m : *models) {
        if (!m.is_object()) continue;
        std::string id = string_or(m, "name", string_or(m, "model", ""));
        if (id.empty()) continue;
        data.push_back({{"id", id},
                        {"object", "model"},
                        {"created", unix_seconds(string_or(m, "modified_at", ""))},
                        {"owned_by", owned_by}});
    }
    return {{"object", "list"}, {"data", std::move(data)}};
}

}  // namespace modelgate::ollama

#include "acme_wire.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace acme {

using modelgate::sdk::InvalidRequest;

namespace {

// Larger token counts are not real; refusing them keeps the sums below exact.
constexpr int64_t kMaxTokenCount = 1'000'000'000'000;

// The text of an OpenAI message content: a string, or an array of text parts.
std::string content_text(const json& content) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) {
        throw InvalidRequest("message content must be a string or an array of text parts");
    }
    std::string text;
    for (const auto& part : content) {
        auto type = part.is_object() ? string_member(part, "type") : std::nullopt;
        auto part_text = part.is_object() ? string_member(part, "text") : std::nullopt;
        if (type != "text" || !part_text) throw InvalidRequest("Acme accepts text content only");
        text += *part_text;
    }
    return text;
}

// Copies an optional number (temperature, top_p) into the Acme body.
void copy_number(const json& from, json& to, const char* key) {
    auto it = from.find(key);
    if (it == from.end() || it->is_null()) return;
    if (!it->is_number()) throw InvalidRequest(std::string(key) + " must be a number");
    to[key] = *it;
}

int64_t max_tokens(const json& request, int64_t fallback) {
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
        auto it = request.find(key);
        if (it == request.end() || it->is_null()) continue;
        auto value = integer_member(request, key);
        if (!value || *value < 1) throw InvalidRequest(std::string(key) + " must be at least 1");
        return *value;
    }
    return fallback;
}

const char* openai_error_type(ErrorClass c) {
    switch (c) {
        case ErrorClass::invalid_request:
            return "invalid_request_error";
        case ErrorClass::auth:
            return "authentication_error";
        case ErrorClass::permission:
            return "permission_error";
        case ErrorClass::not_found:
            return "not_found_error";
        case ErrorClass::rate_limited:
            return "rate_limit_error";
        case ErrorClass::quota:
            return "insufficient_quota";
        default:
            return "upstream_error";
    }
}

}  // namespace

std::optional<std::string> string_member(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

std::optional<int64_t> integer_member(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number_integer()) return std::nullopt;
    if (it->is_number_unsigned() &&
        it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return std::nullopt;
    }
    return it->get<int64_t>();
}

json to_acme_request(const json& openai, std::string_view model, int64_t default_max_tokens,
                     bool stream) {
    auto messages = openai.find("messages");
    if (messages == openai.end() || !messages->is_array() || messages->empty()) {
        throw InvalidRequest("messages must be a non-empty array");
    }
    if (auto tools = openai.find("tools");
        tools != openai.end() && !tools->is_null() && !(tools->is_array() && tools->empty())) {
        throw InvalidRequest("Acme does not support tools");
    }
    if (auto n = integer_member(openai, "n"); n && *n != 1) {
        throw InvalidRequest("Acme returns one choice; n must be 1");
    }

    std::string system;
    json turns = json::array();
    for (const auto& message : *messages) {
        if (!message.is_object()) throw InvalidRequest("every message must be an object");
        std::string role = string_member(message, "role").value_or("");
        auto content = message.find("content");
        if (content == message.end() || content->is_null()) {
            throw InvalidRequest("every message needs a content (Acme has no tool calls)");
        }
        std::string text = content_text(*content);
        if (role == "system" || role == "developer") {
            if (!system.empty()) system += "\n\n";
            system += text;
        } else if (role == "user" || role == "assistant") {
            turns.push_back({{"speaker", role == "user" ? "user" : "model"}, {"text", text}});
        } else {
            throw InvalidRequest("Acme has no '" + role + "' messages");
        }
    }
    if (turns.empty()) throw InvalidRequest("at least one user message is required");

    json body = json::object();
    body["model"] = model;
    if (!system.empty()) body["system"] = system;
    body["turns"] = std::move(turns);
    body["max_tokens"] = max_tokens(openai, default_max_tokens);
    copy_number(openai, body, "temperature");
    copy_number(openai, body, "top_p");
    if (auto stop = openai.find("stop"); stop != openai.end() && !stop->is_null()) {
        if (stop->is_string()) {
            body["stop"] = json::array({*stop});
        } else if (stop->is_array() && std::all_of(stop->begin(), stop->end(),
                                                   [](const json& s) { return s.is_string(); })) {
            body["stop"] = *stop;
        } else {
            throw InvalidRequest("stop must be a string or an array of strings");
        }
    }
    body["stream"] = stream;
    return body;
}

std::string finish_reason(const json& stop) {
    if (!stop.is_string()) return "stop";
    const auto& s = stop.get_ref<const std::string&>();
    if (s == "max_tokens") return "length";
    if (s == "safety") return "content_filter";
    return "stop";  // end_turn, stop_sequence, and anything newer
}

std::optional<json> to_openai_usage(const json& usage) {
    if (!usage.is_object()) return std::nullopt;
    auto input = integer_member(usage, "input");
    auto output = integer_member(usage, "output");
    if (!input || !output || *input < 0 || *output < 0 || *input > kMaxTokenCount ||
        *output > kMaxTokenCount) {
        return std::nullopt;
    }
    return json{{"prompt_tokens", *input},
                {"completion_tokens", *output},
                {"total_tokens", *input + *output}};
}

json to_openai_completion(const json& answer, std::string_view fallback_model) {
    auto text = string_member(answer, "text");
    if (!text) throw std::runtime_error("the Acme answer has no text");
    auto stop = answer.find("stop");

    json message = {{"role", "assistant"}, {"content", *text}};
    json choice = {{"index", 0},
                   {"message", std::move(message)},
                   {"finish_reason", finish_reason(stop != answer.end() ? *stop : json())}};
    json out = {{"id", "chatcmpl-" + string_member(answer, "id").value_or("acme")},
                {"object", "chat.completion"},
                {"created", integer_member(answer, "created").value_or(0)},
                {"model", string_member(answer, "model").value_or(std::string(fallback_model))}};
    out["choices"] = json::array({std::move(choice)});
    if (auto usage = answer.find("usage"); usage != answer.end()) {
        if (auto u = to_openai_usage(*usage)) out["usage"] = std::move(*u);
    }
    return out;
}

json to_openai_models(const json& list, std::string_view owned_by) {
    auto models = list.find("models");
    if (models == list.end() || !models->is_array()) {
        throw std::runtime_error("the Acme model list has no models array");
    }
    json out = {{"object", "list"}, {"data", json::array()}};
    for (const auto& item : *models) {
        if (!item.is_object()) continue;
        auto name = string_member(item, "name");
        if (!name || name->empty()) continue;
        json m = {{"id", *name}, {"object", "model"}, {"owned_by", owned_by}};
        if (auto created = integer_member(item, "created")) m["created"] = *created;
        if (auto context = integer_member(item, "context_window")) m["context_length"] = *context;
        out["data"].push_back(std::move(m));
    }
    return out;
}

std::optional<ErrorClass> error_class_of(std::string_view type) {
    if (type == "invalid_request") return ErrorClass::invalid_request;
    if (type == "bad_key") return ErrorClass::auth;
    if (type == "forbidden") return ErrorClass::permission;
    if (type == "not_found") return ErrorClass::not_found;
    if (type == "rate_limited") return ErrorClass::rate_limited;
    if (type == "quota_exhausted") return ErrorClass::quota;
    if (type == "overloaded") return ErrorClass::retryable;
    return std::nullopt;
}

json to_openai_error(const json& acme_error, ErrorClass error_class) {
    std::string message = "Acme reported an error";
    std::string code = "upstream_error";
    if (acme_error.is_object()) {
        message = string_member(acme_error, "message").value_or(message);
        code = string_member(acme_error, "type").value_or(code);
    } else if (acme_error.is_string()) {
        message = acme_error.get<std::string>();
    }
    return modelgate::sdk::make_error(message, openai_error_type(error_class), code);
}

}  // namespace acme

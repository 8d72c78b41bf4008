#include "minimax_answer.hpp"

namespace modelgate::providers::minimax {

namespace {

void rtrim(std::string& s) {
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
        s.pop_back();
}

}  // namespace

int64_t choice_index(const json& choice) {
    auto it = choice.find("index");
    return it != choice.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

RequestContext::RequestContext(std::string_view request_body) : ids_(request_body) {
    if (request_body.find("\"tools\"") != std::string_view::npos)
        tools_source_.assign(request_body);
}

const ToolSchemas& RequestContext::schemas() {
    if (!schemas_) {
        schemas_ = std::make_unique<ToolSchemas>(ToolSchemas::from_request(tools_source_));
        tools_source_.clear();
        tools_source_.shrink_to_fit();
    }
    return *schemas_;
}

std::string reasoning_details_text(const json& details) {
    std::string text;
    if (!details.is_array()) return text;
    for (const auto& d : details) {
        if (!d.is_object()) continue;
        auto t = d.find("text");
        if (t != d.end() && t->is_string()) text += t->get_ref<const std::string&>();
    }
    return text;
}

bool is_real_usage(const json& usage) {
    if (!usage.is_object()) return false;
    for (const char* key : {"prompt_tokens", "completion_tokens", "total_tokens"}) {
        auto it = usage.find(key);
        if (it != usage.end() && it->is_number() && it->get<double>() > 0) return true;
    }
    return false;
}

bool normalize_answer(json& answer, RequestContext& request) {
    auto choices = answer.find("choices");
    if (choices == answer.end() || !choices->is_array()) return false;
    std::string response_id =
        answer.contains("id") && answer["id"].is_string() ? answer["id"].get<std::string>() : "";
    bool changed = false;
    for (auto& choice : *choices) {
        if (!choice.is_object()) continue;
        auto message = choice.find("message");
        if (message == choice.end() || !message->is_object()) continue;
        json& msg = *message;
        int64_t index = choice_index(choice);

        std::string reasoning;
        if (auto rc = msg.find("reasoning_content"); rc != msg.end() && rc->is_string())
            reasoning = rc->get<std::string>();
        bool reasoning_changed = false;
        if (reasoning.empty()) {
            if (auto rd = msg.find("reasoning_details"); rd != msg.end()) {
                reasoning = reasoning_details_text(*rd);
                reasoning_changed = !reasoning.empty();
            }
        }

        auto content_it = msg.find("content");
        if (content_it == msg.end() || !content_it->is_string()) {
            if (reasoning_changed) {
                msg["reasoning_content"] = reasoning;
                changed = true;
            }
            continue;
        }
        const std::string& content = content_it->get_ref<const std::string&>();
        std::vector<Segment> segments;
        MarkupScanner scanner;
        scanner.feed(content, segments);
        scanner.finish(segments);
        bool plain = segments.empty()
                         ? content.empty()
                         : segments.size() == 1 && segments[0].kind == SegmentKind::content &&
                               segments[0].text == content;
        if (plain) {
            if (reasoning_changed) {
                msg["reasoning_content"] = reasoning;
                changed = true;
            }
            continue;
        }

        std::string text;
        json calls = json::array();
        int64_t ordinal = 0;
        if (auto native = msg.find("tool_calls"); native != msg.end() && native->is_array())
            calls = *native;
        bool parsed_calls = false;
        for (const auto& seg : segments) {
            switch (seg.kind) {
                case SegmentKind::content:
                    text += seg.text;
                    break;
                case SegmentKind::reasoning:
                    reasoning += seg.text;
                    break;
                case SegmentKind::tool_block: {
                    auto parsed = parse_tool_block(seg.text, request.schemas());
                    if (parsed.empty()) {
                        text += seg.text;  // not tool calls after all: keep it as text
                        break;
                    }
                    for (auto& call : parsed) {
                        std::string id = request.ids().make(response_id, index, ordinal++,
                                                            call.name, call.arguments);
                        calls.push_back({{"id", std::move(id)},
                                         {"type", "function"},
                                         {"function",
                                          {{"name", std::move(call.name)},
                                           {"arguments", std::move(call.arguments)}}}});
                    }
                    parsed_calls = true;
                    break;
                }
            }
        }
        if (!reasoning.empty()) msg["reasoning_content"] = reasoning;
        if (parsed_calls) {
            rtrim(text);
            msg["content"] = text.empty() ? json(nullptr) : json(text);
            msg["tool_calls"] = std::move(calls);
            choice["finish_reason"] = "tool_calls";
        } else {
            msg["content"] = text;
        }
        changed = true;
    }
    return changed;
}

}  // namespace modelgate::providers::minimax

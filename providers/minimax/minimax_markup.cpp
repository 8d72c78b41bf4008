#include "minimax_markup.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <modelgate/json_limits.hpp>

namespace modelgate::providers::minimax {

namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kToolOpen = "<minimax:tool_call>";
constexpr std::string_view kToolClose = "</minimax:tool_call>";
constexpr std::string_view kInvokeOpen = "<invoke";
constexpr std::string_view kInvokeClose = "</invoke>";
constexpr std::string_view kParamOpen = "<parameter";
constexpr std::string_view kParamClose = "</parameter>";

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// s is a proper prefix of tag: the rest of the tag may still arrive.
bool partial_tag(std::string_view s, std::string_view tag) {
    return s.size() < tag.size() && tag.substr(0, s.size()) == s;
}

void push(std::vector<Segment>& out, SegmentKind kind, std::string_view text) {
    if (text.empty()) return;
    if (kind != SegmentKind::tool_block && !out.empty() && out.back().kind == kind) {
        out.back().text.append(text);
    } else {
        out.push_back({kind, std::string(text)});
    }
}

// The value of `name=...` in an element's attribute text (` name="get_weather"`).
std::string attribute_name(std::string_view attrs) {
    attrs = trim(attrs);
    if (attrs.substr(0, 4) != "name") return {};
    attrs = trim(attrs.substr(4));
    if (attrs.empty() || attrs.front() != '=') return {};
    attrs = trim(attrs.substr(1));
    if (!attrs.empty() && (attrs.front() == '"' || attrs.front() == '\'')) {
        char quote = attrs.front();
        attrs.remove_prefix(1);
        std::size_t end = attrs.find(quote);
        return std::string(trim(attrs.substr(0, end)));
    }
    std::size_t end = 0;
    while (end < attrs.size() && !is_space(attrs[end]) && attrs[end] != '/')
        ++end;
    return std::string(attrs.substr(0, end));
}

// Finds `<tag` followed by whitespace or '>' (so "<invoked" is no "<invoke").
std::size_t find_element(std::string_view s, std::string_view open, std::size_t from) {
    while ((from = s.find(open, from)) != std::string_view::npos) {
        std::size_t next = from + open.size();
        if (next < s.size() && (is_space(s[next]) || s[next] == '>')) return from;
        from = next;
    }
    return std::string_view::npos;
}

std::vector<std::string> schema_types(const json* schema) {
    std::vector<std::string> types;
    if (schema == nullptr || !schema->is_object()) return types;
    auto add = [&types](const json& t) {
        if (t.is_string()) {
            types.push_back(t.get<std::string>());
        } else if (t.is_array()) {
            for (const auto& x : t)
                if (x.is_string()) types.push_back(x.get<std::string>());
        }
    };
    if (auto t = schema->find("type"); t != schema->end()) add(*t);
    for (const char* key : {"anyOf", "oneOf"}) {
        auto alts = schema->find(key);
        if (alts == schema->end() || !alts->is_array()) continue;
        for (const auto& alt : *alts)
            if (alt.is_object() && alt.contains("type")) add(alt["type"]);
    }
    return types;
}

bool coerce_as(const std::string& type, std::string_view text, ordered_json& out) {
    if (type == "boolean") {
        std::string lower(text);
        for (auto& c : lower)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (lower == "true" || lower == "false") {
            out = lower == "true";
            return true;
        }
        return false;
    }
    if (type == "null") {
        if (text != "null") return false;
        out = nullptr;
        return true;
    }
    ordered_json parsed = modelgate::sdk::parse_json<ordered_json>(text);
    if (parsed.is_discarded()) return false;
    if (type == "integer") {
        if (parsed.is_number_integer()) {
            out = std::move(parsed);
            return true;
        }
        if (parsed.is_number_float()) {
            double d = parsed.get<double>();
            if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) {
                out = static_cast<int64_t>(d);
                return true;
            }
        }
        return false;
    }
    if ((type == "number" && parsed.is_number()) || (type == "object" && parsed.is_object()) ||
        (type == "array" && parsed.is_array())) {
        out = std::move(parsed);
        return true;
    }
    return false;
}

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t fnv1a(uint64_t h, std::string_view s) {
    for (unsigned char c : s) {
        h ^= c;
        h *= kFnvPrime;
    }
    return h;
}

uint64_t fnv1a_number(uint64_t h, uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        h ^= (v >> (i * 8)) & 0xffu;
        h *= kFnvPrime;
    }
    return h;
}

uint64_t mix(uint64_t x) {  // splitmix64's finalizer
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

}  // namespace

// ---------------------------------------------------------------------------
// MarkupScanner
// ---------------------------------------------------------------------------

void MarkupScanner::emit_text(std::string_view text, std::vector<Segment>& out) {
    if (skip_space_) {
        while (!text.empty() && is_space(text.front()))
            text.remove_prefix(1);
        if (text.empty()) return;
        skip_space_ = false;
    }
    push(out, SegmentKind::content, text);
}

void MarkupScanner::emit_reasoning(std::string_view text, std::vector<Segment>& out) {
    if (skip_space_) {
        while (!text.empty() && is_space(text.front()))
            text.remove_prefix(1);
        if (text.empty()) return;
        skip_space_ = false;
    }
    // Trailing whitespace waits: it is dropped if `</think>` comes next.
    std::size_t end = text.size();
    while (end > 0 && is_space(text[end - 1]))
        --end;
    if (end == 0) {
        reasoning_space_.append(text);
        return;
    }
    if (!reasoning_space_.empty()) {
        push(out, SegmentKind::reasoning, reasoning_space_);
        reasoning_space_.clear();
    }
    push(out, SegmentKind::reasoning, text.substr(0, end));
    reasoning_space_.assign(text.substr(end));
}

void MarkupScanner::feed(std::string_view piece, std::vector<Segment>& out) {
    std::string buf;
    std::string_view in = piece;
    if (!held_.empty()) {
        buf = std::move(held_);
        held_.clear();
        buf.append(piece);
        in = buf;
    }
    while (!in.empty()) {
        if (mode_ == Mode::tool) {
            block_.append(in);
            std::size_t at = block_.find(kToolClose, scan_from_);
            if (at == std::string::npos) {
                if (block_.size() > kMaxBlockBytes) {
                    // Never closed within reason: it was text after all.
                    push(out, SegmentKind::content, block_);
                    block_.clear();
                    mode_ = Mode::text;
                    return;
                }
                scan_from_ = block_.size() - std::min(block_.size(), kToolClose.size() - 1);
                return;
            }
            std::size_t end = at + kToolClose.size();
            std::string rest = block_.substr(end);
            block_.resize(end);
            push(out, SegmentKind::tool_block, block_);
            block_.clear();
            mode_ = Mode::text;
            skip_space_ = true;
            buf = std::move(rest);
            in = buf;
            continue;
        }
        std::size_t lt = in.find('<');
        if (mode_ == Mode::text) {
            emit_text(in.substr(0, lt), out);
        } else {
            emit_reasoning(in.substr(0, lt), out);
        }
        if (lt == std::string_view::npos) return;
        std::string_view rest = in.substr(lt);
        if (mode_ == Mode::text) {
            if (rest.substr(0, kThinkOpen.size()) == kThinkOpen) {
                mode_ = Mode::think;
                skip_space_ = true;
                reasoning_space_.clear();
                in = rest.substr(kThinkOpen.size());
                continue;
            }
            if (rest.substr(0, kToolOpen.size()) == kToolOpen) {
                mode_ = Mode::tool;
                block_.assign(kToolOpen);
                scan_from_ = block_.size();
                in = rest.substr(kToolOpen.size());
                continue;
            }
            if (partial_tag(rest, kThinkOpen) || partial_tag(rest, kToolOpen)) {
                held_.assign(rest);
                return;
            }
            emit_text("<", out);
        } else {
            if (rest.substr(0, kThinkClose.size()) == kThinkClose) {
                mode_ = Mode::text;
                reasoning_space_.clear();
                skip_space_ = true;
                in = rest.substr(kThinkClose.size());
                continue;
            }
            if (partial_tag(rest, kThinkClose)) {
                held_.assign(rest);
                return;
            }
            emit_reasoning("<", out);
        }
        in = rest.substr(1);
    }
}

void MarkupScanner::finish(std::vector<Segment>& out) {
    switch (mode_) {
        case Mode::text:
            emit_text(held_, out);
            break;
        case Mode::think:
            emit_reasoning(held_, out);
            break;
        case Mode::tool:
            push(out, SegmentKind::content, block_);
            break;
    }
    mode_ = Mode::text;
    held_.clear();
    block_.clear();
    scan_from_ = 0;
    reasoning_space_.clear();
    skip_space_ = false;
}

// ---------------------------------------------------------------------------
// Tool schemas and tool-call blocks
// ---------------------------------------------------------------------------

ToolSchemas ToolSchemas::from_request(std::string_view body) {
    ToolSchemas out;
    json::parser_callback_t only_tools = [](int depth, json::parse_event_t event, json& parsed) {
        if (depth == 1 && event == json::parse_event_t::key) return parsed == "tools";
        return true;
    };
    if (!modelgate::sdk::json_depth_ok(body)) return out;
    json request = json::parse(body, only_tools, false);
    if (!request.is_object()) return out;
    auto tools = request.find("tools");
    if (tools == request.end() || !tools->is_array()) return out;
    for (const auto& tool : *tools) {
        if (!tool.is_object()) continue;
        const json& fn =
            tool.contains("function") && tool["function"].is_object() ? tool["function"] : tool;
        auto name = fn.find("name");
        auto params = fn.find("parameters");
        if (name == fn.end() || !name->is_string() || params == fn.end() || !params->is_object())
            continue;
        auto props = params->find("properties");
        if (props == params->end() || !props->is_object()) continue;
        out.by_name_[name->get<std::string>()] = *props;
    }
    return out;
}

const json* ToolSchemas::parameter(std::string_view function, std::string_view name) const {
    auto fn = by_name_.find(std::string(function));
    if (fn == by_name_.end()) return nullptr;
    auto p = fn->find(std::string(name));
    return p == fn->end() ? nullptr : &*p;
}

ordered_json coerce_value(std::string_view raw, const json* schema) {
    std::string_view text = trim(raw);
    std::vector<std::string> types = schema_types(schema);
    ordered_json out;
    if (types.empty()) {
        out = modelgate::sdk::parse_json<ordered_json>(text);
        if (!out.is_discarded()) return out;
        return ordered_json(std::string(text));
    }
    auto declared = [&types](std::string_view t) {
        return std::find(types.begin(), types.end(), t) != types.end();
    };
    // A string is always a valid reading when "string" is declared (only a
    // literal null may be meant as null); otherwise the declared types are
    // tried in order, and a value that fits none keeps its text.
    if (declared("string")) {
        if (declared("null") && coerce_as("null", text, out)) return out;
        return ordered_json(std::string(text));
    }
    for (const auto& type : types) {
        if (coerce_as(type, text, out)) return out;
    }
    return ordered_json(std::string(text));
}

std::vector<ToolCall> parse_tool_block(std::string_view block, const ToolSchemas& schemas) {
    std::vector<ToolCall> calls;
    std::size_t pos = 0;
    while ((pos = find_element(block, kInvokeOpen, pos)) != std::string_view::npos) {
        std::size_t gt = block.find('>', pos);
        if (gt == std::string_view::npos) break;
        std::string name =
            attribute_name(block.substr(pos + kInvokeOpen.size(), gt - pos - kInvokeOpen.size()));
        std::size_t end = block.find(kInvokeClose, gt);
        // An unclosed invoke runs to the end of the block.
        std::size_t body_end = end != std::string_view::npos ? end : block.find(kToolClose, gt);
        if (body_end == std::string_view::npos) body_end = block.size();
        std::string_view body = block.substr(gt + 1, body_end - gt - 1);
        pos = end != std::string_view::npos ? end + kInvokeClose.size() : body_end;
        if (name.empty()) continue;

        ordered_json args = ordered_json::object();
        std::size_t p = 0;
        while ((p = find_element(body, kParamOpen, p)) != std::string_view::npos) {
            std::size_t pgt = body.find('>', p);
            if (pgt == std::string_view::npos) break;
            std::string param =
                attribute_name(body.substr(p + kParamOpen.size(), pgt - p - kParamOpen.size()));
            std::size_t pend = body.find(kParamClose, pgt);
            std::size_t vend = pend != std::string_view::npos ? pend : body.size();
            std::string_view value = body.substr(pgt + 1, vend - pgt - 1);
            p = pend != std::string_view::npos ? pend + kParamClose.size() : body.size();
            if (param.empty()) continue;
            args[param] = coerce_value(value, schemas.parameter(name, param));
        }
        calls.push_back(
            {std::move(name), args.dump(-1, ' ', false, json::error_handler_t::replace)});
    }
    return calls;
}

// ---------------------------------------------------------------------------
// Call ids
// ---------------------------------------------------------------------------

CallIdMaker::CallIdMaker(std::string_view request_body) {
    // The request's head and tail are enough to tell conversations apart
    // (a conversation grows at its end) without hashing megabytes per call.
    constexpr std::size_t kSpan = 4096;
    uint64_t h = fnv1a_number(kFnvOffset, request_body.size());
    h = fnv1a(h, request_body.substr(0, kSpan));
    if (request_body.size() > kSpan)
        h = fnv1a(h, request_body.substr(request_body.size() -
                                         std::min(kSpan, request_body.size() - kSpan)));
    seed_ = h;
}

std::string CallIdMaker::make(std::string_view response_id, int64_t choice, int64_t ordinal,
                              std::string_view name, std::string_view arguments) const {
    uint64_t h = fnv1a_number(seed_, static_cast<uint64_t>(choice));
    h = fnv1a_number(h, static_cast<uint64_t>(ordinal));
    h = fnv1a(fnv1a_number(h, response_id.size()), response_id);
    h = fnv1a(fnv1a_number(h, name.size()), name);
    h = fnv1a(h, arguments);
    uint64_t a = mix(h);
    uint64_t b = mix(h ^ 0x9e3779b97f4a7c15ull);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b >> 32));
    return "call_" + std::string(buf, 24);
}

}  // namespace modelgate::providers::minimax

#include "minimax_stream.hpp"

#include <algorithm>
#include <modelgate/json_limits.hpp>
#include <modelgate/openai.hpp>

#include "minimax_errors.hpp"

namespace modelgate::providers::minimax {

using sdk::json;

namespace {

// Would merging piece into delta overwrite one of delta's members?
bool collides(const json& delta, const json& piece) {
    for (const auto& [key, value] : piece.items()) {
        (void)value;
        if (delta.contains(key)) return true;
    }
    return false;
}

}  // namespace

void StreamDecoder::feed(std::string_view bytes, sdk::EventSink& sink) {
    if (finished_) return;
    if (!parser_.feed(bytes, [&](const sdk::SseEvent& ev) { on_event(ev.data, sink); }) &&
        !finished_) {
        fail(sink, sdk::make_error("upstream stream event exceeds the size limit", "upstream_error",
                                   "stream_event_too_large"));
    }
}

void StreamDecoder::finish(sdk::EventSink& sink) {
    if (finished_) return;
    parser_.finish([&](const sdk::SseEvent& ev) { on_event(ev.data, sink); });
    if (finished_) return;
    if (saw_finish_reason_) {
        complete(sink);  // the answer is complete; only the [DONE] marker was missing
    } else {
        fail(sink, sdk::make_error("upstream closed the stream before the answer was complete",
                                   "upstream_error", "stream_truncated"));
    }
}

void StreamDecoder::fail(sdk::EventSink& sink, const json& error) {
    finished_ = true;
    sink.error(error);
}

void StreamDecoder::on_event(std::string_view data, sdk::EventSink& sink) {
    if (finished_) return;
    while (!data.empty() && (data.back() == ' ' || data.back() == '\n' || data.back() == '\r'))
        data.remove_suffix(1);
    while (!data.empty() && data.front() == ' ')
        data.remove_prefix(1);
    if (data.empty()) return;
    if (data == "[DONE]") {
        complete(sink);
        return;
    }
    json chunk = modelgate::sdk::parse_json(data);
    if (!chunk.is_object()) {
        fail(sink, sdk::make_error("upstream sent a stream event that is not a JSON object",
                                   "upstream_error", "invalid_stream_event"));
        return;
    }
    if (auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
        fail(sink, sdk::openai::normalize_error(*err));
        return;
    }
    if (auto br = base_resp_error(chunk)) {
        fail(sink, error_object(*br));
        return;
    }
    on_chunk(chunk, sink);
}

void StreamDecoder::on_chunk(json& chunk, sdk::EventSink& sink) {
    json base = json::object();
    for (auto it = chunk.begin(); it != chunk.end(); ++it) {
        if (it.key() != "choices" && it.key() != "usage") base[it.key()] = it.value();
    }
    // MiniMax closes its streams with a whole chat.completion frame.
    if (auto obj = base.find("object"); obj != base.end() && *obj == "chat.completion")
        *obj = "chat.completion.chunk";
    if (response_id_.empty() && base.contains("id") && base["id"].is_string())
        response_id_ = base["id"].get<std::string>();
    base_ = base;

    if (auto usage = chunk.find("usage"); usage != chunk.end() && is_real_usage(*usage)) {
        sink.usage(*usage);
        usage_ = *usage;
        usage_base_ = base;
    }
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array()) return;
    for (auto& choice : *choices) {
        if (choice.is_object()) on_choice(base, choice, sink);
    }
}

std::string StreamDecoder::details_increment(ChoiceState& st, const std::string& text) {
    using Details = ChoiceState::Details;
    if (text.empty()) return {};
    switch (st.details) {
        case Details::incremental:
            return text;
        case Details::cumulative:
            if (text.size() >= st.details_text.size() &&
                text.compare(0, st.details_text.size(), st.details_text) == 0) {
                std::string increment = text.substr(st.details_text.size());
                st.details_text = text;
                return increment;
            }
            st.details_text += text;
            return text;
        case Details::unknown:
            break;
    }
    if (st.details_text.empty()) {
        st.details_text = text;
        return text;
    }
    if (text.size() > st.details_text.size() &&
        text.compare(0, st.details_text.size(), st.details_text) == 0) {
        st.details = Details::cumulative;
        std::string increment = text.substr(st.details_text.size());
        st.details_text = text;
        return increment;
    }
    st.details = Details::incremental;
    st.details_text.clear();
    return text;
}

void StreamDecoder::segment_deltas(ChoiceState& st, int64_t index, Segment& seg,
                                   std::vector<json>& deltas, sdk::EventSink& sink) {
    switch (seg.kind) {
        case SegmentKind::content:
            sink.text(seg.text);
            deltas.push_back({{"content", std::move(seg.text)}});
            return;
        case SegmentKind::reasoning:
            sink.text(seg.text);
            deltas.push_back({{"reasoning_content", std::move(seg.text)}});
            return;
        case SegmentKind::tool_block:
            break;
    }
    auto calls = parse_tool_block(seg.text, request_.schemas());
    if (calls.empty()) {  // not tool calls after all: the text goes out as it came
        sink.text(seg.text);
        deltas.push_back({{"content", std::move(seg.text)}});
        return;
    }
    st.markup_tool_calls = true;
    for (auto& call : calls) {
        int64_t tool_index = st.next_tool_index++;
        std::string id =
            request_.ids().make(response_id_, index, tool_index, call.name, call.arguments);
        sink.text(call.arguments);
        json tool = {{"index", tool_index},
                     {"id", std::move(id)},
                     {"type", "function"},
                     {"function",
                      {{"name", std::move(call.name)}, {"arguments", std::move(call.arguments)}}}};
        deltas.push_back({{"tool_calls", json::array({std::move(tool)})}});
    }
}

void StreamDecoder::on_choice(const json& base, json& choice, sdk::EventSink& sink) {
    int64_t index = choice_index(choice);
    ChoiceState& st = choices_[index];
    json delta = json::object();
    if (auto d = choice.find("delta"); d != choice.end() && d->is_object()) delta = std::move(*d);
    choice.erase("delta");
    choice.erase("message");  // the closing frame's full message repeats what was streamed

    if (auto role = delta.find("role"); role != delta.end() && *role == "") delta.erase(role);
    auto rc = delta.find("reasoning_content");
    if (rc != delta.end() && rc->is_string() && !rc->get_ref<const std::string&>().empty()) {
        sink.text(rc->get_ref<const std::string&>());
    } else {
        if (rc != delta.end()) delta.erase(rc);
        if (auto rd = delta.find("reasoning_details"); rd != delta.end()) {
            std::string increment = details_increment(st, reasoning_details_text(*rd));
            if (!increment.empty()) {
                sink.text(increment);
                delta["reasoning_content"] = std::move(increment);
            }
        }
    }
    if (auto calls = delta.find("tool_calls"); calls != delta.end() && calls->is_array()) {
        for (const auto& call : *calls) {  // native tool calls pass through untouched
            if (!call.is_object()) continue;
            if (auto i = call.find("index"); i != call.end() && i->is_number_integer())
                st.next_tool_index = std::max(st.next_tool_index, i->get<int64_t>() + 1);
            auto fn = call.find("function");
            if (fn != call.end() && fn->is_object() && fn->contains("arguments") &&
                (*fn)["arguments"].is_string())
                sink.text((*fn)["arguments"].get_ref<const std::string&>());
        }
    }

    std::vector<Segment> segments;
    if (auto content = delta.find("content"); content != delta.end()) {
        if (content->is_string()) st.scanner.feed(content->get_ref<const std::string&>(), segments);
        delta.erase(content);
    }
    bool finishing = false;
    std::string reason;
    if (auto fr = choice.find("finish_reason"); fr != choice.end() && fr->is_string()) {
        saw_finish_reason_ = true;
        if (!st.finished) {  // MiniMax repeats it in its closing frame
            finishing = true;
            reason = fr->get<std::string>();
            st.scanner.finish(segments);
        }
    }
    choice.erase("finish_reason");

    std::vector<json> pieces;
    for (auto& seg : segments)
        segment_deltas(st, index, seg, pieces, sink);
    std::vector<json> deltas;
    if (!pieces.empty() && !collides(delta, pieces.front())) {
        delta.update(pieces.front());
        deltas.push_back(std::move(delta));
        std::move(pieces.begin() + 1, pieces.end(), std::back_inserter(deltas));
    } else {
        if (!delta.empty() || (pieces.empty() && finishing)) deltas.push_back(std::move(delta));
        std::move(pieces.begin(), pieces.end(), std::back_inserter(deltas));
    }
    if (finishing) {
        st.finished = true;
        // Tool calls the model wrote as markup end the turn like native ones.
        if (st.markup_tool_calls && reason == "stop") reason = "tool_calls";
    }
    for (std::size_t i = 0; i < deltas.size(); ++i) {
        json out = base;
        json c = i == 0 ? choice : json::object();
        c["index"] = index;
        c["delta"] = std::move(deltas[i]);
        c["finish_reason"] = finishing && i + 1 == deltas.size() ? json(reason) : json(nullptr);
        out["choices"] = json::array({std::move(c)});
        sink.chunk_json(out);
    }
}

void StreamDecoder::complete(sdk::EventSink& sink) {
    for (auto& [index, st] : choices_) {
        std::vector<Segment> segments;
        st.scanner.finish(segments);
        std::vector<json> pieces;
        for (auto& seg : segments)
            segment_deltas(st, index, seg, pieces, sink);
        for (auto& piece : pieces) {
            json out = base_;
            out["choices"] = json::array(
                {{{"index", index}, {"delta", std::move(piece)}, {"finish_reason", nullptr}}});
            sink.chunk_json(out);
        }
    }
    if (usage_) {
        json out = usage_base_;
        out["choices"] = json::array();
        out["usage"] = *usage_;
        sink.chunk_json(out, true);
    }
    finished_ = true;
    sink.done();
}

}  // namespace modelgate::providers::minimax

#include "ollama_stream.hpp"

#include <modelgate/json_limits.hpp>
#include <modelgate/openai.hpp>

#include "ollama_answer.hpp"

namespace modelgate::ollama {

using sdk::json;
using sdk::make_error;

void NdjsonStreamDecoder::feed(std::string_view bytes, sdk::EventSink& sink) {
    while (!finished_ && !bytes.empty()) {
        std::size_t nl = bytes.find('\n');
        if (nl == std::string_view::npos) {
            if (line_.size() + bytes.size() > kMaxLineBytes) break;
            line_.append(bytes);
            return;
        }
        if (line_.empty()) {
            on_line(bytes.substr(0, nl), sink);  // the common case: no copy
        } else {
            line_.append(bytes.substr(0, nl));
            on_line(line_, sink);
            line_.clear();
        }
        bytes.remove_prefix(nl + 1);
    }
    if (!finished_ && !bytes.empty()) {
        fail(make_error("an upstream stream line exceeds the size limit", "upstream_error",
                        "stream_event_too_large"),
             sink);
    }
}

void NdjsonStreamDecoder::finish(sdk::EventSink& sink) {
    if (finished_) return;
    if (!line_.empty()) {  // the last line may come without its newline
        std::string last = std::move(line_);
        line_.clear();
        on_line(last, sink);
        if (finished_) return;
    }
    fail(make_error("upstream closed the stream before the answer was complete", "upstream_error",
                    "stream_truncated"),
         sink);
}

void NdjsonStreamDecoder::on_line(std::string_view line, sdk::EventSink& sink) {
    if (finished_) return;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
        line.remove_prefix(1);
    if (line.empty()) return;

    json j = modelgate::sdk::parse_json(line);
    if (!j.is_object()) {
        fail(make_error("upstream sent a stream line that is not a JSON object", "upstream_error",
                        "invalid_stream_event"),
             sink);
        return;
    }
    if (auto err = j.find("error"); err != j.end() && !err->is_null()) {
        fail(sdk::openai::normalize_error(*err), sink);
        return;
    }
    if (!started_) {
        started_ = true;
        hash_ = stable_hex(line);
        if (auto m = j.find("model"); m != j.end() && m->is_string())
            model_ = m->get<std::string>();
        if (auto c = j.find("created_at"); c != j.end() && c->is_string())
            created_ = unix_seconds(c->get_ref<const std::string&>());
        emit({{"role", "assistant"}, {"content", ""}}, nullptr, sink);
    }

    json delta = json::object();
    if (auto msg = j.find("message"); msg != j.end() && msg->is_object()) {
        if (auto t = msg->find("thinking");
            t != msg->end() && t->is_string() && !t->get_ref<const std::string&>().empty()) {
            sink.text(t->get_ref<const std::string&>());
            delta["reasoning_content"] = *t;
        }
        if (auto c = msg->find("content");
            c != msg->end() && c->is_string() && !c->get_ref<const std::string&>().empty()) {
            sink.text(c->get_ref<const std::string&>());
            delta["content"] = *c;
        }
        if (auto tc = msg->find("tool_calls"); tc != msg->end() && tc->is_array()) {
            json calls = openai_tool_calls(*tc, hash_, tool_calls_);
            for (const auto& call : calls)
                sink.text(call["function"]["arguments"].get_ref<const std::string&>());
            tool_calls_ += calls.size();
            if (!calls.empty()) delta["tool_calls"] = std::move(calls);
        }
    }
    if (!delta.empty()) emit(std::move(delta), nullptr, sink);

    if (auto done = j.find("done"); done == j.end() || *done != true) return;
    finished_ = true;
    emit(json::object(), tool_calls_ > 0 ? std::string("tool_calls") : finish_reason(j), sink);
    TokenCounts counts = TokenCounts::of(j);
    json usage = counts.for_core();
    if (!usage.empty()) sink.usage(usage);
    // With a count missing, the core sends the client its own estimate instead.
    if (counts.complete()) {
        sink.chunk_json({{"id", "chatcmpl-" + hash_},
                         {"object", "chat.completion.chunk"},
                         {"created", created_},
                         {"model", model_},
                         {"choices", json::array()},
                         {"usage", counts.for_client()}},
                        true);
    }
    sink.done();
}

void NdjsonStreamDecoder::emit(json delta, const json& finish_reason, sdk::EventSink& sink) const {
    sink.chunk_json({{"id", "chatcmpl-" + hash_},
                     {"object", "chat.completion.chunk"},
                     {"created", created_},
                     {"model", model_},
                     {"choices", json::array({{{"index", 0},
                                               {"delta", std::move(delta)},
                                               {"logprobs", nullptr},
                                               {"finish_reason", finish_reason}}})}});
}

void NdjsonStreamDecoder::fail(const json& error, sdk::EventSink& sink) {
    finished_ = true;
    line_.clear();
    sink.error(error);
}

}  // namespace modelgate::ollama

#include "acme_stream.hpp"

#include <modelgate/json_limits.hpp>
#include <utility>

#include "acme_wire.hpp"

namespace acme {

using modelgate::sdk::EventSink;
using modelgate::sdk::make_error;

namespace {

// An event line longer than this is not a real answer; refusing it bounds the
// memory one stream can take.
constexpr std::size_t kMaxLineBytes = 1u << 20;

}  // namespace

void StreamDecoder::feed(std::string_view bytes, EventSink& sink) {
    while (!bytes.empty() && !finished_) {
        std::size_t newline = bytes.find('\n');
        std::string_view piece = bytes.substr(0, newline);
        if (line_.size() + piece.size() > kMaxLineBytes) {
            fail(sink, make_error("Acme sent a stream event larger than 1 MiB", "upstream_error",
                                  "stream_event_too_large"));
            return;
        }
        line_.append(piece);
        if (newline == std::string_view::npos) return;  // the rest of the line comes later
        bytes.remove_prefix(newline + 1);
        std::string line = std::move(line_);
        line_.clear();
        on_line(line, sink);
    }
}

void StreamDecoder::finish(EventSink& sink) {
    if (finished_) return;
    if (!line_.empty()) {
        std::string line = std::move(line_);
        line_.clear();
        on_line(line, sink);  // the last line may lack its newline
    }
    if (!finished_) {
        fail(sink, make_error("Acme closed the stream before the answer was complete",
                              "upstream_error", "stream_truncated"));
    }
}

void StreamDecoder::on_line(std::string_view line, EventSink& sink) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
    if (line.empty()) return;  // blank lines keep connections alive
    json event = modelgate::sdk::parse_json(line);
    if (!event.is_object()) {
        fail(sink, make_error("Acme sent a stream event that is not a JSON object",
                              "upstream_error", "invalid_stream_event"));
        return;
    }
    std::string type = string_member(event, "event").value_or("");
    if (type == "start") {
        if (auto id = string_member(event, "id")) id_ = "chatcmpl-" + *id;
        if (auto model = string_member(event, "model")) model_ = *model;
        created_ = integer_member(event, "created").value_or(created_);
        start(sink);
    } else if (type == "text") {
        auto text = string_member(event, "text");
        if (!text) {
            fail(sink, make_error("Acme sent a text event without text", "upstream_error",
                                  "invalid_stream_event"));
            return;
        }
        start(sink);
        if (text->empty()) return;
        sink.text(*text);
        sink.chunk_json(chunk({{"content", *text}}));
    } else if (type == "end") {
        end(event, sink);
    } else if (type == "error") {
        auto error = event.find("error");
        json acme_error = error != event.end() ? *error : json();
        std::string acme_type =
            acme_error.is_object() ? string_member(acme_error, "type").value_or("") : "";
        fail(sink,
             to_openai_error(acme_error, error_class_of(acme_type).value_or(ErrorClass::upstream)));
    }
    // Other event types (a newer API's additions, "ping") are skipped.
}

void StreamDecoder::start(EventSink& sink) {
    if (started_) return;
    started_ = true;
    sink.chunk_json(chunk({{"role", "assistant"}, {"content", ""}}));
}

void StreamDecoder::end(const json& event, EventSink& sink) {
    start(sink);
    auto stop = event.find("stop");
    sink.chunk_json(chunk(json::object(), finish_reason(stop != event.end() ? *stop : json())));
    if (auto usage = event.find("usage"); usage != event.end()) {
        if (auto u = to_openai_usage(*usage)) {
            sink.usage(*u);
            // OpenAI's usage chunk; the core forwards it to clients that asked for it.
            json usage_chunk = chunk(json::object());
            usage_chunk["choices"] = json::array();
            usage_chunk["usage"] = std::move(*u);
            sink.chunk_json(usage_chunk, /*usage_only=*/true);
        }
    }
    finished_ = true;
    sink.done();
}

void StreamDecoder::fail(EventSink& sink, const json& error) {
    finished_ = true;
    line_.clear();
    sink.error(error);
}

json StreamDecoder::chunk(json delta, json finish) const {
    json choice = {{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish)}};
    json out = {
        {"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", model_}};
    out["choices"] = json::array({std::move(choice)});
    return out;
}

}  // namespace acme

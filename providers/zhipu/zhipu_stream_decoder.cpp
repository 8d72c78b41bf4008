#include "zhipu_stream_decoder.hpp"

#include "zhipu_errors.hpp"

namespace modelgate::providers::zhipu {

struct StreamDecoder::Relay {
    StreamDecoder* self;
    sdk::EventSink* out;
    mg_event_sink raw{sizeof(mg_event_sink), this, &Relay::emit};

    static void emit(void* ctx, int32_t kind, uint32_t flags, const char* data, uint64_t len) {
        auto* r = static_cast<Relay*>(ctx);
        r->self->relay(kind, flags, std::string_view(data, static_cast<std::size_t>(len)), *r->out);
    }
};

void StreamDecoder::feed(std::string_view bytes, sdk::EventSink& sink) {
    Relay relay{this, &sink};
    sdk::EventSink inner(&relay.raw);
    Base::feed(bytes, inner);
}

void StreamDecoder::finish(sdk::EventSink& sink) {
    Relay relay{this, &sink};
    sdk::EventSink inner(&relay.raw);
    Base::finish(inner);
}

bool StreamDecoder::transform(sdk::json& chunk) {
    bool changed = false;
    if (!chunk.contains("object")) {
        chunk["object"] = "chat.completion.chunk";
        changed = true;
    }
    auto choices = chunk.find("choices");
    bool has_choices = choices != chunk.end() && choices->is_array() && !choices->empty();
    if (has_choices) {
        for (auto& c : *choices) {
            if (!c.is_object()) continue;
            auto fr = c.find("finish_reason");
            if (fr == c.end() || !fr->is_string()) continue;
            const auto& reason = fr->get_ref<const std::string&>();
            if (reason == "sensitive") {
                *fr = "content_filter";
                changed = true;
            } else if (reason == "model_context_window_exceeded") {
                *fr = "length";
                changed = true;
            } else if (reason == "network_error") {
                *fr = nullptr;
                pending_error_ = network_error();
                changed = true;
            }
        }
    }
    if (auto usage = chunk.find("usage"); has_choices && usage != chunk.end()) {
        if (usage->is_object()) {
            sdk::json split = {{"object", "chat.completion.chunk"},
                               {"choices", sdk::json::array()},
                               {"usage", std::move(*usage)}};
            for (const char* key : {"id", "created", "model"}) {
                if (auto it = chunk.find(key); it != chunk.end()) split[key] = *it;
            }
            split_usage_chunk_ = std::move(split);
        }
        chunk.erase("usage");
        changed = true;
    }
    return changed;
}

void StreamDecoder::relay(int32_t kind, uint32_t flags, std::string_view data,
                          sdk::EventSink& out) {
    switch (kind) {
        case MG_EVENT_CHUNK:
            out.chunk(data, (flags & MG_CHUNK_USAGE_ONLY) != 0);
            if (split_usage_chunk_) {
                sdk::json split = std::move(*split_usage_chunk_);
                split_usage_chunk_.reset();
                out.usage(split["usage"]);
                out.chunk_json(split, true);
            }
            if (pending_error_) {
                sdk::json error = std::move(*pending_error_);
                pending_error_.reset();
                fail(out, error);
            }
            break;
        case MG_EVENT_USAGE:
            out.usage(sdk::json::parse(data, nullptr, false));
            break;
        case MG_EVENT_TEXT:
            out.text(data);
            break;
        case MG_EVENT_DONE:
            out.done();
            break;
        case MG_EVENT_ERROR:
            out.error(map_error_object(sdk::json::parse(data, nullptr, false)));
            break;
        default:
            break;
    }
}

}  // namespace modelgate::providers::zhipu

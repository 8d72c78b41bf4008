#include "zhipu_stream_decoder.hpp"

#include <modelgate/json_limits.hpp>

#include "zhipu_errors.hpp"

namespace modelgate::providers::zhipu {

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
    if (kind == MG_EVENT_ERROR) {
        out.error(map_error_object(sdk::parse_json(data)));
        return;
    }
    out.forward(kind, flags, data);
    if (kind != MG_EVENT_CHUNK) return;
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
}

}  // namespace modelgate::providers::zhipu

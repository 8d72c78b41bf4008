// Zhipu's chat stream: OpenAI's SSE format with these differences, each turned
// into what an OpenAI client expects:
//  - chunks carry no "object": "chat.completion.chunk" is added;
//  - finish_reason "sensitive" (content filtered) becomes "content_filter",
//    "model_context_window_exceeded" becomes "length", and "network_error" (Zhipu
//    gave up midway) ends the stream with an error event instead of [DONE];
//  - the usage arrives in the last chunk together with its choices: that chunk is
//    forwarded without it and followed by the usage event and a usage-only chunk
//    (choices: []), so a client gets usage only when it asked (include_usage) and
//    exactly once;
//  - error events carry Zhipu business codes, mapped as in zhipu_errors.hpp.
#pragma once

#include <modelgate/openai.hpp>
#include <modelgate/sdk.hpp>
#include <optional>
#include <string_view>

namespace modelgate::providers::zhipu {

class StreamDecoder final : public sdk::openai::RelayingStreamDecoder {
  protected:
    bool transform(sdk::json& chunk) override;
    // Adds what must follow a chunk (transform() cannot emit events) and maps
    // error events.
    void relay(int32_t kind, uint32_t flags, std::string_view data, sdk::EventSink& out) override;

  private:
    std::optional<sdk::json> split_usage_chunk_;  // to send after the current chunk
    std::optional<sdk::json> pending_error_;      // to end the stream with after it
};

}  // namespace modelgate::providers::zhipu

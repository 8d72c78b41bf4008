// Decodes MiniMax's OpenAI-style chat stream into clean OpenAI
// chat.completion.chunk events: <think> text becomes delta.reasoning_content,
// tool-call markup becomes delta.tool_calls, both also when their tags are cut
// across chunks; reasoning_details becomes reasoning_content; base_resp errors
// end the stream with an error event; MiniMax's zero usage placeholders and its
// closing full-message frame are dropped, the real usage is sent once, last.
#pragma once

#include <map>
#include <modelgate/sdk.hpp>
#include <modelgate/sse.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "minimax_answer.hpp"

namespace modelgate::providers::minimax {

class StreamDecoder final : public sdk::StreamDecoder {
  public:
    explicit StreamDecoder(std::string_view request_body) : request_(request_body) {}

    void feed(std::string_view bytes, sdk::EventSink& sink) override;
    void finish(sdk::EventSink& sink) override;

  private:
    struct ChoiceState {
        MarkupScanner scanner;
        bool finished = false;           // its finish_reason was forwarded
        bool markup_tool_calls = false;  // tool calls came from markup
        int64_t next_tool_index = 0;
        // reasoning_details: MiniMax documents cumulative text, but sends
        // increments; the second piece tells which.
        enum class Details { unknown, incremental, cumulative } details = Details::unknown;
        std::string details_text;
    };

    void on_event(std::string_view data, sdk::EventSink& sink);
    void on_chunk(sdk::json& chunk, sdk::EventSink& sink);
    void on_choice(const sdk::json& base, sdk::json& choice, sdk::EventSink& sink);
    // The deltas one content segment becomes (one per tool call).
    void segment_deltas(ChoiceState& st, int64_t index, Segment& seg,
                        std::vector<sdk::json>& deltas, sdk::EventSink& sink);
    std::string details_increment(ChoiceState& st, const std::string& text);
    // Releases held-back content of every choice, sends the usage, then done.
    void complete(sdk::EventSink& sink);
    void fail(sdk::EventSink& sink, const sdk::json& error);

    sdk::SseParser parser_;
    RequestContext request_;
    bool finished_ = false;
    bool saw_finish_reason_ = false;
    std::string response_id_;
    sdk::json base_ = sdk::json::object();  // top-level fields of the latest chunk
    std::map<int64_t, ChoiceState> choices_;
    std::optional<sdk::json> usage_;  // the latest real usage, sent before done
    sdk::json usage_base_ = sdk::json::object();
};

}  // namespace modelgate::providers::minimax

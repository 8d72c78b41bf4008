// Ollama's streamed /api/chat answer (NDJSON: one JSON object per line) ->
// OpenAI chat.completion.chunk events.
//
// Lines may be split anywhere across reads and may end in CRLF; blank lines are
// skipped. Emits a first chunk with the role, one chunk per line that carries
// thinking (as reasoning_content), content or tool calls, then on the done line
// a chunk with finish_reason, the usage (an event and a usage-only chunk) and
// done. A line {"error": ...} ends the answer with an error; so does a stream
// that closes without a done line (stream_truncated).
#pragma once

#include <modelgate/sdk.hpp>
#include <string>

namespace modelgate::ollama {

class NdjsonStreamDecoder final : public sdk::StreamDecoder {
  public:
    // A line longer than this ends the answer with an error.
    static constexpr std::size_t kMaxLineBytes = 8u << 20;

    explicit NdjsonStreamDecoder(std::string fallback_model) : model_(std::move(fallback_model)) {}

    void feed(std::string_view bytes, sdk::EventSink& sink) override;
    void finish(sdk::EventSink& sink) override;

  private:
    void on_line(std::string_view line, sdk::EventSink& sink);
    void emit(sdk::json delta, const sdk::json& finish_reason, sdk::EventSink& sink) const;
    void fail(const sdk::json& error, sdk::EventSink& sink);

    std::string line_;  // an incomplete line carried over to the next read
    std::string hash_;  // of the first line: the answer's id, shared by every chunk
    std::string model_;
    int64_t created_ = 0;
    std::size_t tool_calls_ = 0;  // emitted so far: the next call's index
    bool started_ = false;
    bool finished_ = false;
};

}  // namespace modelgate::ollama

// The decoder of Acme's streamed answers: newline-delimited JSON events
// ({"event": "start" | "text" | "end" | "error", ...}) in, OpenAI
// chat.completion.chunk objects out.
//
// The gateway feeds it raw upstream bytes split anywhere (one byte at a time
// is legal), so a partial line is kept until its newline arrives. The answer
// ends exactly once: done() after an "end" event, error() after an "error"
// event, a malformed line, or a stream that closed early; later input is
// ignored.
#pragma once

#include <cstdint>
#include <modelgate/sdk.hpp>
#include <string>
#include <string_view>

namespace acme {

class StreamDecoder final : public modelgate::sdk::StreamDecoder {
  public:
    // model: the upstream model name, used until the stream names one.
    explicit StreamDecoder(std::string_view model) : model_(model) {}

    void feed(std::string_view bytes, modelgate::sdk::EventSink& sink) override;
    void finish(modelgate::sdk::EventSink& sink) override;

  private:
    void on_line(std::string_view line, modelgate::sdk::EventSink& sink);
    void start(modelgate::sdk::EventSink& sink);
    void end(const modelgate::sdk::json& event, modelgate::sdk::EventSink& sink);
    void fail(modelgate::sdk::EventSink& sink, const modelgate::sdk::json& error);
    // One chat.completion.chunk with a single choice.
    modelgate::sdk::json chunk(modelgate::sdk::json delta,
                               modelgate::sdk::json finish = nullptr) const;

    std::string line_;  // the line received so far, without its newline
    std::string id_ = "chatcmpl-acme";
    std::string model_;
    int64_t created_ = 0;
    bool started_ = false;   // the first chunk (with the assistant role) went out
    bool finished_ = false;  // done() or error() went out
};

}  // namespace acme

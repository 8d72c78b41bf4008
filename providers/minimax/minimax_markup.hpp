// MiniMax-M2 output markup found inside `content`: `<think>...</think>`
// reasoning blocks and `<minimax:tool_call>...</minimax:tool_call>` tool-call
// blocks. The scanner separates them from plain text fed in pieces split
// anywhere (also inside a tag); the block parser turns a tool-call block into
// OpenAI tool calls, typing parameter values by the request's tool schemas.
// No I/O and no SDK dependency: reachable from tests and fuzzers as is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace modelgate::providers::minimax {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

enum class SegmentKind { content, reasoning, tool_block };

struct Segment {
    SegmentKind kind;
    std::string text;  // tool_block: the whole block, both tags included
};

// Splits content into text, reasoning and tool-call blocks. The output depends
// only on the concatenated input, never on where it was cut: a piece that ends
// in what may be the start of a tag is held back until the next piece decides.
// Whitespace right after `<think>`, right before `</think>` and right after a
// closing tag is dropped (the model pads its blocks with newlines).
class MarkupScanner {
  public:
    // Appends the segments this piece completes to out; adjacent text segments
    // of one kind are merged.
    void feed(std::string_view piece, std::vector<Segment>& out);
    // The content ended: releases what is held back (a partial tag as text of
    // the current kind, an unclosed tool-call block as plain content) and resets.
    void finish(std::vector<Segment>& out);

    // A tool-call block larger than this is given up on and released as text.
    static constexpr std::size_t kMaxBlockBytes = 1u << 20;

  private:
    enum class Mode { text, think, tool };
    void emit_text(std::string_view text, std::vector<Segment>& out);
    void emit_reasoning(std::string_view text, std::vector<Segment>& out);

    Mode mode_ = Mode::text;
    std::string held_;             // a possible partial tag (text and think modes)
    std::string block_;            // the tool-call block so far (tool mode)
    std::size_t scan_from_ = 0;    // where to look for the closing tag in block_
    std::string reasoning_space_;  // trailing whitespace of the reasoning so far
    bool skip_space_ = false;      // drop leading whitespace of the next text
};

// The parameter schemas of a request's tools: function name -> "properties".
class ToolSchemas {
  public:
    ToolSchemas() = default;
    // Reads `tools` of an OpenAI request body (other members are skipped while
    // parsing); accepts {"type":"function","function":{...}} and bare {name, parameters}.
    static ToolSchemas from_request(std::string_view body);
    // The JSON schema of one parameter, or nullptr when unknown.
    const json* parameter(std::string_view function, std::string_view name) const;

  private:
    json by_name_ = json::object();
};

struct ToolCall {
    std::string name;
    std::string arguments;  // a JSON object, as text
};

// Parses the `<invoke name="FN"><parameter name="P">V</parameter>...</invoke>`
// elements of one tool-call block. Invokes without a name are skipped.
std::vector<ToolCall> parse_tool_block(std::string_view block, const ToolSchemas& schemas);

// Types one parameter value by its JSON schema: integer, number, boolean,
// object, array and null are parsed when the text fits the type, strings stay
// strings; with no schema the text is tried as JSON, else kept as a string.
// Surrounding whitespace is trimmed (as MiniMax's reference parser does).
ordered_json coerce_value(std::string_view raw, const json* schema);

// Tool-call ids: "call_" + 24 hex digits, derived from the request and the
// response so that the same stream decodes to the same ids however it is cut,
// while different requests and responses get different ids.
class CallIdMaker {
  public:
    explicit CallIdMaker(std::string_view request_body = {});
    std::string make(std::string_view response_id, int64_t choice, int64_t ordinal,
                     std::string_view name, std::string_view arguments) const;

  private:
    uint64_t seed_;
};

}  // namespace modelgate::providers::minimax

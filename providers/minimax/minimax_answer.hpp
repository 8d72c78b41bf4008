// MiniMax chat answers normalized to OpenAI's shape: whole answers here, and
// the helpers the stream decoder shares with them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "minimax_markup.hpp"

namespace modelgate::providers::minimax {

// What turning markup into tool calls needs from the request: its tool
// schemas (read only when a tool-call block actually shows up) and its id seed.
class RequestContext {
  public:
    explicit RequestContext(std::string_view request_body);
    const ToolSchemas& schemas();
    const CallIdMaker& ids() const { return ids_; }

  private:
    std::string tools_source_;  // the request body, kept only when it declares tools
    std::unique_ptr<ToolSchemas> schemas_;
    CallIdMaker ids_;
};

// The text of a `reasoning_details` array ([{"type":"reasoning.text","text":...}]).
std::string reasoning_details_text(const json& details);

// A choice's "index" (0 when missing).
int64_t choice_index(const json& choice);

// True for a usage object with real counts. MiniMax streams put zero
// placeholders ({"total_tokens":0,...}) into every chunk before the real one.
bool is_real_usage(const json& usage);

// Rewrites a whole chat answer in place: <think> blocks and reasoning_details
// become message.reasoning_content, tool-call markup becomes tool_calls (with
// finish_reason "tool_calls" and content = the remaining text or null).
// Returns true when anything changed.
bool normalize_answer(json& answer, RequestContext& request);

}  // namespace modelgate::providers::minimax

// DeepSeek thinking mode and the assistant-history patch it needs.
//
// In thinking mode DeepSeek rejects multi-turn histories (tool-call rounds in
// particular) whose assistant turns carry no "reasoning_content". The patch adds
// an empty one where it is missing, and only when the call runs in thinking mode:
// the original gateway applied it to every provider because its per-model switch
// defaulted to on (spec 17, item 16).
#pragma once

#include <modelgate/sdk.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace modelgate::providers::deepseek {

using json = nlohmann::json;

struct ThinkingRules {
    // Upstream model names that always think, matched as case-insensitive
    // prefixes of the name after its last '/' (hosts such as SiliconFlow call
    // the model "deepseek-ai/DeepSeek-R1").
    std::vector<std::string> model_prefixes;
    bool force = false;  // every call is in thinking mode
};

// True when the model name starts with one of the rules' prefixes.
bool is_thinking_model(const ThinkingRules& rules, std::string_view model);

// True when the call runs in thinking mode: the request asks for it
// ("thinking": {"type": "enabled"}), the model always thinks, or the rules force it.
bool thinking_active(const ThinkingRules& rules, const json& body, std::string_view model);

// Adds "reasoning_content": "" to assistant messages that lack it (absent or
// null): all of them when the conversation has tool context (a "tool" message,
// or a message with tool_calls or tool_call_id), otherwise only those after the
// last user message. Returns how many messages were changed; anything that is not
// an array of messages is left alone.
std::size_t patch_assistant_history(json& messages);

}  // namespace modelgate::providers::deepseek

// Token accounting: reading the upstream's usage object (OpenAI's names and the
// common variants) and estimating when there is none. The estimate is CJK-aware:
// about four Latin characters make a token, while a Chinese, Japanese or Korean
// character is about one token on its own.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace modelgate::core::proxy {

struct TokenCounts {
    std::optional<int64_t> prompt, completion, total;
    bool estimated = false;
};

// Fractional token units of a piece of text (sum them, then round up).
double token_units(std::string_view text);
int64_t estimate_tokens(std::string_view text);
// Estimated prompt tokens of an OpenAI request body (messages, input, tools).
int64_t estimate_prompt_tokens(std::string_view request_body);

// Reads prompt/completion/total from a usage object; fills gaps from the other
// two or from the estimates (then marks estimated).
TokenCounts tokens_from_usage(const nlohmann::json& usage, int64_t prompt_estimate,
                              int64_t completion_estimate);

}  // namespace modelgate::core::proxy

namespace modelgate::core::proxy {
// Token units of the generated text in a whole chat.completion answer.
double answer_units(std::string_view answer_body);
}  // namespace modelgate::core::proxy

// Ollama native answers -> OpenAI shapes: whole chat answers, embeddings, the
// model list, and the pieces the stream decoder shares with them (ids, token
// counts, finish reasons, tool calls, timestamps).
//
// Pure functions over JSON, reachable without a socket or the plugin ABI. An
// answer that is not what Ollama sends throws std::runtime_error (the core then
// answers 502 "could not be read").
#pragma once

#include <modelgate/sdk.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace modelgate::ollama {

using sdk::json;

// An id that is the same every time for the same bytes (FNV-1a, 16 hex digits):
// answers are decoded identically however the upstream split them.
std::string stable_hex(std::string_view bytes);

// Seconds since the epoch of an RFC 3339 time ("2024-07-22T20:33:28.123648Z",
// "2023-08-04T08:52:19.385406455-07:00"); 0 when it cannot be read.
int64_t unix_seconds(std::string_view rfc3339);

// prompt_eval_count / eval_count. Ollama leaves a count out when it is zero
// (e.g. a prompt answered entirely from its cache).
struct TokenCounts {
    std::optional<int64_t> prompt, completion;

    static TokenCounts of(const json& answer);
    bool complete() const { return prompt && completion; }
    // OpenAI's usage object for the client: every field, unknown counts as 0.
    json for_client() const;
    // What the core records: only the counts Ollama reported, so the core
    // estimates the others (and marks them estimated) instead of logging 0.
    json for_core() const;
};

// OpenAI's finish_reason for a final Ollama line ("stop", "length"; "load" and
// anything unknown read as "stop").
std::string finish_reason(const json& answer);

// Ollama tool calls (arguments as an object) -> OpenAI's (arguments as a JSON
// string). A call without an id gets "call_" + a hash of the answer id and its
// position (answer_hash: stable_hex of the answer). With first_index set, each call carries "index"
// (stream deltas).
json openai_tool_calls(const json& calls, std::string_view answer_hash,
                       std::optional<std::size_t> first_index);

// A whole /api/chat answer -> chat.completion with id "chatcmpl-" + answer_hash
// (stable_hex of the answer's bytes).
json chat_completion(const json& answer, std::string_view answer_hash,
                     std::string_view fallback_model);

// An /api/embed answer -> OpenAI's embedding list; encoding "float" or "base64"
// (little-endian float32, as OpenAI's SDKs expect).
json embedding_list(const json& answer, std::string_view encoding, std::string_view fallback_model);

// The embeddings' token usage for the core (prompt_eval_count), empty when absent.
json embedding_usage_for_core(const json& answer);

// An /api/tags answer -> OpenAI's model list.
json model_list(const json& tags, std::string_view owned_by);

// Base64 of the numbers as little-endian float32.
std::string base64_float32(const json& numbers);

}  // namespace modelgate::ollama

// OpenAI request -> Ollama native request (/api/chat, /api/embed).
//
// Pure functions over JSON, reachable without a socket or the plugin ABI. Input
// that cannot be expressed in Ollama's API throws sdk::InvalidRequest with a
// message the client sees (as a 400).
#pragma once

#include <modelgate/sdk.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace modelgate::ollama {

using sdk::json;

// What the admin configured for the provider, as far as requests care.
struct RequestSettings {
    std::string keep_alive;                 // empty: Ollama's own default (5m)
    std::optional<bool> think;              // unset: the model's default
    json default_options = json::object();  // merged under each chat request's options
};

// The body of POST /api/chat for an OpenAI chat completion request.
json chat_request(const json& openai, std::string_view model, bool stream,
                  const RequestSettings& settings);

// The body of POST /api/embed for an OpenAI embeddings request.
json embed_request(const json& openai, std::string_view model, const RequestSettings& settings);

// The encoding the client asked for its embeddings: "float" (the default) or "base64".
std::string embedding_encoding(const json& openai);

}  // namespace modelgate::ollama

// The Acme Generate API (the made-up upstream this template adapts; README.md
// documents its wire format) and its translation to and from OpenAI's shapes.
// Pure functions on JSON values: no I/O, no state, easy to test and fuzz.
#pragma once

#include <cstdint>
#include <modelgate/sdk.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace acme {

using modelgate::sdk::ErrorClass;
using modelgate::sdk::json;

// The Acme /generate body for an OpenAI chat request. Throws
// modelgate::sdk::InvalidRequest for what Acme cannot express (tools, images,
// several choices), so the client gets a 400 that says why.
json to_acme_request(const json& openai, std::string_view model, int64_t default_max_tokens,
                     bool stream);

// An OpenAI chat.completion for a whole Acme answer. Throws std::runtime_error
// when the answer lacks its text.
json to_openai_completion(const json& answer, std::string_view fallback_model);

// OpenAI's model list for Acme's {"models": [...]}.
json to_openai_models(const json& list, std::string_view owned_by);

// OpenAI's finish_reason for Acme's "stop".
std::string finish_reason(const json& stop);

// OpenAI's usage object for Acme's {"input", "output"}; nullopt when absent or
// malformed (the core then estimates tokens).
std::optional<json> to_openai_usage(const json& usage);

// The class of an Acme error "type"; nullopt for types this adapter does not know.
std::optional<ErrorClass> error_class_of(std::string_view acme_type);

// An OpenAI error object {"message", "type", "code"} for an Acme error object:
// the type follows the class, the code keeps Acme's own type.
json to_openai_error(const json& acme_error, ErrorClass error_class);

// A member of an object when it is a string, else nullopt.
std::optional<std::string> string_member(const json& object, const char* key);
// A member of an object when it is an integer, else nullopt.
std::optional<int64_t> integer_member(const json& object, const char* key);

}  // namespace acme

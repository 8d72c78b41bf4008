// Secrets among a provider's options: an "extra_headers" entry whose name
// looks like a credential (Authorization, api-key, x-goog-api-key,
// Ocp-Apim-Subscription-Key, ...) is stored sealed with the master key like an
// upstream key, opened only to build the adapter, and shown masked.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "util/crypto.hpp"

namespace modelgate::core {

// Stored form of a sealed header value: this prefix, then SecretBox::seal().
inline constexpr std::string_view kSealedPrefix = "mg-sealed:";

// A header name that carries a credential.
bool is_secret_header(std::string_view name);

// Before storing options: seals every secret-looking extra header. A value
// equal to what answers showed for the stored one (its mask) keeps the stored
// sealed value, so sending back a provider as it was read changes nothing.
void seal_extra_headers(nlohmann::json& options, const crypto::SecretBox& secrets,
                        const nlohmann::json& stored_options);

// For the adapter: the sealed values opened. An error message when one cannot
// be opened (another master key, or altered).
std::optional<std::string> open_extra_headers(nlohmann::json& options,
                                              const crypto::SecretBox& secrets);

// For answers: sealed values replaced by their mask.
void mask_extra_headers(nlohmann::json& options, const crypto::SecretBox& secrets);

}  // namespace modelgate::core

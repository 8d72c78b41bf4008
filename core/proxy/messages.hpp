// Message preprocessing before a chat request goes upstream (spec 3.5), for
// upstreams that refuse several system messages or repeated roles.
#pragma once

#include <nlohmann/json.hpp>

namespace modelgate::core::proxy {

struct MergeRules {
    // Several system messages become one, placed first, their texts joined by
    // a blank line. A lone system message stays where it is.
    bool merge_system = false;
    // A message with the same role as the one before it, both with string
    // content and neither part of a tool exchange, is appended to it.
    bool merge_consecutive = false;
};

// The rules for a provider's merge setting and a model: the system merge also
// applies to models that are not multimodal, as in the original product.
inline MergeRules merge_rules(bool provider_merges, bool model_multimodal) {
    return MergeRules{provider_merges || !model_multimodal, provider_merges};
}

// Rewrites messages (a JSON array) in place; true when anything changed.
bool preprocess_messages(nlohmann::json& messages, MergeRules rules);

}  // namespace modelgate::core::proxy

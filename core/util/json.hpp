// JSON from outside the process (request bodies, plugin input, upstream
// answers): parsed without throwing and refused past a nesting depth, with the
// OpenAI-style error a client should see.
#pragma once

#include <modelgate/json_limits.hpp>
#include <nlohmann/json.hpp>
#include <string_view>

#include "util/result.hpp"

namespace modelgate::core {

using modelgate::sdk::json_depth_ok;
using modelgate::sdk::kMaxJsonDepth;
using modelgate::sdk::parse_json;

// A client's JSON body: 400 invalid_json when it is not JSON, 400
// json_too_deep when it nests deeper than kMaxJsonDepth.
Result<nlohmann::json> parse_json_body(std::string_view text);

}  // namespace modelgate::core

#include "util/json.hpp"

namespace modelgate::core {

Result<nlohmann::json> parse_json_body(std::string_view text) {
    if (!json_depth_ok(text)) {
        return make_error(ErrorCode::invalid_json,
                          "The JSON body nests arrays and objects deeper than " +
                              std::to_string(kMaxJsonDepth) + " levels.",
                          "json_too_deep");
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        return make_error(
            ErrorCode::invalid_json,
            "We could not parse the JSON body of your request. The body must be valid JSON.",
            "invalid_json");
    }
    return j;
}

}  // namespace modelgate::core

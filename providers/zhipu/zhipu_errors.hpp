// Zhipu (BigModel / Z.ai) error bodies and their OpenAI equivalents.
//
// Zhipu answers errors with an HTTP status (400, 401, 404, 429, 500) and a
// business code in the body, {"error": {"code": "1302", "message": "..."}}; the
// code says what happened (a 429 is concurrency, frequency, a daily limit or an
// account in arrears). The mapping keeps Zhipu's message, and its code is always
// visible to the client:
//   "code":       "zhipu_<code>" (e.g. "zhipu_1302"), except where OpenAI has a
//                 well-known code of its own that clients act on: 1211 ->
//                 "model_not_found", 1301 -> "content_filter";
//   "zhipu_code": "<code>", the raw business code, always.
#pragma once

#include <modelgate/sdk.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace modelgate::providers::zhipu {

using json = nlohmann::json;
using sdk::ErrorClass;
using sdk::ErrorInfo;

struct BusinessError {
    std::string code;  // digits, e.g. "1302"; empty when the body names none
    std::string message;
};

// Finds Zhipu's business error in a parsed body: the "error" object of API v4,
// or the older {"code": 1302, "msg": "...", "success": false} envelope.
std::optional<BusinessError> read_business_error(const json& body);

// The OpenAI error object for a business error, and the class of the failure.
// fallback is the class used for codes this table does not know (the HTTP
// status's class).
struct MappedError {
    ErrorClass error_class;
    json error;
};
MappedError map_business_error(const BusinessError& e, ErrorClass fallback);

// An OpenAI error object that carries a business code (a stream's error event)
// mapped the same way; anything else is returned unchanged.
json map_error_object(const json& error);

// What finish_reason "network_error" becomes: Zhipu gave up on the answer midway.
json network_error();

// True when a whole chat answer ended in finish_reason "network_error".
bool ended_in_network_error(const json& answer);

// Classifies a failed call: a non-2xx answer, or a 2xx answer that parse_response
// refused (an error body, or finish_reason "network_error").
ErrorInfo classify(int status, std::string_view headers, std::string_view body);

// The first "YYYY-MM-DD HH:MM:SS" in a message (Zhipu's usage-limit errors say when
// the limit resets, in China Standard Time, UTC+8), as Unix milliseconds; 0 when none.
int64_t reset_time_ms(std::string_view message);

}  // namespace modelgate::providers::zhipu

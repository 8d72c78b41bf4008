// Request ids: unique across instances and restarts without a random draw per
// request (OpenSSL's generator takes locks): a random per-process prefix and a
// counter that starts at a random value. 24 hex characters.
#pragma once

#include <string>

namespace modelgate::core {

std::string next_request_id();

}  // namespace modelgate::core

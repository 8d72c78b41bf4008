// Everything a call needs before it waits for a slot, with no I/O: the body
// parsed (depth-bounded) and validated, the model resolved for the caller's
// key, the key's allowlist, the provider usable and capable, messages
// preprocessed, and the adapter's upstream request built. Transport-neutral:
// the HTTP handlers, internal calls of plugins, unit tests and the fuzzer all
// call it the same way.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/proxy_call.hpp"

namespace modelgate::core::proxy {

// Who is calling.
struct Caller {
    std::optional<int64_t> key_id;
    std::string key_name;
    const KeyRuntime* key = nullptr;  // null for internal calls
    std::string client_ip;
    std::string user_agent;
};

struct PrepareOptions {
    std::size_t max_messages = 10000;  // per chat request
};

// On failure, init holds what was learnt (request id, requested model,
// provider, binding) for the request-log row of the refusal.
Status prepare_call(int32_t op, std::string_view body, const std::shared_ptr<const Snapshot>& snap,
                    const Caller& caller, bool allow_stream, const PrepareOptions& options,
                    CallInit& init);

}  // namespace modelgate::core::proxy

// Turns an adapter's upstream request into what the upstream loop sends.
#pragma once

#include <modelgate/host/adapter.hpp>
#include <string>

#include "upstream/upstream_job.hpp"

namespace modelgate::core::upstream {

// Method, URL, body and the adapter's headers; the outbound User-Agent unless
// the adapter set its own; the secret where the adapter asked for it, unless
// the adapter's headers (the provider's extra_headers) already carry that
// header. Leaves the timeouts alone.
void fill_request_spec(host::UpstreamRequest&& request, const std::string& user_agent,
                       const std::string& secret, RequestSpec& spec);
// Puts another upstream key in the spec's secret line (a retry on another key).
void set_secret(RequestSpec& spec, const std::string& secret);

}  // namespace modelgate::core::upstream

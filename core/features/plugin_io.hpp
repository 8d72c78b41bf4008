// Streamed responses and outbound HTTP for feature plugins (ABI 1.3): a route
// may answer with a stream written from any thread, and a plugin may call out
// over HTTP(S) on the gateway's libcurl loop without holding a thread while
// it waits. Both are bounded: a stream's unsent bytes, a request's size, its
// time and its answer's size.
#pragma once

#include <modelgate/abi.h>

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

#include "http/responder.hpp"
#include "upstream/upstream_loop.hpp"
#include "util/thread_pool.hpp"

namespace modelgate::core::features {

// Bytes a stream may have queued for a slow client before writes are refused
// with MG_ERR_BUSY.
inline constexpr int64_t kMaxUnsentStreamBytes = 4 << 20;

// One plugin route call, for stream_open (mg_http_request.host_call).
struct RouteCall {
    http::ResponderPtr responder;
    std::atomic<bool> streamed{false};
};

// Starts the response of `call` as a stream; nullptr when it already is one.
mg_stream* open_stream(RouteCall& call, int status, std::string_view content_type,
                       std::string_view header_lines);
// MG_OK, MG_ERR_BUSY or MG_ERR_GONE (abi.h).
int32_t write_stream(mg_stream* stream, std::string_view bytes);
// Ends the response (unless the client left) and frees the stream.
void close_stream(mg_stream* stream);

// Bounds of an outbound request.
inline constexpr std::size_t kMaxFetchRequestBytes = 16u << 20;
inline constexpr int64_t kDefaultFetchTimeoutMs = 30000, kMaxFetchTimeoutMs = 600000;
inline constexpr int64_t kDefaultFetchResponseBytes = 8 << 20, kMaxFetchResponseBytes = 64 << 20;

struct FetchAnswer {
    int status = 0;  // 0: no answer (error says why)
    std::string headers, body, error;
};
using FetchDone = std::function<void(FetchAnswer)>;

// Validates request_json (abi.h, http_fetch), submits it to `loop` and returns
// true; done runs later, once, on `callbacks` (inline when they have stopped).
// False with `err` set when the request is refused; done never runs then.
bool start_fetch(upstream::UpstreamLoop& loop, ThreadPool& callbacks, std::string_view request_json,
                 const std::string& user_agent, FetchDone done, std::string& err);

}  // namespace modelgate::core::features

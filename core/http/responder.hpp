// Where a handler's answer goes. The server gives every request one; a handler
// may answer at once or keep it and answer later from any thread. Exactly one
// answer counts: a whole response, or a stream (start, writes, end). A
// responder dropped without an answer answers 500 itself, so no client waits
// forever on a handler's mistake.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "http/responses.hpp"

namespace modelgate::core::http {

class Responder {
  public:
    virtual ~Responder() = default;

    // A whole response. Ignored after the first answer.
    virtual void send(Response response) = 0;
    // Starts a streamed answer (chunked on HTTP/1.1, ended by closing the
    // connection on HTTP/1.0). False when the client is gone.
    virtual bool start_stream(int status, const std::string& content_type,
                              const HeaderList& headers) = 0;
    // Sends stream bytes; done(ok) runs once they left for the client (on
    // this or a server thread) so producers can pace themselves. False, and
    // done never runs, when the client is gone.
    virtual bool stream_write(std::string bytes, std::function<void(bool ok)> done) = 0;
    virtual void end_stream() = 0;
    // Runs once if the client goes away before the answer is complete.
    virtual void set_close_hook(std::function<void()> hook) = 0;
    virtual void clear_close_hook() = 0;
};

using ResponderPtr = std::shared_ptr<Responder>;

}  // namespace modelgate::core::http

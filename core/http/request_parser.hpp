// An incremental HTTP/1.x request parser (RFC 9112), fed bytes in whatever
// pieces the socket delivers. It never rescans what it has seen, so reading a
// request costs time linear in its size; every size it accepts is bounded. It
// stops after the head so the caller can decide, before any body byte is
// stored, whether the request may send one and how large, and it stops after
// each message so pipelined requests are taken one at a time. No sockets: the
// server and the fuzz target drive it the same way.
//
// Refused outright (400 unless said): bare CR, obsolete line folding, white
// space before a header's colon, control characters in names or values, a
// Content-Length that is not a plain number or disagrees with another one
// (413 when it is a number too large), Transfer-Encoding together with
// Content-Length, a transfer coding other than chunked (501), chunked bodies
// in HTTP/1.0, HTTP versions other than 1.0 and 1.1 (505), and heads, chunk
// lines or trailers over their bounds (431 for the head).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modelgate::core::http {

struct ParseLimits {
    std::size_t max_head_bytes = 32 * 1024;    // request line and header fields
    std::size_t max_target_bytes = 8 * 1024;   // the request-target
    std::size_t max_headers = 100;             // header fields
    std::size_t max_chunk_line_bytes = 1024;   // chunk size with its extensions
    std::size_t max_trailer_bytes = 8 * 1024;  // trailer fields after the last chunk
};

struct ParseError {
    int status = 400;
    std::string message;
    std::string code;  // OpenAI-style error code, e.g. "invalid_http_framing"
};

struct RequestHead {
    std::string method;
    std::string target;
    int version_minor = 1;
    std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
    std::optional<uint64_t> content_length;
    bool chunked = false;
    bool keep_alive = true;        // after this exchange (Connection and version)
    bool expect_continue = false;  // "Expect: 100-continue"
    bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

class RequestParser {
  public:
    enum class Event {
        need_more,  // every byte was consumed; feed more
        head,       // the head is complete: inspect head(), set the body policy, feed on
        complete,   // the message is complete: take_body(), then reset() for the next
        error,      // see error(); the connection cannot be used further
    };
    struct Progress {
        Event event;
        std::size_t consumed;  // bytes of the input used; the rest belongs to what follows
    };

    explicit RequestParser(ParseLimits limits = {}) : limits_(limits) {}

    Progress feed(std::string_view data);

    const RequestHead& head() const { return head_; }
    const ParseError& error() const { return error_; }
    // Largest body this message may have (checked as chunked bodies grow;
    // a declared Content-Length is for the caller to check at the head).
    void set_body_limit(std::size_t bytes) { body_limit_ = bytes; }
    // Read the body but keep none of it (a refused request on a connection that stays open).
    void discard_body() { discard_ = true; }
    std::string take_body() { return std::move(body_); }
    // Body bytes seen so far, kept or discarded.
    uint64_t body_received() const { return body_received_; }
    // True when no byte of a next message has been seen since reset().
    bool idle() const { return state_ == State::head && head_buf_.empty(); }
    void reset();

  private:
    enum class State {
        head,
        body_length,
        chunk_line,
        chunk_data,
        chunk_data_end,
        trailers,
        done,
        failed
    };

    Progress fail(std::size_t consumed, int status, std::string message,
                  std::string code = "invalid_http_request");
    // Parses head_buf_ (a complete head without its final empty line).
    bool parse_head(std::string_view text);
    bool parse_request_line(std::string_view line);
    bool parse_field(std::string_view line);
    bool finish_head();
    bool add_body(std::string_view bytes);

    ParseLimits limits_;
    State state_ = State::head;
    RequestHead head_;
    ParseError error_;
    std::string head_buf_;
    std::size_t scan_from_ = 0;  // where the search for the end of the head resumes
    std::string body_;
    std::size_t body_limit_ = 0;
    uint64_t body_received_ = 0;
    uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
    std::string line_;        // a chunk-size line or trailer section being read
    std::size_t trailer_bytes_ = 0;
    bool discard_ = false;
};

}  // namespace modelgate::core::http

// The HTTP/1.x request parser, without sockets: framing, bounds, refusals, and
// the same result however the bytes are split.
#include "http/request_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using modelgate::core::http::ParseLimits;
using modelgate::core::http::RequestParser;
using Event = RequestParser::Event;

namespace {

struct Parsed {
    bool ok = false;
    int status = 0;  // of the error
    std::string code;
    std::string method, target, body;
    bool keep_alive = false, expect_continue = false;
    std::vector<std::pair<std::string, std::string>> headers;
    std::size_t consumed = 0;  // bytes of the input that belonged to this message
};

// Feeds text in pieces of `piece` bytes (0: all at once) with the given body
// limit; stops after the first message.
Parsed parse(const std::string& text, std::size_t piece = 0, std::size_t limit = 1 << 20,
             ParseLimits limits = {}) {
    RequestParser p(limits);
    Parsed out;
    std::size_t pos = 0;
    for (;;) {
        std::size_t n = piece == 0 ? text.size() - pos : std::min(piece, text.size() - pos);
        auto progress = p.feed(std::string_view(text).substr(pos, n));
        pos += progress.consumed;
        switch (progress.event) {
            case Event::need_more:
                if (pos >= text.size()) return out;  // incomplete
                break;
            case Event::head:
                p.set_body_limit(limit);
                break;
            case Event::complete:
                out.ok = true;
                out.method = p.head().method;
                out.target = p.head().target;
                out.keep_alive = p.head().keep_alive;
                out.expect_continue = p.head().expect_continue;
                out.headers = p.head().headers;
                out.body = p.take_body();
                out.consumed = pos;
                return out;
            case Event::error:
                out.status = p.error().status;
                out.code = p.error().code;
                return out;
        }
    }
}

}  // namespace

TEST(RequestParser, GetWithoutBodyCompletesAfterItsHead) {
    auto r = parse("GET /healthz?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing:  value \r\n\r\n");
    ASSERT_TRUE(r.ok) << r.status;
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/healthz?x=1");
    EXPECT_TRUE(r.keep_alive);
    ASSERT_EQ(r.headers.size(), 2u);
    EXPECT_EQ(r.headers[1].first, "x-thing");  // names lower-cased
    EXPECT_EQ(r.headers[1].second, "value");   // values trimmed
}

TEST(RequestParser, SameResultForEverySplit) {
    const std::string req =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n";
    for (std::size_t piece : {0, 1, 2, 3, 7, 64}) {
        auto r = parse(req, piece);
        ASSERT_TRUE(r.ok) << "piece " << piece << ": " << r.status << " " << r.code;
        EXPECT_EQ(r.body, "hello world") << piece;
        EXPECT_EQ(r.consumed, req.size()) << piece;
    }
    const std::string cl = "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world";
    for (std::size_t piece : {0, 1, 5}) {
        auto r = parse(cl, piece);
        ASSERT_TRUE(r.ok) << piece;
        EXPECT_EQ(r.body, "hello world");
    }
}

TEST(RequestParser, PipelinedRequestsAreTakenOneAtATime) {
    const std::string one = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string two = "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi";
    std::string both = one + two;
    RequestParser p;
    auto a = p.feed(both);
    ASSERT_EQ(a.event, Event::head);
    p.set_body_limit(100);
    auto b = p.feed(std::string_view(both).substr(a.consumed));
    ASSERT_EQ(b.event, Event::complete);
    EXPECT_EQ(a.consumed + b.consumed, one.size());  // not a byte of the next request
    p.reset();
    std::string_view rest = std::string_view(both).substr(one.size());
    auto c = p.feed(rest);
    ASSERT_EQ(c.event, Event::head);
    EXPECT_EQ(p.head().target, "/b");
    p.set_body_limit(100);
    auto d = p.feed(rest.substr(c.consumed));
    ASSERT_EQ(d.event, Event::complete);
    EXPECT_EQ(p.take_body(), "hi");
}

TEST(RequestParser, AmbiguousFramingIsRefused) {
    struct Case {
        std::string head;
        int status;
    };
    const std::vector<Case> cases = {
        {"Content-Length: 5\r\nContent-Length: 6", 400},
        {"Content-Length: 5, 6", 400},
        {"Content-Length: -1", 400},
        {"Content-Length: 0x10", 400},
        {"Content-Length: ", 400},
        {"Content-Length: 99999999999999999999", 413},
        {"Transfer-Encoding : chunked", 400},
        {"Transfer-Encoding: chunked\r\nContent-Length: 5", 400},
        {"Transfer-Encoding: identity", 400},
        {"Transfer-Encoding: gzip, chunked", 501},
        {"X-A: b\r\n  folded", 400},
        {"X-A: b\x01", 400},
        {"X A: b", 400},
        {"Expect: something", 417},
    };
    for (const auto& c : cases) {
        auto r = parse("POST /x HTTP/1.1\r\nHost: a\r\n" + c.head + "\r\n\r\nhello");
        EXPECT_FALSE(r.ok) << c.head;
        EXPECT_EQ(r.status, c.status) << c.head;
    }
    // The same Content-Length twice is one length.
    auto same =
        parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_TRUE(same.ok);
    EXPECT_EQ(same.body, "hello");
}

TEST(RequestParser, RequestLinesAndVersions) {
    EXPECT_EQ(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n").status, 505);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\n\r\n").status, 400);                        // no Host
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400);  // two
    EXPECT_EQ(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n").status, 400);
    EXPECT_EQ(parse("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n").status, 400);
    EXPECT_EQ(parse("GET / HTTP/1.1\rHost: a\r\n\r\n").status, 400);  // bare CR
    EXPECT_EQ(parse("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").status, 400);
    auto old = parse("GET / HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(old.ok);
    EXPECT_FALSE(old.keep_alive);
    EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").keep_alive);
    EXPECT_TRUE(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").ok);  // leading empty lines
    EXPECT_TRUE(parse("GET / HTTP/1.1\nHost: a\n\n").ok);                // bare LF endings
    auto expect =
        parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx");
    EXPECT_TRUE(expect.expect_continue);
}

TEST(RequestParser, HeadBoundsAreEnforced) {
    ParseLimits small;
    small.max_head_bytes = 200;
    small.max_headers = 3;
    std::string long_head = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(300, 'a') + "\r\n\r\n";
    EXPECT_EQ(parse(long_head, 0, 1000, small).status, 431);
    EXPECT_EQ(parse(long_head, 1, 1000, small).status, 431);
    EXPECT_EQ(
        parse("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 0, 1000, small).status,
        431);
    std::string long_target = "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
    EXPECT_EQ(parse(long_target).status, 414);
}

TEST(RequestParser, ChunkedBodiesStopAtTheLimit) {
    // A chunk size declaring more than the limit is refused before its data.
    auto huge = parse(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "ffffffffffffffff\r\n",
        0, 1000);
    EXPECT_EQ(huge.status, 413);
    EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "10000000000000000\r\n",
                    0, 1000)
                  .status,
              413);
    // Many small chunks: refused as soon as their total passes the limit.
    std::string many = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i)
        many += "a\r\n0123456789\r\n";
    EXPECT_EQ(parse(many, 0, 100).status, 413);
    // A chunk longer than its size, or a bad size.
    EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n"
                    "0\r\n\r\n")
                  .status,
              400);
    EXPECT_EQ(
        parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").status,
        400);
    EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    std::string(2000, '1') + "\r\n")
                  .status,
              400);  // a chunk-size line over its bound
}

TEST(RequestParser, ADeclaredLengthOverTheLimitIsNotRead) {
    RequestParser p;
    std::string req =
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x');
    auto h = p.feed(req);
    ASSERT_EQ(h.event, Event::head);
    p.set_body_limit(1000);
    auto b = p.feed(std::string_view(req).substr(h.consumed));
    EXPECT_EQ(b.event, Event::error);
    EXPECT_EQ(p.error().status, 413);
    EXPECT_EQ(p.body_received(), 0u);
}

TEST(RequestParser, ADiscardedBodyIsReadButNotKept) {
    RequestParser p;
    std::string req = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" +
                      std::string(5000, 'x') + "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    auto h = p.feed(req);
    ASSERT_EQ(h.event, Event::head);
    p.discard_body();
    auto b = p.feed(std::string_view(req).substr(h.consumed));
    ASSERT_EQ(b.event, Event::complete);
    EXPECT_EQ(p.take_body(), "");
    EXPECT_EQ(p.body_received(), 5000u);
    p.reset();
    auto next = p.feed(std::string_view(req).substr(h.consumed + b.consumed));
    EXPECT_EQ(next.event, Event::head);
}

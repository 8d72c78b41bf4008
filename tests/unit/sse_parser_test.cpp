#include <gtest/gtest.h>

#include <modelgate/sse.hpp>
#include <string>
#include <vector>

using modelgate::sdk::SseEvent;
using modelgate::sdk::SseParser;

namespace {

struct Collected {
    std::string type, data, id;
    bool operator==(const Collected& o) const {
        return type == o.type && data == o.data && id == o.id;
    }
};

std::vector<Collected> parse_in_pieces(const std::string& stream,
                                       const std::vector<std::size_t>& cuts) {
    SseParser p;
    std::vector<Collected> out;
    auto on = [&](const SseEvent& e) {
        out.push_back({std::string(e.type), std::string(e.data), std::string(e.id)});
    };
    std::size_t start = 0;
    for (std::size_t cut : cuts) {
        p.feed(std::string_view(stream).substr(start, cut - start), on);
        start = cut;
    }
    p.feed(std::string_view(stream).substr(start), on);
    p.finish(on);
    return out;
}

std::vector<Collected> parse(const std::string& stream) {
    return parse_in_pieces(stream, {});
}

}  // namespace

TEST(SseParser, ParsesEventsFieldsAndComments) {
    auto ev =
        parse(": keep-alive\n\nevent: message\nid: 7\ndata: {\"a\":\ndata: 1}\n\ndata: [DONE]\n\n");
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0], (Collected{"message", "{\"a\":\n1}", "7"}));
    EXPECT_EQ(ev[1].data, "[DONE]");
    EXPECT_EQ(ev[1].id, "7");  // the last id persists
}

TEST(SseParser, AcceptsCrlfCrAndLfLineEnds) {
    auto a = parse("data: x\r\n\r\ndata: y\r\rdata: z\n\n");
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].data, "x");
    EXPECT_EQ(a[1].data, "y");
    EXPECT_EQ(a[2].data, "z");
}

TEST(SseParser, OptionalSpaceAfterColonAndEmptyData) {
    auto a = parse("data:nospace\n\ndata\n\ndata:  two\n\n");
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].data, "nospace");
    EXPECT_EQ(a[1].data, "");
    EXPECT_EQ(a[2].data, " two");
}

TEST(SseParser, BareJsonLinesAreEvents) {
    auto a = parse("{\"x\":1}\n{\"x\":2}\n");
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[1].data, "{\"x\":2}");
}

TEST(SseParser, FinishDispatchesAnUnterminatedEvent) {
    auto a = parse("data: last");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].data, "last");
}

TEST(SseParser, EverySplitPointGivesTheSameEvents) {
    const std::string stream =
        ": ping\r\n\r\nevent: delta\r\ndata: "
        "{\"choices\":[{\"delta\":{\"content\":\"h\\u00e9\"}}]}\r\n\r\n"
        "data: line1\ndata: line2\n\nid: 42\ndata: 你好\r\rdata: [DONE]\n\n";
    auto whole = parse(stream);
    ASSERT_EQ(whole.size(), 4u);
    for (std::size_t i = 1; i < stream.size(); ++i) {
        EXPECT_EQ(parse_in_pieces(stream, {i}), whole) << "split at " << i;
        for (std::size_t j = i + 1; j < stream.size(); j += 7) {
            ASSERT_EQ(parse_in_pieces(stream, {i, j}), whole) << "split at " << i << " and " << j;
        }
    }
    // One byte at a time.
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < stream.size(); ++i)
        every.push_back(i);
    EXPECT_EQ(parse_in_pieces(stream, every), whole);
}

TEST(SseParser, OversizedEventFailsInsteadOfGrowingForever) {
    SseParser p(64);
    int events = 0;
    auto on = [&](const SseEvent&) { ++events; };
    EXPECT_TRUE(p.feed("data: short\n\n", on));
    EXPECT_FALSE(p.feed("data: " + std::string(100, 'x'), on));
    EXPECT_TRUE(p.failed());
    EXPECT_FALSE(p.feed("data: more\n\n", on));
    EXPECT_EQ(events, 1);
}

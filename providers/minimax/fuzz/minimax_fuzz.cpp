// libFuzzer target for the MiniMax adapter's parsers of upstream output: the
// markup scanner (whatever the input, cutting it anywhere must not change what
// it decodes to), the tool-call block parser with schema coercion, and the
// stream decoder fed raw bytes (it must end exactly once, done or error).
//
// Built as minimax_fuzz with -DMODELGATE_FUZZ=ON, or by hand from the source root:
//   clang++ -std=c++20 -O1 -fsanitize=fuzzer,address,undefined -I sdk/include \
//     providers/minimax/fuzz/minimax_fuzz.cpp \
//     providers/minimax/minimax_{answer,errors,markup,stream}.cpp
#include <cstdint>
#include <cstdlib>
#include <modelgate/json_limits.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "../minimax_markup.hpp"
#include "../minimax_stream.hpp"

using namespace modelgate::providers::minimax;

namespace {

std::vector<Segment> merged(std::vector<Segment> in) {
    std::vector<Segment> out;
    for (auto& s : in) {
        if (!out.empty() && out.back().kind == s.kind && s.kind != SegmentKind::tool_block)
            out.back().text += s.text;
        else
            out.push_back(std::move(s));
    }
    return out;
}

std::vector<Segment> scan(std::string_view text, const std::vector<std::size_t>& cuts) {
    MarkupScanner scanner;
    std::vector<Segment> out;
    std::size_t start = 0;
    for (std::size_t c : cuts) {
        scanner.feed(text.substr(start, c - start), out);
        start = c;
    }
    scanner.feed(text.substr(start), out);
    scanner.finish(out);
    return merged(std::move(out));
}

void check_scanner(std::string_view text) {
    auto whole = scan(text, {});
    for (std::size_t cut = 1; cut < text.size() && cut < 64; ++cut) {
        auto split = scan(text, {cut});
        if (split.size() != whole.size()) std::abort();
        for (std::size_t i = 0; i < split.size(); ++i)
            if (split[i].kind != whole[i].kind || split[i].text != whole[i].text) std::abort();
    }
    static const ToolSchemas schemas = ToolSchemas::from_request(
        R"({"tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{
        "i":{"type":"integer"},"n":{"type":"number"},"b":{"type":"boolean"},"o":{"type":"object"},
        "a":{"type":"array"},"s":{"type":"string"},"u":{"type":["integer","null"]}}}}}]})");
    for (const auto& seg : whole) {
        if (seg.kind != SegmentKind::tool_block) continue;
        for (const auto& call : parse_tool_block(seg.text, schemas)) {
            if (!modelgate::sdk::parse_json(call.arguments).is_object()) std::abort();
        }
    }
}

void check_stream(std::string_view bytes) {
    StreamDecoder decoder(R"({"model":"m","tools":[]})");
    struct Ends {
        int terminal = 0, after = 0;
    } ends;
    mg_event_sink raw{sizeof(mg_event_sink), &ends,
                      [](void* ctx, int32_t kind, uint32_t, const char*, uint64_t) {
                          auto& e = *static_cast<Ends*>(ctx);
                          if (e.terminal > 0) ++e.after;
                          if (kind == MG_EVENT_DONE || kind == MG_EVENT_ERROR) ++e.terminal;
                      }};
    modelgate::sdk::EventSink sink(&raw);
    std::size_t pos = 0, step = 1;
    while (pos < bytes.size()) {
        decoder.feed(bytes.substr(pos, step), sink);
        pos += step;
        step = step % 7 + 1;
    }
    decoder.finish(sink);
    if (ends.terminal != 1 || ends.after != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    check_scanner(input);
    check_stream(input);
    return 0;
}

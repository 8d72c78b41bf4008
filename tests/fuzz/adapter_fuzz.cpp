// One libFuzzer target for every provider plugin. It loads the .so named by
// MODELGATE_FUZZ_PLUGIN through the SDK's host loader (the code the gateway
// runs), creates an adapter from the first usable fixture configuration in
// MODELGATE_FUZZ_FIXTURES (or a default one), and feeds fuzzed bytes to the
// plugin's outside-input parsers: parse_response for chat, embeddings and
// model lists; the stream decoder, split where the input says, then finished;
// classify_error; build_request on a client body. fuzz_input.hpp has the
// input format; scripts/fuzz.sh builds and runs it.
//
// Besides the sanitizers' findings it aborts when a plugin breaks the ABI's
// contract in a way the gateway would pass on to a client: a stream that does
// not end exactly once or emits after its end, a chunk that is not one line
// of JSON (the core writes it as one SSE data line), a usage or error event
// that is not a JSON object, a successful parse that is not a JSON object.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <modelgate/host/adapter.hpp>
#include <modelgate/host/loader.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_input.hpp"

// The harness is a host of its own: its handle carries nothing.
struct mg_plugin_handle {
    int unused = 0;
};

namespace {

using modelgate::fuzz::Target;
using nlohmann::json;
namespace host = modelgate::host;

// ---------------------------------------------------------------------------
// A minimal host: plugin log lines are dropped (they would drown the fuzzer's
// output); feature services answer "not here".
// ---------------------------------------------------------------------------

void host_log(mg_plugin_handle*, int32_t, mg_str) {}
const mg_host_api kHost = host::standalone_host_api("adapter_fuzz", &host_log);

mg_plugin_handle g_handle;
std::shared_ptr<host::Adapter> g_adapter;
host::Call g_chat, g_chat_stream, g_embeddings, g_models;

[[noreturn]] void setup_failed(const std::string& why) {
    std::fprintf(stderr, "adapter_fuzz: %s\n", why.c_str());
    std::exit(2);
}

[[noreturn]] void violation(const char* what, std::string_view detail) {
    std::fprintf(stderr, "adapter_fuzz: contract violated: %s\n  data: %.*s\n", what,
                 static_cast<int>(std::min<std::size_t>(detail.size(), 2000)), detail.data());
    std::abort();
}

// The first fixture configuration the plugin should accept (the same rule as
// the conformance kit: sorted by name, one with "config" and no
// "expect_create_error").
json fixture_config(const char* dir) {
    json fallback = {{"name", "fuzz"}, {"base_url", "https://upstream.example/v1"}};
    if (dir == nullptr || *dir == '\0') return fallback;
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        std::ifstream in(file);
        std::stringstream text;
        text << in.rdbuf();
        json f = json::parse(text.str(), nullptr, false);
        if (f.is_object() && f.contains("config") && f["config"].is_object() &&
            !f.contains("expect_create_error")) {
            json c = f["config"];
            if (!c.contains("base_url")) c["base_url"] = fallback["base_url"];
            return c;
        }
    }
    return fallback;
}

bool is_json_object(std::string_view text) {
    return json::parse(text, nullptr, false).is_object();
}

// Checks the events of one stream as they arrive.
struct StreamCheck {
    int ended = 0;  // done or error events seen

    void on_event(int32_t kind, uint32_t /*flags*/, std::string_view data) {
        if (ended > 0) violation("an event after the end of the answer (done or error)", data);
        switch (kind) {
            case MG_EVENT_CHUNK:
                if (data.find_first_of("\r\n") != std::string_view::npos)
                    violation("a chunk with a line break (it breaks the client's SSE framing)",
                              data);
                if (!is_json_object(data)) violation("a chunk that is not a JSON object", data);
                break;
            case MG_EVENT_USAGE:
                if (!is_json_object(data)) violation("usage that is not a JSON object", data);
                break;
            case MG_EVENT_TEXT:
                break;
            case MG_EVENT_DONE:
                ++ended;
                break;
            case MG_EVENT_ERROR: {
                json error = json::parse(data, nullptr, false);
                if (!error.is_object() || !error.contains("message"))
                    violation("an error event that is not an OpenAI error object", data);
                ++ended;
                break;
            }
            default:
                violation("an unknown event kind", std::to_string(kind));
        }
    }
};

void fuzz_parse(const host::Call& call, int status, std::string_view body) {
    auto parsed = g_adapter->parse_response(call, status, body);
    if (!parsed.ok()) return;  // refusing garbage is the point
    if (!is_json_object(parsed->body))
        violation("parse_response succeeded with an answer that is not a JSON object",
                  parsed->body);
    if (!parsed->usage.empty() && !is_json_object(parsed->usage))
        violation("parse_response reported usage that is not a JSON object", parsed->usage);
}

void fuzz_stream(const std::vector<std::size_t>& chunks, std::string_view bytes) {
    auto decoder = g_adapter->open_stream(g_chat_stream);
    if (!decoder.ok()) violation("stream_open failed", decoder.failure->message);
    StreamCheck check;
    auto on_event = [&](int32_t kind, uint32_t flags, std::string_view data) {
        check.on_event(kind, flags, data);
    };
    std::size_t pos = 0;
    for (std::size_t i = 0; pos < bytes.size(); ++i) {
        std::size_t n = chunks.empty() ? bytes.size() : chunks[i % chunks.size()];
        // A failed feed already emitted an error event; the core stops there.
        if (!decoder.value->feed(bytes.substr(pos, n), on_event)) return;
        pos += std::min(n, bytes.size() - pos);
    }
    decoder.value->finish(on_event);
    if (check.ended != 1) violation("the stream did not end with done or error", bytes);
}

void fuzz_classify(int status, std::string_view payload) {
    std::string_view headers, body = payload;
    if (std::size_t nul = payload.find('\0'); nul != std::string_view::npos) {
        headers = payload.substr(0, nul);
        body = payload.substr(nul + 1);
    }
    auto c = g_adapter->classify_error(status, headers, body);
    if (c.error_class < MG_ERRCLASS_UPSTREAM || c.error_class > MG_ERRCLASS_RETRYABLE)
        violation("classify_error returned an unknown class", std::to_string(c.error_class));
    if (c.retry_after_ms < 0 || c.reset_at_unix_ms < 0)
        violation("classify_error returned a negative time", body);
}

void fuzz_build(int32_t op, bool stream, std::string_view body) {
    host::Call call;
    call.op = op;
    call.stream = stream;
    call.model = "fuzz-model";
    call.body.assign(body);
    (void)g_adapter->build_request(call);  // may refuse; the host checks what it builds
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* path = std::getenv("MODELGATE_FUZZ_PLUGIN");
    if (path == nullptr || *path == '\0')
        setup_failed("set MODELGATE_FUZZ_PLUGIN to the provider plugin .so to fuzz");
    auto loaded = host::load_plugin(path, &kHost, &g_handle);
    if (!loaded.plugin) setup_failed(std::string(path) + " was refused: " + loaded.refusal);
    if (loaded.plugin->kind != MG_KIND_PROVIDER)
        setup_failed(std::string(path) + " is not a provider plugin");
    json config = fixture_config(std::getenv("MODELGATE_FUZZ_FIXTURES"));
    auto adapter = host::Adapter::create(*loaded.plugin, config.value("name", "fuzz"),
                                         config.value("base_url", ""),
                                         config.value("options", json::object()));
    if (!adapter.ok())
        setup_failed("the adapter refused its configuration " + config.dump() + ": " +
                     adapter.failure->message);
    g_adapter = adapter.value;  // the loader keeps the library mapped

    g_chat.model = g_chat_stream.model = g_embeddings.model = "fuzz-model";
    g_chat.body = R"({"model":"fuzz-model","messages":[{"role":"user","content":"hi"}]})";
    g_chat_stream.stream = true;
    g_chat_stream.body =
        R"({"model":"fuzz-model","stream":true,"stream_options":{"include_usage":true},)"
        R"("messages":[{"role":"user","content":"hi"}]})";
    g_embeddings.op = MG_OP_EMBEDDINGS;
    g_embeddings.body = R"({"model":"fuzz-model","input":["hi"]})";
    g_models.op = MG_OP_LIST_MODELS;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    auto in = modelgate::fuzz::decode(data, size);
    if (!in) return 0;
    switch (in->target) {
        case Target::parse_chat:
            if (g_adapter->supports(MG_CAP_CHAT))
                fuzz_parse(g_chat, modelgate::fuzz::parse_status(in->variant), in->payload);
            break;
        case Target::parse_embeddings:
            if (g_adapter->supports(MG_CAP_EMBEDDINGS))
                fuzz_parse(g_embeddings, modelgate::fuzz::parse_status(in->variant), in->payload);
            break;
        case Target::parse_models:
            if (g_adapter->supports(MG_CAP_LIST_MODELS))
                fuzz_parse(g_models, modelgate::fuzz::parse_status(in->variant), in->payload);
            break;
        case Target::stream:
            if (g_adapter->supports(MG_CAP_CHAT_STREAM)) fuzz_stream(in->chunks, in->payload);
            break;
        case Target::classify_error:
            fuzz_classify(modelgate::fuzz::error_status(in->variant), in->payload);
            break;
        case Target::build_chat:
            fuzz_build(MG_OP_CHAT, false, in->payload);
            break;
        case Target::build_chat_stream:
            fuzz_build(MG_OP_CHAT, true, in->payload);
            break;
        case Target::build_embeddings:
            if (g_adapter->supports(MG_CAP_EMBEDDINGS))
                fuzz_build(MG_OP_EMBEDDINGS, false, in->payload);
            break;
    }
    return 0;
}

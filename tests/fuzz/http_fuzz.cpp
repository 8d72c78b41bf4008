// libFuzzer target for the HTTP request path up to the proxy pipeline. Client
// bytes, split where the input says, go through the gateway's real Connection
// (no socket; answers are serialized and dropped): the request parser, head
// admission (route, API key, body limits), Expect, pipelining, timeouts, and for
// /v1 calls prepare_call with a real adapter (the bundled openai plugin): the
// depth-bounded JSON parse, validation, model resolution with the key's
// allowlist, the message merge and the upstream request.
//
// Besides the sanitizers' findings it aborts when the server loses track of
// memory it charged to its buffer budget (every byte reserved while reading
// must be released once the connection is gone).
//
// Input: the first byte chooses the piece size (0: everything at once, else
// 1..255 bytes per on_input call); the rest is what the client sends.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "auth/api_key.hpp"
#include "domain/api_key_auth.hpp"
#include "http/connection.hpp"
#include "plugins/plugin_host.hpp"
#include "proxy/call_preparation.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/time.hpp"
#include "util/timer_service.hpp"

#ifndef MODELGATE_PLUGIN_OUTPUT_DIR
#define MODELGATE_PLUGIN_OUTPUT_DIR "plugins"
#endif

namespace {

using namespace modelgate::core;

struct World {
    TimerService timers;
    plugins::PluginHost plugins;
    std::shared_ptr<Snapshot> snapshot = std::make_shared<Snapshot>();
    std::shared_ptr<http::ServerCore> core = std::make_shared<http::ServerCore>();
};

World* g_world = nullptr;

[[noreturn]] void setup_failed(const std::string& why) {
    std::fprintf(stderr, "http_fuzz: %s\n", why.c_str());
    std::exit(2);
}

void add_binding(Snapshot& snap, int64_t id, const std::string& model) {
    BindingRuntime b;
    b.id = id;
    b.provider_id = 1;
    b.provider_name = "acme";
    b.public_name = model;
    b.upstream_model = model;
    snap.aliases["acme"][model] = snap.bindings.size();
    snap.global_aliases[model].push_back(snap.bindings.size());
    snap.bindings.push_back(b);
}

void answer(const http::ResponderPtr& responder, const Error& e) {
    responder->send(http::error_response(e));
}

void register_routes(World& w) {
    http::Router& router = w.core->state->router;
    auto snap = w.snapshot;
    http::RouteOptions keyed;
    keyed.admit = [snap](const http::Request& head) {
        http::Admission a;
        auto key = authenticate_api_key(*snap, head.header("authorization"), unix_ms_now());
        if (key)
            a.authenticated = true;
        else
            a.refusal = key.error();
        return a;
    };
    for (auto [path, op] : {std::pair{"/v1/chat/completions", MG_OP_CHAT},
                            std::pair{"/v1/embeddings", MG_OP_EMBEDDINGS}}) {
        int32_t operation = op;
        router.add(
            "POST", path,
            [snap, operation](http::Request& request, const http::ResponderPtr& responder) {
                auto key =
                    authenticate_api_key(*snap, request.header("authorization"), unix_ms_now());
                if (!key) return answer(responder, key.error());
                proxy::Caller caller;
                caller.key = key.value();
                caller.key_id = key.value()->id;
                caller.key_name = key.value()->name;
                proxy::CallInit init;
                auto st =
                    proxy::prepare_call(operation, request.body, snap, caller, true, {64}, init);
                if (!st) return answer(responder, st.error());
                responder->send(http::json_response(
                    200,
                    {{"upstream_bytes", init.upstream.body.size()}, {"url", init.upstream.url}}));
            },
            keyed);
    }
    router.add("GET", "/healthz", [](http::Request&, const http::ResponderPtr& responder) {
        responder->send(http::json_response(200, {{"status", "ok"}}));
    });
    router.add_prefix(
        "GET", "/v1/models/",
        [snap](http::Request& request, const http::ResponderPtr& responder) {
            auto route = snap->resolve(request.path.substr(11));
            if (!route) return answer(responder, route.error());
            responder->send(http::json_response(200, {{"id", route->binding->public_name}}));
        },
        "core", keyed);
    router.add("POST", "/admin/api/things/{id}",
               [](http::Request& request, const http::ResponderPtr& responder) {
                   auto j = parse_json_body(request.body);
                   if (!j) return answer(responder, j.error());
                   responder->send(http::json_response(201, {{"id", request.params["id"]}}));
               });
}

World* setup() {
    auto* w = new World();
    log::set_level(log::Level::error);
    const char* plugin = std::getenv("MODELGATE_FUZZ_PLUGIN");
    std::string path = plugin != nullptr && *plugin != '\0'
                           ? plugin
                           : std::string(MODELGATE_PLUGIN_OUTPUT_DIR) + "/openai.so";
    if (!w->plugins.load_file(path)) setup_failed("cannot load " + path);
    const auto* openai = w->plugins.find_provider("openai");
    if (openai == nullptr) setup_failed(path + " is not the openai provider plugin");
    auto adapter = modelgate::host::Adapter::create(*openai, "acme", "http://upstream.invalid/v1",
                                                    nlohmann::json::object());
    if (!adapter.ok()) setup_failed("openai adapter: " + adapter.failure->message);

    auto provider = std::make_shared<ProviderRuntime>();
    provider->id = 1;
    provider->name = "acme";
    provider->adapter = adapter.value;
    provider->merge_consecutive_messages = true;
    provider->limiter = AsyncSemaphore::create(4, w->timers);
    provider->keys = KeyPool::create(w->timers);
    provider->keys->configure({}, true, 4, {}, provider->limiter);
    w->snapshot->providers["acme"] = provider;
    add_binding(*w->snapshot, 1, "gpt-4o-mini");
    add_binding(*w->snapshot, 2, "text-embedding-3-small");
    for (auto [id, secret, allowed] :
         {std::tuple{1, "sk-fuzz", std::unordered_set<int64_t>{}},
          std::tuple{2, "sk-limited", std::unordered_set<int64_t>{2}}}) {
        auto key = std::make_shared<KeyRuntime>();
        key->id = id;
        key->name = secret;
        key->hash = auth::hash_api_key(secret);
        key->allowed_bindings = allowed;
        w->snapshot->keys_by_hash[key->hash] = key;
    }

    http::ServerOptions& o = w->core->options;
    o.max_body_bytes = 64u << 10;
    o.anonymous_body_bytes = 1024;
    o.max_pipelined_bytes = 4096;
    o.discard_body_bytes = 2048;
    o.max_buffered_bytes = 1u << 20;
    o.parse.max_head_bytes = 4096;
    o.parse.max_headers = 32;
    w->core->state = std::make_shared<http::ServerState>(std::vector<std::string>{"127.0.0.1/32"});
    register_routes(*w);
    return w;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_world = setup();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::size_t piece = data[0];
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    {
        auto conn = std::make_shared<http::Connection>(
            g_world->core, std::weak_ptr<Pistache::Tcp::Peer>(), -1, "127.0.0.1");
        if (piece == 0) {
            conn->on_input(input);
        } else {
            for (std::size_t at = 0; at < input.size(); at += piece)
                conn->on_input(input.substr(at, piece));
        }
        // Time passes: the head, body and idle timeouts, then the client leaves.
        conn->tick(std::chrono::steady_clock::now() + std::chrono::minutes(10));
        conn->on_disconnected();
    }
    if (uint64_t held = g_world->core->state->buffered_bytes.load(); held != 0) {
        std::fprintf(stderr, "http_fuzz: %llu buffered bytes never released\n",
                     static_cast<unsigned long long>(held));
        std::abort();
    }
    return 0;
}

#include "proxy/proxy_service.hpp"

#include <algorithm>
#include <tuple>

#include "domain/api_key_auth.hpp"
#include "http/request_util.hpp"
#include "http/responses.hpp"
#include "proxy/call_preparation.hpp"
#include "util/ids.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"

namespace modelgate::core::proxy {

namespace {

const http::HeaderList& cors_headers() {
    static const http::HeaderList h = {{"Access-Control-Allow-Origin", "*"}};
    return h;
}

nlohmann::json model_entry(const BindingRuntime& b) {
    return {{"id", b.provider_name + "/" + b.public_name},
            {"object", "model"},
            {"created", 0},
            {"owned_by", b.provider_name}};
}

Caller caller_of(const KeyRuntime* key, const http::Request& request) {
    Caller c;
    c.key = key;
    c.key_id = key->id;
    c.key_name = key->name;
    c.client_ip = request.client_ip;
    c.user_agent = std::string(request.header("user-agent"));
    return c;
}

}  // namespace

ProxyService::ProxyService(ConfigCache& config, upstream::UpstreamPool& upstreams, LogWriter& logs,
                           Metrics& metrics, ThreadPool& cpu, TimerService& timers,
                           ProxyOptions options)
    : config_(config),
      upstreams_(upstreams),
      logs_(logs),
      metrics_(metrics),
      cpu_(cpu),
      timers_(timers),
      options_(std::move(options)) {}

void ProxyService::register_routes(http::Router& router) {
    http::RouteOptions keyed;
    keyed.admit = [this](const http::Request& head) { return admit(head); };
    keyed.max_body = options_.max_body_bytes;
    router.add(
        "POST", "/v1/chat/completions",
        [this](http::Request& r, const http::ResponderPtr& w) { handle_call(MG_OP_CHAT, r, w); },
        keyed);
    router.add(
        "POST", "/v1/embeddings",
        [this](http::Request& r, const http::ResponderPtr& w) {
            handle_call(MG_OP_EMBEDDINGS, r, w);
        },
        keyed);
    router.add(
        "GET", "/v1/models",
        [this](http::Request& r, const http::ResponderPtr& w) { handle_models(r, w); }, keyed);
    router.add_prefix(
        "GET", "/v1/models/",
        [this](http::Request& r, const http::ResponderPtr& w) { handle_model(r, w); }, "core",
        keyed);
    auto preflight = [](http::Request&, const http::ResponderPtr& w) {
        w->send(http::text_response(
            204, "", "",
            {{"Access-Control-Allow-Origin", "*"},
             {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
             {"Access-Control-Allow-Headers",
              "Authorization, Content-Type, OpenAI-Organization, OpenAI-Project"},
             {"Access-Control-Max-Age", "86400"}}));
    };
    for (const char* p : {"/v1/chat/completions", "/v1/embeddings", "/v1/models"})
        router.add("OPTIONS", p, preflight);
}

http::Admission ProxyService::admit(const http::Request& head) {
    auto key =
        authenticate_api_key(*config_.current(), head.header("authorization"), unix_ms_now());
    if (key) return {std::nullopt, cors_headers(), true};
    // No log row: it would let anybody write to the database at will.
    metrics_.record_request(
        "", "", key.error().code == ErrorCode::forbidden ? "forbidden" : "unauthorized");
    return {key.error(), cors_headers(), false};
}

void ProxyService::handle_call(int32_t op, http::Request& request,
                               const http::ResponderPtr& responder) {
    auto received = SteadyClock::now();
    int64_t received_ms = unix_ms_now();
    auto snap = config_.current();
    // Checked again: the snapshot may have changed while the body arrived.
    auto key = authenticate_api_key(*snap, request.header("authorization"), received_ms);
    if (!key) {
        metrics_.record_request("", "", "unauthorized");
        responder->send(http::error_response(key.error(), cors_headers()));
        return;
    }
    Caller caller = caller_of(key.value(), request);
    if (request.body.size() <= options_.inline_prepare_bytes) {
        run_call(op, request.body, snap, caller, received, received_ms, responder);
        return;
    }
    // Parsing and rewriting megabytes of JSON takes milliseconds: not on a reactor.
    auto body = std::make_shared<std::string>(std::move(request.body));
    bool posted = cpu_.post([this, op, body, snap, caller, received, received_ms, responder] {
        run_call(op, *body, snap, caller, received, received_ms, responder);
    });
    if (!posted) {
        responder->send(http::error_response(
            make_error(ErrorCode::unavailable, "The gateway is shutting down.", "shutting_down"),
            cors_headers()));
    }
}

void ProxyService::run_call(int32_t op, const std::string& body,
                            const std::shared_ptr<const Snapshot>& snap, const Caller& caller,
                            SteadyTime received, int64_t received_ms,
                            const http::ResponderPtr& responder) {
    CallInit init;
    init.received_at = received;
    init.received_unix_ms = received_ms;
    if (auto st = prepare_call(op, body, snap, caller, true, {options_.max_messages}, init); !st) {
        refuse_call(st.error(), init, caller, received, responder);
        return;
    }
    auto call = std::make_shared<ProxyCall>(
        std::move(init), CallDeps{upstreams_.next(), logs_, metrics_, registry_, timers_},
        responder);
    call->start();
}

void ProxyService::refuse_call(const Error& e, const CallInit& init, const Caller& caller,
                               SteadyTime received, const http::ResponderPtr& responder) {
    http::HeaderList headers = cors_headers();
    headers.emplace_back("X-Request-Id", init.request_id);
    responder->send(http::error_response(e, std::move(headers)));
    CallStatus status = call_status(e.code);
    LogRecord r;
    r.kind = LogRecord::Kind::final;
    r.request_id = init.request_id;
    r.api_key_id = caller.key_id;
    r.api_key_name = caller.key_name;
    if (init.provider != nullptr) {
        r.provider_id = init.provider->id;
        r.provider_name = init.provider->name;
    }
    r.model = init.binding != nullptr ? init.binding->upstream_model
                                      : clip_utf8(init.requested_model, 200);
    r.requested_model = init.requested_model;
    r.endpoint = init.op == MG_OP_EMBEDDINGS ? "embeddings" : "chat";
    r.stream = init.client_stream;
    r.status = status;
    r.downstream_status = http_status(e.code);
    r.latency_ms = ms_between(received, SteadyClock::now());
    r.client_ip = caller.client_ip;
    r.user_agent = clip_utf8(caller.user_agent, 1024);
    r.error = redact(e.message, 2000);
    r.created_at_ms = init.received_unix_ms;
    r.updated_at_ms = unix_ms_now();
    logs_.submit(std::move(r));
    metrics_.record_request(init.provider != nullptr ? init.provider->name : "",
                            init.binding != nullptr ? init.binding->public_name : "",
                            call_status_name(status));
}

void ProxyService::handle_models(http::Request& request, const http::ResponderPtr& responder) {
    auto snap = config_.current();
    auto key = authenticate_api_key(*snap, request.header("authorization"), unix_ms_now());
    if (!key) {
        responder->send(http::error_response(key.error(), cors_headers()));
        return;
    }
    std::vector<const BindingRuntime*> visible;
    for (const auto& b : snap->bindings) {
        if (key.value()->may_use(b.id)) visible.push_back(&b);
    }
    std::sort(visible.begin(), visible.end(), [](const BindingRuntime* a, const BindingRuntime* b) {
        return std::tie(a->provider_name, a->public_name) <
               std::tie(b->provider_name, b->public_name);
    });
    nlohmann::json data = nlohmann::json::array();
    for (const auto* b : visible)
        data.push_back(model_entry(*b));
    responder->send(http::json_response(200, {{"object", "list"}, {"data", data}}, cors_headers()));
}

void ProxyService::handle_model(http::Request& request, const http::ResponderPtr& responder) {
    auto snap = config_.current();
    auto key = authenticate_api_key(*snap, request.header("authorization"), unix_ms_now());
    if (!key) {
        responder->send(http::error_response(key.error(), cors_headers()));
        return;
    }
    std::string id = http::url_decode(
        std::string_view(request.path).substr(std::string_view("/v1/models/").size()));
    auto route = snap->resolve(id, key.value());
    if (!route || !key.value()->may_use(route->binding->id)) {
        responder->send(http::error_response(
            make_error(ErrorCode::model_not_found, "The model '" + id + "' does not exist.",
                       "model_not_found"),
            cors_headers()));
        return;
    }
    responder->send(http::json_response(200, model_entry(*route->binding), cors_headers()));
}

int ProxyService::internal_call(const InternalCaller& who, std::string_view request_json,
                                std::string& response, std::string& error) {
    if (stopping_.load()) {
        error = "the gateway is shutting down";
        return -1;
    }
    auto snap = config_.current();
    Caller caller;
    caller.key_id = who.key_id;
    caller.key_name = who.key_name.empty() ? "internal:" + who.plugin_id : who.key_name;
    caller.client_ip = "internal";
    caller.user_agent = "modelgate/internal:" + who.plugin_id;
    CallInit init;
    init.received_at = SteadyClock::now();
    init.received_unix_ms = unix_ms_now();
    auto sink = std::make_shared<InternalClientSink>();
    auto answer = sink->answer();
    std::shared_ptr<ProxyCall> call;
    if (auto st = prepare_call(MG_OP_CHAT, request_json, snap, caller, false,
                               {options_.max_messages}, init);
        !st) {
        refuse_call(st.error(), init, caller, init.received_at, sink);
    } else {
        call = std::make_shared<ProxyCall>(
            std::move(init), CallDeps{upstreams_.next(), logs_, metrics_, registry_, timers_},
            sink);
        call->start();
    }
    sink.reset();
    // Waits in short slices: a shutdown must not leave a plugin's task waiting
    // out its whole timeout on a call the stopped loops will never end.
    auto deadline = who.timeout.count() > 0 ? SteadyClock::now() + who.timeout : SteadyTime::max();
    while (answer.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
        if (stopping_.load()) {
            if (call) call->abort_for_shutdown();
            error = "the gateway is shutting down";
            return -1;
        }
        if (SteadyClock::now() >= deadline) {
            // The caller stops waiting: the call ends as a client that went away.
            if (call) call->on_client_gone();
            error = "no answer within " + std::to_string(who.timeout.count()) + " ms";
            return -1;
        }
    }
    auto result = answer.get();
    response = std::move(result.body);
    if (result.status == 0) error = "the call ended without an answer";
    return result.status == 0 ? -1 : result.status;
}

void ProxyService::abort_all() {
    stopping_.store(true);
    for (auto& call : registry_.snapshot())
        call->abort_for_shutdown();
}

}  // namespace modelgate::core::proxy

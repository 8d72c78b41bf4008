#include "proxy/proxy_service.hpp"

#include <algorithm>
#include <tuple>

#include "http/connection.hpp"
#include "http/request_util.hpp"
#include "http/responses.hpp"
#include "http/server.hpp"
#include "proxy/messages.hpp"
#include "util/crypto.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"

namespace modelgate::core::proxy {

namespace {

const http::HeaderList& cors_headers() {
    static const http::HeaderList h = {{"Access-Control-Allow-Origin", "*"}};
    return h;
}

Error invalid(const std::string& message, const std::string& code = "invalid_request") {
    return make_error(ErrorCode::invalid_request, message, code);
}

// Checks the request body's shape for the operation.
Status validate_body(int32_t op, const nlohmann::json& j) {
    if (!j.is_object()) return invalid("The request body must be a JSON object.", "invalid_json");
    auto model = j.find("model");
    if (model == j.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) {
        return invalid("You must provide a model parameter (\"provider/model\").", "missing_model");
    }
    if (auto s = j.find("stream"); s != j.end() && !s->is_boolean() && !s->is_null()) {
        return invalid("'stream' must be a boolean.", "invalid_type");
    }
    if (op == MG_OP_CHAT) {
        auto messages = j.find("messages");
        if (messages == j.end() || !messages->is_array() || messages->empty()) {
            return invalid("'messages' must be a non-empty array of messages.", "missing_messages");
        }
        for (const auto& m : *messages) {
            if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
                return invalid("Every message must be an object with a string 'role'.",
                               "invalid_message");
            }
        }
        if (auto so = j.find("stream_options");
            so != j.end() && !so->is_object() && !so->is_null()) {
            return invalid("'stream_options' must be an object.", "invalid_type");
        }
    } else if (op == MG_OP_EMBEDDINGS) {
        auto input = j.find("input");
        if (input == j.end() || !(input->is_string() || input->is_array()) ||
            (input->is_array() && input->empty())) {
            return invalid("'input' must be a string or a non-empty array.", "missing_input");
        }
    }
    return Ok{};
}

nlohmann::json model_entry(const BindingRuntime& b) {
    return {{"id", b.provider_name + "/" + b.public_name},
            {"object", "model"},
            {"created", 0},
            {"owned_by", b.provider_name}};
}

}  // namespace

ProxyService::ProxyService(ConfigCache& config, upstream::UpstreamPool& upstreams, LogWriter& logs,
                           Metrics& metrics, ProxyOptions options)
    : config_(config),
      upstreams_(upstreams),
      logs_(logs),
      metrics_(metrics),
      options_(std::move(options)) {}

void ProxyService::register_routes(http::Router& router) {
    router.add("POST", "/v1/chat/completions",
               [this](http::RequestContext& ctx, Pistache::Http::ResponseWriter& w) {
                   handle_call(MG_OP_CHAT, ctx, w);
               });
    router.add("POST", "/v1/embeddings",
               [this](http::RequestContext& ctx, Pistache::Http::ResponseWriter& w) {
                   handle_call(MG_OP_EMBEDDINGS, ctx, w);
               });
    router.add("GET", "/v1/models",
               [this](http::RequestContext& ctx, Pistache::Http::ResponseWriter& w) {
                   handle_models(ctx, w);
               });
    router.add_prefix(
        "GET", "/v1/models/",
        [this](http::RequestContext& ctx, Pistache::Http::ResponseWriter& w) {
            handle_model(ctx, w);
        },
        "core");
    auto preflight = [](http::RequestContext&, Pistache::Http::ResponseWriter& w) {
        http::send(w, 204, "text/plain", "",
                   {{"Access-Control-Allow-Origin", "*"},
                    {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
                    {"Access-Control-Allow-Headers",
                     "Authorization, Content-Type, OpenAI-Organization, OpenAI-Project"},
                    {"Access-Control-Max-Age", "86400"}});
    };
    for (const char* p : {"/v1/chat/completions", "/v1/embeddings", "/v1/models"})
        router.add("OPTIONS", p, preflight);
}

Result<const KeyRuntime*> ProxyService::authenticate(const Snapshot& snap,
                                                     const Pistache::Http::Request& request) const {
    std::string auth = http::header_value(request, "Authorization");
    std::string_view token = auth;
    while (!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    if (token.size() >= 7 && http::lower(token.substr(0, 7)) == "bearer ") token.remove_prefix(7);
    while (!token.empty() && token.front() == ' ')
        token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ')
        token.remove_suffix(1);
    if (token.empty()) {
        return make_error(
            ErrorCode::unauthorized,
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
            "missing_api_key");
    }
    const KeyRuntime* key = snap.find_key(crypto::sha256_hex(token));
    if (key == nullptr)
        return make_error(ErrorCode::unauthorized, "Incorrect API key provided.",
                          "invalid_api_key");
    if (!key->active)
        return make_error(ErrorCode::unauthorized, "This API key has been disabled.",
                          "api_key_disabled");
    if (!key->time_rules.empty()) {
        std::string why;
        if (!time_rules_allow(key->time_rules, local_clock(unix_ms_now()), &why)) {
            return make_error(ErrorCode::forbidden,
                              "This API key may not be used at this time: " + why + ".",
                              "access_time_restricted");
        }
    }
    return key;
}

Result<CallInit> ProxyService::prepare(int32_t op, const std::string& body,
                                       const std::shared_ptr<const Snapshot>& snap,
                                       const Caller& caller, bool allow_stream) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        return invalid(
            "We could not parse the JSON body of your request. The body must be valid JSON.",
            "invalid_json");
    }
    if (auto v = validate_body(op, j); !v) return v.error();
    std::string requested = j["model"].get<std::string>();
    auto route = snap->resolve(requested);
    if (!route) return route.error();
    const ProviderRuntime& provider = *route->provider;
    const BindingRuntime& binding = *route->binding;
    if (caller.key != nullptr && !caller.key->may_use(binding.id)) {
        return make_error(ErrorCode::forbidden,
                          "This API key is not allowed to use the model '" + requested + "'.",
                          "model_not_allowed");
    }
    if (!provider.adapter) {
        return make_error(
            ErrorCode::unavailable,
            "The provider '" + provider.name + "' is not usable: " + provider.adapter_problem,
            "provider_unavailable");
    }
    if (auto why = provider.keys->unavailable(unix_ms_now())) {
        if (why->retry_after_ms <= 0) {
            return make_error(ErrorCode::unavailable,
                              "The provider '" + provider.name + "' has no usable upstream key.",
                              "provider_unavailable");
        }
        return cooling_down_error(provider.name, *why);
    }
    bool stream = allow_stream && j.value("stream", false);
    uint64_t needed =
        op == MG_OP_EMBEDDINGS ? MG_CAP_EMBEDDINGS : (stream ? MG_CAP_CHAT_STREAM : MG_CAP_CHAT);
    if (!provider.adapter->supports(needed)) {
        return invalid("The provider '" + provider.name + "' does not support " +
                           (op == MG_OP_EMBEDDINGS ? "embeddings"
                            : stream               ? "streaming"
                                                   : "chat completions") +
                           ".",
                       "unsupported_operation");
    }
    bool include_usage = false;
    j["model"] = binding.upstream_model;
    if (op == MG_OP_CHAT) {
        preprocess_messages(j["messages"],
                            merge_rules(provider.merge_consecutive_messages, binding.multimodal));
        if (!allow_stream) j["stream"] = false;
        auto so = j.find("stream_options");
        if (so != j.end() && so->is_object())
            include_usage = so->value("include_usage", false) == true;
        if (stream && provider.force_stream_usage) {
            j["stream_options"]["include_usage"] = true;  // usage is always recorded
        } else if (!allow_stream && so != j.end()) {
            j.erase("stream_options");
        }
    }

    CallInit init;
    init.request_id = next_request_id();
    init.op = op;
    init.client_stream = stream;
    init.include_usage = include_usage;
    init.snapshot = snap;
    init.provider = &provider;
    init.binding = &binding;
    init.api_key_id = caller.key_id;
    init.api_key_name = caller.key_name;
    init.requested_model = requested;
    init.client_ip = caller.client_ip;
    init.user_agent = caller.user_agent;
    init.call.op = op;
    init.call.stream = stream;
    init.call.model = binding.upstream_model;
    init.call.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    auto upstream = provider.adapter->build_request(init.call);
    if (!upstream.ok()) {
        const auto& f = *upstream.failure;
        if (f.status == MG_ERR_INVALID) return invalid(f.message, "invalid_request");
        if (f.status == MG_ERR_UNSUPPORTED) {
            return invalid(
                f.message.empty() ? "The provider does not support this operation." : f.message,
                "unsupported_operation");
        }
        MG_ERROR("proxy", provider.adapter->plugin_id() << ".build_request failed: " << f.message);
        return make_error(ErrorCode::internal,
                          "The provider adapter failed to build the upstream request.",
                          "adapter_error");
    }
    init.upstream = std::move(upstream.value);
    return init;
}

void ProxyService::handle_call(int32_t op, http::RequestContext& ctx,
                               Pistache::Http::ResponseWriter& writer) {
    auto received = SteadyClock::now();
    int64_t received_ms = unix_ms_now();
    const auto& request = ctx.request;
    http::HeaderList headers = cors_headers();
    if (request.body().size() > options_.max_body_bytes) {
        http::send_error(writer,
                         make_error(ErrorCode::body_too_large,
                                    "The request body is " + std::to_string(request.body().size()) +
                                        " bytes; the limit is " +
                                        std::to_string(options_.max_body_bytes) + " bytes.",
                                    "request_too_large"),
                         headers);
        return;
    }
    auto snap = config_.current();
    auto key = authenticate(*snap, request);
    if (!key) {
        http::send_error(writer, key.error(), headers);
        return;
    }
    Caller caller;
    caller.key = key.value();
    caller.key_id = key.value()->id;
    caller.key_name = key.value()->name;
    caller.client_ip = ctx.client_ip;
    caller.user_agent = http::header_value(request, "User-Agent");
    auto init = prepare(op, request.body(), snap, caller, true);
    if (!init) {
        http::send_error(writer, init.error(), headers);
        return;
    }
    init->received_at = received;
    init->received_unix_ms = received_ms;
    auto connection = http::ClientConnection::of(writer.getPeer());
    if (!connection) return;  // the client is already gone
    ctx.writer_moved = true;  // answered through the connection from here on
    bool keep_alive = request.version() == Pistache::Http::Version::Http11;
    if (auto c = request.headers().tryGet<Pistache::Http::Header::Connection>()) {
        keep_alive = c->control() == Pistache::Http::ConnectionControl::KeepAlive;
    }
    auto sink = std::make_unique<HttpClientSink>(std::move(connection), keep_alive);
    auto call = std::make_shared<ProxyCall>(std::move(init.value()),
                                            CallDeps{upstreams_.next(), logs_, metrics_, registry_},
                                            std::move(sink));
    call->start();
}

void ProxyService::handle_models(http::RequestContext& ctx,
                                 Pistache::Http::ResponseWriter& writer) {
    auto snap = config_.current();
    auto key = authenticate(*snap, ctx.request);
    if (!key) {
        http::send_error(writer, key.error(), cors_headers());
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
    http::send_json(writer, 200, {{"object", "list"}, {"data", data}}, cors_headers());
}

void ProxyService::handle_model(http::RequestContext& ctx, Pistache::Http::ResponseWriter& writer) {
    auto snap = config_.current();
    auto key = authenticate(*snap, ctx.request);
    if (!key) {
        http::send_error(writer, key.error(), cors_headers());
        return;
    }
    std::string id = http::url_decode(ctx.path.substr(std::string_view("/v1/models/").size()));
    auto route = snap->resolve(id);
    if (!route || !key.value()->may_use(route->binding->id)) {
        http::send_error(writer,
                         make_error(ErrorCode::model_not_found,
                                    "The model '" + id + "' does not exist.", "model_not_found"),
                         cors_headers());
        return;
    }
    http::send_json(writer, 200, model_entry(*route->binding), cors_headers());
}

int ProxyService::internal_call(const std::string& plugin_id, std::string_view request_json,
                                std::string& response, std::string& error) {
    auto snap = config_.current();
    Caller caller;
    caller.key_name = "internal:" + plugin_id;
    caller.client_ip = "internal";
    caller.user_agent = "modelgate/internal:" + plugin_id;
    auto init = prepare(MG_OP_CHAT, std::string(request_json), snap, caller, false);
    if (!init) {
        response = http::error_body(init.error()).dump();
        return http_status(init.error().code);
    }
    init->received_at = SteadyClock::now();
    init->received_unix_ms = unix_ms_now();
    auto sink = std::make_unique<InternalClientSink>();
    auto answer = sink->answer();
    auto call = std::make_shared<ProxyCall>(std::move(init.value()),
                                            CallDeps{upstreams_.next(), logs_, metrics_, registry_},
                                            std::move(sink));
    call->start();
    call.reset();
    auto result = answer.get();
    response = std::move(result.body);
    if (result.status == 0) error = "the call ended without an answer";
    return result.status == 0 ? -1 : result.status;
}

void ProxyService::abort_all() {
    for (auto& call : registry_.snapshot())
        call->abort_for_shutdown();
}

}  // namespace modelgate::core::proxy

#include "plugins/adapter.hpp"

#include "plugins/sink.hpp"
#include "util/log.hpp"

namespace modelgate::core::plugins {

namespace {

mg_call to_c(const CallSpec& call) {
    mg_call c{};
    c.struct_size = sizeof(mg_call);
    c.op = call.op;
    c.stream = call.stream ? 1 : 0;
    c.model = to_mg(call.model);
    c.body = to_mg(call.body);
    return c;
}

// Bridges mg_event_sink to a std::function.
struct EventBridge {
    const StreamDecoder::EventFn* fn;
    static void emit(void* ctx, int32_t kind, uint32_t flags, const char* data, uint64_t len) {
        auto* self = static_cast<EventBridge*>(ctx);
        try {
            (*self->fn)(
                kind, flags,
                std::string_view(data != nullptr ? data : "", static_cast<std::size_t>(len)));
        } catch (const std::exception& e) {
            MG_ERROR("adapter", "stream event handler threw: " << e.what());
        }
    }
};

}  // namespace

StreamDecoder::~StreamDecoder() {
    try {
        vt_->stream_close(decoder_);
    } catch (...) {
        MG_ERROR("adapter", "stream_close threw");
    }
}

bool StreamDecoder::feed(std::string_view bytes, const EventFn& on_event) {
    EventBridge bridge{&on_event};
    mg_event_sink sink{sizeof(mg_event_sink), &bridge, &EventBridge::emit};
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->stream_feed(decoder_, to_mg(bytes), &sink);
    } catch (...) {
    }
    if (rc != MG_OK) {
        on_event(
            MG_EVENT_ERROR, 0,
            R"({"message":"the provider adapter failed to decode the upstream stream","type":"upstream_error","code":"adapter_error"})");
        return false;
    }
    return true;
}

bool StreamDecoder::finish(const EventFn& on_event) {
    EventBridge bridge{&on_event};
    mg_event_sink sink{sizeof(mg_event_sink), &bridge, &EventBridge::emit};
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->stream_finish(decoder_, &sink);
    } catch (...) {
    }
    if (rc != MG_OK) {
        on_event(
            MG_EVENT_ERROR, 0,
            R"({"message":"the provider adapter failed to finish the upstream stream","type":"upstream_error","code":"adapter_error"})");
        return false;
    }
    return true;
}

Result<std::shared_ptr<AdapterInstance>> AdapterInstance::create(const LoadedPlugin& plugin,
                                                                 const std::string& provider_name,
                                                                 const std::string& base_url,
                                                                 nlohmann::json options) {
    if (plugin.provider == nullptr) {
        return make_error(ErrorCode::invalid_request,
                          "plugin '" + plugin.id + "' is not a provider adapter");
    }
    std::string problem = validate_options(plugin.config_schema, options);
    if (!problem.empty()) return make_error(ErrorCode::invalid_request, problem, "invalid_options");
    nlohmann::json config = {{"name", provider_name}, {"base_url", base_url}, {"options", options}};
    std::string text = config.dump();
    StringSink err;
    void* instance = nullptr;
    try {
        instance = plugin.provider->create(to_mg(text), err.get());
    } catch (...) {
        err.data = "create threw an exception";
    }
    if (instance == nullptr) {
        return make_error(ErrorCode::invalid_request,
                          "adapter '" + plugin.id + "' refused the configuration: " +
                              (err.data.empty() ? std::string("no reason given") : err.data),
                          "invalid_provider_config");
    }
    return std::shared_ptr<AdapterInstance>(
        new AdapterInstance(plugin.provider, instance, plugin.capabilities, plugin.id));
}

AdapterInstance::~AdapterInstance() {
    try {
        vt_->destroy(instance_);
    } catch (...) {
        MG_ERROR("adapter", "destroy of an '" << plugin_id_ << "' instance threw");
    }
}

Result<UpstreamRequestSpec> AdapterInstance::build_request(const CallSpec& call) const {
    mg_call c = to_c(call);
    StringSink method, url, headers, body, secret_header, err;
    mg_upstream_request out{};
    out.struct_size = sizeof(mg_upstream_request);
    out.method = method.get();
    out.url = url.get();
    out.headers = headers.get();
    out.body = body.get();
    out.secret_placement = MG_SECRET_BEARER;
    out.secret_header = secret_header.get();
    out.stream = 0;
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->build_request(instance_, &c, &out, err.get());
    } catch (...) {
        err.data = "build_request threw an exception";
    }
    if (rc == MG_ERR_INVALID)
        return make_error(ErrorCode::invalid_request, err.data, "invalid_request");
    if (rc == MG_ERR_UNSUPPORTED) {
        return make_error(
            ErrorCode::invalid_request,
            err.data.empty() ? "the provider does not support this operation" : err.data,
            "unsupported_operation");
    }
    if (rc != MG_OK) {
        MG_ERROR("adapter", plugin_id_ << ".build_request failed: " << err.data);
        return make_error(ErrorCode::internal,
                          "the provider adapter failed to build the upstream request",
                          "adapter_error");
    }
    if (url.data.rfind("http://", 0) != 0 && url.data.rfind("https://", 0) != 0) {
        return make_error(ErrorCode::internal, "the provider adapter built an invalid upstream URL",
                          "adapter_error");
    }
    for (char ch : headers.data + secret_header.data + method.data) {
        if (ch == '\r')
            return make_error(ErrorCode::internal, "the provider adapter built invalid headers",
                              "adapter_error");
    }
    UpstreamRequestSpec spec;
    spec.method = method.data.empty() ? "POST" : std::move(method.data);
    spec.url = std::move(url.data);
    spec.headers = std::move(headers.data);
    spec.body = std::move(body.data);
    spec.secret_placement = out.secret_placement;
    spec.secret_header = std::move(secret_header.data);
    spec.stream = out.stream != 0;
    return spec;
}

ParseOutcome AdapterInstance::parse_response(const CallSpec& call, int status,
                                             std::string_view body) const {
    mg_call c = to_c(call);
    StringSink out, usage, err;
    ParseOutcome result;
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->parse_response(instance_, &c, status, to_mg(body), out.get(), usage.get(),
                                 err.get());
    } catch (...) {
        err.data = "parse_response threw an exception";
    }
    if (rc == MG_OK) {
        result.kind = ParseOutcome::Kind::ok;
        result.body = std::move(out.data);
        result.usage = std::move(usage.data);
    } else if (rc == MG_ERR_UPSTREAM) {
        result.kind = ParseOutcome::Kind::upstream_error;
        result.error = std::move(err.data);
    } else {
        result.kind = ParseOutcome::Kind::failed;
        result.error = err.data.empty() ? "the provider adapter could not parse the answer"
                                        : std::move(err.data);
    }
    return result;
}

Result<std::unique_ptr<StreamDecoder>> AdapterInstance::open_stream(const CallSpec& call) const {
    mg_call c = to_c(call);
    StringSink err;
    void* decoder = nullptr;
    try {
        decoder = vt_->stream_open(instance_, &c, err.get());
    } catch (...) {
        err.data = "stream_open threw an exception";
    }
    if (decoder == nullptr) {
        MG_ERROR("adapter", plugin_id_ << ".stream_open failed: " << err.data);
        return make_error(ErrorCode::internal,
                          "the provider adapter could not open a stream decoder", "adapter_error");
    }
    return std::make_unique<StreamDecoder>(vt_, decoder);
}

ErrorClassification AdapterInstance::classify_error(int status, std::string_view headers,
                                                    std::string_view body) const {
    StringSink error_json;
    mg_error_info info{};
    info.struct_size = sizeof(mg_error_info);
    info.error_class = MG_ERRCLASS_UPSTREAM;
    info.error_json = error_json.get();
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->classify_error(instance_, status, to_mg(headers), to_mg(body), &info);
    } catch (...) {
    }
    ErrorClassification out;
    out.error_class = info.error_class;
    out.retry_after_ms = info.retry_after_ms;
    out.reset_at_unix_ms = info.reset_at_unix_ms;
    out.error =
        rc == MG_OK ? nlohmann::json::parse(error_json.data, nullptr, false) : nlohmann::json();
    if (!out.error.is_object() || !out.error.contains("message")) {
        out.error = {{"message", "upstream answered HTTP " + std::to_string(status)},
                     {"type", status == 429 ? "rate_limit_error" : "upstream_error"},
                     {"code", status}};
    }
    return out;
}

}  // namespace modelgate::core::plugins

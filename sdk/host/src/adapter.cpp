#include <modelgate/header_block.hpp>
#include <modelgate/host/adapter.hpp>
#include <modelgate/json_limits.hpp>
#include <modelgate/sink.hpp>

namespace modelgate::host {

namespace {

using modelgate::sdk::str;
using modelgate::sdk::StringSink;

mg_call to_c(const Call& call) {
    mg_call c{};
    c.struct_size = sizeof(mg_call);
    c.op = call.op;
    c.stream = call.stream ? 1 : 0;
    c.model = str(call.model);
    c.body = str(call.body);
    return c;
}

// Bridges mg_event_sink to a std::function.
struct EventBridge {
    const StreamDecoder::EventFn* fn;
    static void emit(void* ctx, int32_t kind, uint32_t flags, const char* data,
                     uint64_t len) noexcept {
        auto* self = static_cast<EventBridge*>(ctx);
        try {
            (*self->fn)(
                kind, flags,
                std::string_view(data != nullptr ? data : "", static_cast<std::size_t>(len)));
        } catch (...) {
            // The host's handler must not throw into the plugin.
        }
    }
};

template <class T>
Outcome<T> failed(int32_t status, std::string message) {
    Outcome<T> o;
    o.failure = Failure{status, std::move(message)};
    return o;
}

constexpr const char* kDecodeFailed =
    R"({"message":"the provider adapter failed to decode the upstream stream","type":"upstream_error","code":"adapter_error"})";

}  // namespace

StreamDecoder::~StreamDecoder() {
    try {
        vt_->stream_close(decoder_);
    } catch (...) {
    }
}

bool StreamDecoder::feed(std::string_view bytes, const EventFn& on_event) {
    EventBridge bridge{&on_event};
    mg_event_sink sink{sizeof(mg_event_sink), &bridge, &EventBridge::emit};
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->stream_feed(decoder_, str(bytes), &sink);
    } catch (...) {
    }
    if (rc != MG_OK) on_event(MG_EVENT_ERROR, 0, kDecodeFailed);
    return rc == MG_OK;
}

bool StreamDecoder::finish(const EventFn& on_event) {
    EventBridge bridge{&on_event};
    mg_event_sink sink{sizeof(mg_event_sink), &bridge, &EventBridge::emit};
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->stream_finish(decoder_, &sink);
    } catch (...) {
    }
    if (rc != MG_OK) on_event(MG_EVENT_ERROR, 0, kDecodeFailed);
    return rc == MG_OK;
}

Outcome<std::shared_ptr<Adapter>> Adapter::create(const Plugin& plugin,
                                                  const std::string& provider_name,
                                                  const std::string& base_url,
                                                  nlohmann::json options) {
    if (plugin.provider == nullptr) {
        return failed<std::shared_ptr<Adapter>>(
            MG_ERR_INVALID, "plugin '" + plugin.id + "' is not a provider adapter");
    }
    std::string problem = validate_options(plugin.config_schema, options);
    if (!problem.empty()) return failed<std::shared_ptr<Adapter>>(MG_ERR_INVALID, problem);
    nlohmann::json config = {{"name", provider_name}, {"base_url", base_url}, {"options", options}};
    std::string text = config.dump();
    StringSink err;
    void* instance = nullptr;
    try {
        instance = plugin.provider->create(str(text), err.get());
    } catch (...) {
        err.data = "create threw an exception";
    }
    if (instance == nullptr) {
        return failed<std::shared_ptr<Adapter>>(
            MG_ERR_INVALID, "adapter '" + plugin.id + "' refused the configuration: " +
                                (err.data.empty() ? std::string("no reason given") : err.data));
    }
    Outcome<std::shared_ptr<Adapter>> o;
    o.value = std::shared_ptr<Adapter>(
        new Adapter(plugin.provider, instance, plugin.capabilities, plugin.id));
    return o;
}

Adapter::~Adapter() {
    try {
        vt_->destroy(instance_);
    } catch (...) {
    }
}

Outcome<UpstreamRequest> Adapter::build_request(const Call& call) const {
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
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->build_request(instance_, &c, &out, err.get());
    } catch (...) {
        err.data = "build_request threw an exception";
    }
    if (rc != MG_OK) return failed<UpstreamRequest>(rc, err.data);
    if (url.data.rfind("http://", 0) != 0 && url.data.rfind("https://", 0) != 0) {
        return failed<UpstreamRequest>(MG_ERR_INTERNAL,
                                       "the adapter built an URL that is not http(s): " + url.data);
    }
    Outcome<UpstreamRequest> o;
    if (!modelgate::sdk::headers::parse_strict(headers.data, o.value.headers) ||
        (!secret_header.data.empty() && !modelgate::sdk::headers::valid_name(secret_header.data)) ||
        method.data.find_first_of("\r\n ") != std::string::npos) {
        return failed<UpstreamRequest>(MG_ERR_INTERNAL,
                                       "the adapter built a request with an invalid header");
    }
    o.value.method = method.data.empty() ? "POST" : std::move(method.data);
    o.value.url = std::move(url.data);
    o.value.body = std::move(body.data);
    o.value.secret_placement = out.secret_placement;
    o.value.secret_header = std::move(secret_header.data);
    o.value.stream = out.stream != 0;
    return o;
}

Outcome<Parsed> Adapter::parse_response(const Call& call, int status, std::string_view body) const {
    mg_call c = to_c(call);
    StringSink out, usage, err;
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->parse_response(instance_, &c, status, str(body), out.get(), usage.get(),
                                 err.get());
    } catch (...) {
        err.data = "parse_response threw an exception";
    }
    if (rc != MG_OK) {
        return failed<Parsed>(
            rc, err.data.empty() ? "the adapter could not parse the answer" : err.data);
    }
    Outcome<Parsed> o;
    o.value.body = std::move(out.data);
    o.value.usage = std::move(usage.data);
    return o;
}

Outcome<std::unique_ptr<StreamDecoder>> Adapter::open_stream(const Call& call) const {
    mg_call c = to_c(call);
    StringSink err;
    void* decoder = nullptr;
    try {
        decoder = vt_->stream_open(instance_, &c, err.get());
    } catch (...) {
        err.data = "stream_open threw an exception";
    }
    if (decoder == nullptr) {
        return failed<std::unique_ptr<StreamDecoder>>(
            MG_ERR_INTERNAL, err.data.empty() ? "stream_open returned no decoder" : err.data);
    }
    Outcome<std::unique_ptr<StreamDecoder>> o;
    o.value = std::make_unique<StreamDecoder>(vt_, decoder);
    return o;
}

ErrorClassification Adapter::classify_error(int status, std::string_view headers,
                                            std::string_view body) const {
    StringSink error_json;
    mg_error_info info{};
    info.struct_size = sizeof(mg_error_info);
    info.error_class = MG_ERRCLASS_UPSTREAM;
    info.error_json = error_json.get();
    int32_t rc = MG_ERR_INTERNAL;
    try {
        rc = vt_->classify_error(instance_, status, str(headers), str(body), &info);
    } catch (...) {
    }
    ErrorClassification out;
    out.error_class = info.error_class;
    out.retry_after_ms = info.retry_after_ms;
    out.reset_at_unix_ms = info.reset_at_unix_ms;
    out.error = rc == MG_OK ? modelgate::sdk::parse_json(error_json.data) : nlohmann::json();
    if (!out.error.is_object() || !out.error.contains("message")) {
        out.error = {{"message", "upstream answered HTTP " + std::to_string(status)},
                     {"type", status == 429 ? "rate_limit_error" : "upstream_error"},
                     {"code", status}};
    }
    return out;
}

}  // namespace modelgate::host

// The host's view of one configured provider adapter: a plugin instance behind
// the C ABI, every call guarded so a misbehaving plugin yields an error value,
// never a crash or an exception.
#pragma once

#include <modelgate/abi.h>

#include <functional>
#include <memory>
#include <modelgate/host/loader.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modelgate::host {

struct Call {
    int32_t op = MG_OP_CHAT;
    bool stream = false;
    std::string model;  // upstream model name
    std::string body;   // OpenAI-shaped JSON request
};

struct UpstreamRequest {
    std::string method;
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;  // valid names and values
    std::string body;
    int32_t secret_placement = MG_SECRET_BEARER;
    std::string secret_header;
    bool stream = false;
};

// What a hook returned when it did not succeed.
struct Failure {
    int32_t status = MG_ERR_INTERNAL;  // mg_status
    std::string message;
};

template <class T>
struct Outcome {
    T value{};
    std::optional<Failure> failure;
    bool ok() const { return !failure.has_value(); }
    T* operator->() { return &value; }
    const T* operator->() const { return &value; }
    // The status of a failure (MG_OK when it succeeded).
    int32_t status() const { return failure ? failure->status : MG_OK; }
};

struct Parsed {
    std::string body;   // OpenAI JSON answer
    std::string usage;  // usage JSON object, empty when none
};

struct ErrorClassification {
    int32_t error_class = MG_ERRCLASS_UPSTREAM;
    int64_t retry_after_ms = 0;
    int64_t reset_at_unix_ms = 0;
    nlohmann::json error;  // {"message","type","code"}
};

// One decoder for one streamed answer. Not thread-safe (one stream, one thread).
class StreamDecoder {
  public:
    using EventFn = std::function<void(int32_t kind, uint32_t flags, std::string_view data)>;
    StreamDecoder(const mg_provider_vtable* vt, void* decoder) : vt_(vt), decoder_(decoder) {}
    ~StreamDecoder();
    StreamDecoder(const StreamDecoder&) = delete;
    StreamDecoder& operator=(const StreamDecoder&) = delete;

    // False when the plugin reported a failure (an error event is emitted then).
    bool feed(std::string_view bytes, const EventFn& on_event);
    bool finish(const EventFn& on_event);

  private:
    const mg_provider_vtable* vt_;
    void* decoder_;
};

class Adapter {
  public:
    // Validates options against the plugin's schema and creates an instance.
    static Outcome<std::shared_ptr<Adapter>> create(const Plugin& plugin,
                                                    const std::string& provider_name,
                                                    const std::string& base_url,
                                                    nlohmann::json options);
    ~Adapter();
    Adapter(const Adapter&) = delete;
    Adapter& operator=(const Adapter&) = delete;

    bool supports(uint64_t capability) const { return (capabilities_ & capability) != 0; }
    const std::string& plugin_id() const { return plugin_id_; }

    Outcome<UpstreamRequest> build_request(const Call& call) const;
    // MG_ERR_UPSTREAM in the failure means: a 2xx answer that is an error.
    Outcome<Parsed> parse_response(const Call& call, int status, std::string_view body) const;
    Outcome<std::unique_ptr<StreamDecoder>> open_stream(const Call& call) const;
    ErrorClassification classify_error(int status, std::string_view headers,
                                       std::string_view body) const;

  private:
    Adapter(const mg_provider_vtable* vt, void* instance, uint64_t caps, std::string id)
        : vt_(vt), instance_(instance), capabilities_(caps), plugin_id_(std::move(id)) {}

    const mg_provider_vtable* vt_;
    void* instance_;
    uint64_t capabilities_;
    std::string plugin_id_;
};

}  // namespace modelgate::host

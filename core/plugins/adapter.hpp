// The core's view of one configured provider adapter: a plugin instance behind
// the C ABI, with every call guarded so a misbehaving plugin yields an error,
// never a crash or an exception on the request path.
#pragma once

#include <modelgate/abi.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "plugins/plugin_host.hpp"
#include "util/result.hpp"

namespace modelgate::core::plugins {

struct CallSpec {
    int32_t op = MG_OP_CHAT;
    bool stream = false;
    std::string model;  // upstream model name
    std::string body;   // normalized OpenAI JSON request
};

struct UpstreamRequestSpec {
    std::string method;
    std::string url;
    std::string headers;  // "Name: value\n" lines
    std::string body;
    int32_t secret_placement = MG_SECRET_BEARER;
    std::string secret_header;
    bool stream = false;
};

struct ParseOutcome {
    enum class Kind { ok, upstream_error, failed };
    Kind kind = Kind::failed;
    std::string body;   // OpenAI JSON answer
    std::string usage;  // usage JSON object, empty when none
    std::string error;  // why it failed
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

    // False when the plugin reported a failure (an error event was emitted).
    bool feed(std::string_view bytes, const EventFn& on_event);
    bool finish(const EventFn& on_event);

  private:
    const mg_provider_vtable* vt_;
    void* decoder_;
};

class AdapterInstance {
  public:
    // Validates options against the plugin's schema and creates the instance.
    static Result<std::shared_ptr<AdapterInstance>> create(const LoadedPlugin& plugin,
                                                           const std::string& provider_name,
                                                           const std::string& base_url,
                                                           nlohmann::json options);
    ~AdapterInstance();
    AdapterInstance(const AdapterInstance&) = delete;
    AdapterInstance& operator=(const AdapterInstance&) = delete;

    bool supports(uint64_t capability) const { return (capabilities_ & capability) != 0; }
    const std::string& plugin_id() const { return plugin_id_; }

    Result<UpstreamRequestSpec> build_request(const CallSpec& call) const;
    ParseOutcome parse_response(const CallSpec& call, int status, std::string_view body) const;
    Result<std::unique_ptr<StreamDecoder>> open_stream(const CallSpec& call) const;
    ErrorClassification classify_error(int status, std::string_view headers,
                                       std::string_view body) const;

  private:
    AdapterInstance(const mg_provider_vtable* vt, void* instance, uint64_t caps, std::string id)
        : vt_(vt), instance_(instance), capabilities_(caps), plugin_id_(std::move(id)) {}

    const mg_provider_vtable* vt_;
    void* instance_;
    uint64_t capabilities_;
    std::string plugin_id_;
};

}  // namespace modelgate::core::plugins

// The Acme provider plugin: ModelGate's OpenAI-shaped calls translated to the
// Acme Generate API and back (README.md documents the wire format). A pure
// transformation: the gateway owns sockets, TLS, the secret, timeouts,
// retries, concurrency limits and logging; this class only rewrites bytes.
//
// Start your own plugin by renaming "acme" and replacing the translations in
// acme_wire.cpp and acme_stream.cpp.
#include <memory>
#include <modelgate/json_limits.hpp>
#include <modelgate/openai.hpp>
#include <modelgate/sdk.hpp>
#include <string>

#include "acme_stream.hpp"
#include "acme_wire.hpp"

#ifndef ACME_PLUGIN_VERSION
#define ACME_PLUGIN_VERSION "0.0.0"
#endif

namespace acme {

using modelgate::sdk::Call;
using modelgate::sdk::ErrorInfo;
using modelgate::sdk::InvalidRequest;
using modelgate::sdk::Operation;
using modelgate::sdk::ParsedResponse;
using modelgate::sdk::ProviderConfig;
using modelgate::sdk::SecretPlacement;
using modelgate::sdk::Unsupported;
using modelgate::sdk::UpstreamError;
using modelgate::sdk::UpstreamRequest;

// Options as data: the gateway validates a provider's options against this
// (types, unknown names) and fills the defaults before the constructor runs.
constexpr const char* kConfigSchema = R"json([
  {"name": "default_max_tokens", "type": "integer", "default": 1024,
   "help": "max_tokens sent to Acme when the client sets none (Acme requires a limit)"}
])json";

constexpr int64_t kMaxTokensLimit = 1'000'000;
// Bounds a Retry-After or reset time taken from a body, so *1000 cannot overflow.
constexpr int64_t kMaxSeconds = 100'000'000'000;

// Acme's API is close enough to OpenAI's that the SDK's OpenAI-compatible
// skeleton builds every request and checks every answer; this class overrides
// only what differs: the endpoint, where the key goes, the request and answer
// translations, the stream format and the error details.
class AcmeAdapter final : public modelgate::sdk::openai::CompatibleAdapter {
  public:
    // Throwing InvalidRequest refuses the configuration; the admin sees the message.
    // Options come with their schema defaults filled in by the gateway.
    explicit AcmeAdapter(const ProviderConfig& config)
        : CompatibleAdapter(config, {"/generate", /*no embeddings*/ "", "/models"}),
          default_max_tokens_(config.get<int64_t>("default_max_tokens")) {
        if (default_max_tokens_ < 1 || default_max_tokens_ > kMaxTokensLimit) {
            throw InvalidRequest("default_max_tokens must be between 1 and 1000000");
        }
    }

    std::unique_ptr<modelgate::sdk::StreamDecoder> open_stream(const Call& call) override {
        return std::make_unique<StreamDecoder>(call.model);
    }

    // The SDK's default covers HTTP status classes, Retry-After and bodies that
    // are not Acme's; Acme's typed errors refine it.
    ErrorInfo classify_error(int status, std::string_view headers, std::string_view body) override {
        ErrorInfo info = modelgate::sdk::default_classify_error(status, headers, body);
        json parsed = modelgate::sdk::parse_json(body);
        auto error = parsed.is_object() ? parsed.find("error") : parsed.end();
        if (!parsed.is_object() || error == parsed.end() || !error->is_object()) return info;
        auto type = string_member(*error, "type");
        if (!type) return info;
        if (auto cls = error_class_of(*type)) info.error_class = *cls;
        if (info.error_class == ErrorClass::rate_limited && info.retry_after_ms == 0) {
            auto seconds = integer_member(*error, "retry_in").value_or(0);
            if (seconds > 0 && seconds < kMaxSeconds) info.retry_after_ms = seconds * 1000;
        }
        if (info.error_class == ErrorClass::quota) {
            auto at = integer_member(*error, "resets_at").value_or(0);
            if (at > 0 && at < kMaxSeconds) info.reset_at_unix_ms = at * 1000;
        }
        info.error = to_openai_error(*error, info.error_class);
        return info;
    }

  protected:
    // Acme wants its key in X-Acme-Key; the core adds that header itself, so
    // the secret never passes through the plugin.
    void place_secret(UpstreamRequest& r) const override {
        r.secret = SecretPlacement::header;
        r.secret_header = "X-Acme-Key";
    }
    std::string stream_accept() const override { return "application/x-ndjson"; }

    std::string request_body(const Call& call) override {
        return to_acme_request(call.parsed_body(), call.model, default_max_tokens_, call.stream)
            .dump();
    }

    ParsedResponse answer(const Call& call, std::string_view body) override {
        json answer = modelgate::sdk::parse_json(body);
        if (!answer.is_object()) throw std::runtime_error("the Acme answer is not a JSON object");
        // An error in a 2xx answer: the core then asks classify_error about it.
        if (auto error = answer.find("error"); error != answer.end() && !error->is_null()) {
            throw UpstreamError("Acme answered 2xx with an error");
        }
        json completion = to_openai_completion(answer, call.model);
        ParsedResponse out;
        if (auto usage = completion.find("usage"); usage != completion.end()) out.usage = *usage;
        out.body = completion.dump();
        return out;
    }

    std::string models_body(std::string_view body) override {
        json answer = modelgate::sdk::parse_json(body);
        if (!answer.is_object()) throw std::runtime_error("the Acme answer is not a JSON object");
        if (auto error = answer.find("error"); error != answer.end() && !error->is_null()) {
            throw UpstreamError("Acme answered 2xx with an error");
        }
        return to_openai_models(answer, config().name).dump();
    }

  private:
    int64_t default_max_tokens_;
};

}  // namespace acme

// The plugin's one exported symbol. "acme" is the adapter id admins choose for
// a provider; the capabilities tell the gateway which calls to route here.
MODELGATE_PROVIDER_PLUGIN(acme::AcmeAdapter, "acme", ACME_PLUGIN_VERSION, "Acme Generate API",
                          MG_CAP_CHAT | MG_CAP_CHAT_STREAM | MG_CAP_LIST_MODELS,
                          acme::kConfigSchema);

// The Ollama provider: Ollama's native API (/api/chat, /api/embed, /api/tags)
// behind the gateway's OpenAI surface, so "ollama/llama3" works from any OpenAI
// client with Ollama's own features (thinking, keep_alive, options) reachable.
// A pure transformation: the core owns sockets, secrets, timeouts and logging.
#include <modelgate/json_limits.hpp>
#include <modelgate/sdk.hpp>

#include "ollama_answer.hpp"
#include "ollama_request.hpp"
#include "ollama_stream.hpp"

namespace modelgate::ollama {

namespace {

using sdk::Call;
using sdk::ErrorClass;
using sdk::ErrorInfo;
using sdk::InvalidRequest;
using sdk::Operation;
using sdk::ParsedResponse;
using sdk::ProviderConfig;
using sdk::UpstreamError;
using sdk::UpstreamRequest;

constexpr const char* kConfigSchema = R"([
  {"name": "keep_alive", "type": "string", "default": "",
   "help": "How long Ollama keeps a model loaded after a request: a duration (\"10m\", \"24h\") or seconds (\"-1\" forever, \"0\" unload at once). Empty: Ollama's default (5m). A request's own keep_alive wins"},
  {"name": "think", "type": "boolean", "default": null,
   "help": "Turn thinking on or off for every request (Ollama refuses think=true for models that cannot think, so set it on providers that serve thinking models such as deepseek-r1, qwen3, gpt-oss). Unset: the model's default. A request's reasoning_effort or think wins"},
  {"name": "options", "type": "object", "default": {},
   "help": "Ollama model options added to every chat request, e.g. {\"num_ctx\": 8192}; the request's own values win"},
  {"name": "extra_headers", "type": "object", "default": {},
   "help": "Headers added to every upstream request, e.g. for an authenticating proxy in front of Ollama"}
])";

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Ollama answers errors as {"error": "<message>"}; OpenAI clients expect
// {"message", "type", "code"} with OpenAI's type names.
sdk::json ollama_error(ErrorClass cls, const std::string& message) {
    switch (cls) {
        case ErrorClass::invalid_request:
            return sdk::make_error(message, "invalid_request_error", "invalid_request");
        case ErrorClass::auth:
            return sdk::make_error(message, "authentication_error", "invalid_api_key");
        case ErrorClass::permission:
            return sdk::make_error(message, "permission_error", "permission_denied");
        case ErrorClass::not_found:
            // Ollama's 404s are models it does not have ("model \"x\" not found, try
            // pulling it first"); OpenAI reports those as model_not_found.
            return sdk::make_error(
                message, "invalid_request_error",
                message.find("model") != std::string::npos ? "model_not_found" : "not_found");
        case ErrorClass::rate_limited:
            return sdk::make_error(message, "rate_limit_error", "rate_limit_exceeded");
        case ErrorClass::retryable:
            return sdk::make_error(message, "server_error", "upstream_server_error");
        default:
            return sdk::make_error(message, "upstream_error", "upstream_error");
    }
}

class OllamaAdapter final : public sdk::ProviderAdapter {
  public:
    explicit OllamaAdapter(const ProviderConfig& config) : name_(config.name) {
        base_url_ = config.base_url;
        modelgate::sdk::require_http_url(base_url_);
        // The native API lives at the root; tolerate a URL copied from Ollama's
        // OpenAI-compatible endpoint (/v1) or from the API's docs (/api).
        for (std::string_view suffix : {"/v1", "/api"}) {
            if (ends_with(base_url_, suffix)) {
                base_url_.resize(base_url_.size() - suffix.size());
                break;
            }
        }

        settings_.keep_alive = config.get<std::string>("keep_alive");
        if (sdk::has_line_break(settings_.keep_alive))
            throw InvalidRequest("keep_alive must be a duration such as \"10m\"");
        sdk::json think = config.get<sdk::json>("think");
        if (think.is_boolean()) settings_.think = think.get<bool>();
        sdk::json options = config.get<sdk::json>("options");
        if (!options.is_object()) throw InvalidRequest("options must be an object");
        settings_.default_options = std::move(options);

        extra_headers_ = modelgate::sdk::extra_headers_option(config);
    }

    UpstreamRequest build_request(const Call& call) override {
        UpstreamRequest r;
        r.headers = extra_headers_;
        r.secret = sdk::SecretPlacement::bearer;  // sent only when the admin set a key
        auto dump = [](const sdk::json& j) {
            return j.dump(-1, ' ', false, sdk::json::error_handler_t::replace);
        };
        switch (call.op) {
            case Operation::chat:
                r.url = base_url_ + "/api/chat";
                r.body = dump(chat_request(call.parsed_body(), call.model, call.stream, settings_));
                r.stream = call.stream;
                r.headers.emplace_back("Content-Type", "application/json");
                r.headers.emplace_back("Accept",
                                       call.stream ? "application/x-ndjson" : "application/json");
                break;
            case Operation::embeddings:
                r.url = base_url_ + "/api/embed";
                r.body = dump(embed_request(call.parsed_body(), call.model, settings_));
                r.headers.emplace_back("Content-Type", "application/json");
                r.headers.emplace_back("Accept", "application/json");
                break;
            case Operation::list_models:
                r.method = "GET";
                r.url = base_url_ + "/api/tags";
                r.headers.emplace_back("Accept", "application/json");
                break;
            default:
                throw sdk::Unsupported("the Ollama adapter does not offer this operation");
        }
        return r;
    }

    ParsedResponse parse_response(const Call& call, int /*status*/,
                                  std::string_view body) override {
        sdk::json answer = sdk::parse_json(body);
        if (!answer.is_object())
            throw std::runtime_error("upstream answered with a body that is not a JSON object");
        if (auto err = answer.find("error"); err != answer.end() && !err->is_null())
            throw UpstreamError("upstream answered 2xx with an error body");

        ParsedResponse out;
        switch (call.op) {
            case Operation::chat: {
                std::string hash = stable_hex(body);
                out.body = chat_completion(answer, hash, call.model).dump();
                out.usage = TokenCounts::of(answer).for_core();
                break;
            }
            case Operation::embeddings: {
                sdk::json request = sdk::parse_json(call.body);
                out.body = embedding_list(answer, embedding_encoding(request), call.model).dump();
                out.usage = embedding_usage_for_core(answer);
                break;
            }
            case Operation::list_models:
                out.body = model_list(answer, name_).dump();
                break;
            default:
                throw sdk::Unsupported("the Ollama adapter does not offer this operation");
        }
        if (out.usage && out.usage->empty()) out.usage.reset();  // the core estimates
        return out;
    }

    std::unique_ptr<sdk::StreamDecoder> open_stream(const Call& call) override {
        return std::make_unique<NdjsonStreamDecoder>(std::string(call.model));
    }

    ErrorInfo classify_error(int status, std::string_view headers, std::string_view body) override {
        // Status classes and Retry-After as for any HTTP API; an OpenAI-shaped
        // error (from a proxy in front of Ollama) is kept as it is.
        ErrorInfo info = sdk::default_classify_error(status, headers, body);
        sdk::json parsed = sdk::parse_json(body);
        const sdk::json* message = nullptr;
        if (parsed.is_object()) {
            auto it = parsed.find("error");
            if (it != parsed.end() && it->is_string()) message = &*it;
            if (it != parsed.end() && it->is_object()) return info;
        }
        info.error = ollama_error(info.error_class, message != nullptr
                                                        ? message->get<std::string>()
                                                        : info.error["message"].get<std::string>());
        return info;
    }

  private:
    std::string name_;
    std::string base_url_;
    RequestSettings settings_;
    std::vector<std::pair<std::string, std::string>> extra_headers_;
};

}  // namespace

}  // namespace modelgate::ollama

MODELGATE_PROVIDER_PLUGIN(modelgate::ollama::OllamaAdapter, "ollama", "1.0.0",
                          "Ollama (native API)",
                          MG_CAP_CHAT | MG_CAP_CHAT_STREAM | MG_CAP_EMBEDDINGS | MG_CAP_LIST_MODELS,
                          modelgate::ollama::kConfigSchema);

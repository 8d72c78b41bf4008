// DeepSeek (https://api-docs.deepseek.com): OpenAI's wire format plus
//  - "reasoning_content" in answers and stream deltas (kept, counted as generated text);
//  - usage fields of its own (prompt_cache_hit_tokens, prompt_cache_miss_tokens,
//    completion_tokens_details.reasoning_tokens), kept unchanged in the usage the
//    core records;
//  - thinking mode, which needs the assistant-history patch in thinking_patch.hpp;
//  - HTTP statuses with meanings of their own (402 balance, 422 parameters, 503 overloaded);
//  - finish_reason "insufficient_system_resource": DeepSeek cut the answer off for
//    lack of capacity. OpenAI clients know no such value and the answer is
//    incomplete, so it becomes a retryable error, not a success;
//  - blank lines before a whole answer and ": keep-alive" comments in streams while
//    it is busy.
// No embeddings API. A pure transformation: the core owns sockets and the secret.
#include <modelgate/json_limits.hpp>
#include <modelgate/openai.hpp>
#include <modelgate/sdk.hpp>
#include <optional>

#include "thinking_patch.hpp"

namespace {

using modelgate::sdk::Call;
using modelgate::sdk::ErrorClass;
using modelgate::sdk::ErrorInfo;
using modelgate::sdk::EventSink;
using modelgate::sdk::InvalidRequest;
using modelgate::sdk::json;
using modelgate::sdk::make_error;
using modelgate::sdk::Operation;
using modelgate::sdk::ParsedResponse;
using modelgate::sdk::ProviderConfig;
using modelgate::sdk::Unsupported;
using modelgate::sdk::UpstreamError;
using modelgate::sdk::UpstreamRequest;
namespace deepseek = modelgate::providers::deepseek;

constexpr const char* kDefaultBaseUrl = "https://api.deepseek.com";
constexpr const char* kInterrupted = "insufficient_system_resource";

constexpr const char* kConfigSchema = R"schema([
  {"name": "thinking_models", "type": "array",
   "default": ["deepseek-reasoner", "deepseek-r1", "deepseek-v3.", "deepseek-v4"],
   "help": "Upstream model name prefixes (case-insensitive, after any 'org/') that always run in thinking mode; their assistant history gets an empty reasoning_content where it lacks one"},
  {"name": "force_thinking", "type": "boolean", "default": false,
   "help": "Treat every call as thinking mode (for upstream models not named like DeepSeek's)"},
  {"name": "extra_headers", "type": "object", "default": {},
   "help": "Headers added to every upstream request, e.g. {\"X-Trace\": \"1\"}"}
])schema";

deepseek::ThinkingRules read_thinking_rules(const ProviderConfig& config) {
    deepseek::ThinkingRules rules;
    json prefixes = config.get<json>("thinking_models");
    if (!prefixes.is_array()) throw InvalidRequest("thinking_models must be an array of strings");
    for (const auto& p : prefixes) {
        if (!p.is_string() || p.get_ref<const std::string&>().empty())
            throw InvalidRequest("thinking_models must be an array of non-empty strings");
        rules.model_prefixes.push_back(p.get<std::string>());
    }
    rules.force = config.get<bool>("force_thinking");
    return rules;
}

json interrupted_error() {
    return make_error(
        "DeepSeek interrupted the answer for lack of inference capacity "
        "(finish_reason \"insufficient_system_resource\"); retry later.",
        "server_error", kInterrupted);
}

// True when a whole answer was cut off by DeepSeek (see the file comment).
bool answer_interrupted(const json& answer) {
    auto choices = answer.find("choices");
    if (choices == answer.end() || !choices->is_array()) return false;
    for (const auto& c : *choices) {
        if (!c.is_object()) continue;
        auto fr = c.find("finish_reason");
        if (fr != c.end() && fr->is_string() && fr->get_ref<const std::string&>() == kInterrupted)
            return true;
    }
    return false;
}

std::string_view trim_leading_whitespace(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
        s.remove_prefix(1);
    return s;
}

// OpenAI's decoder, plus: a chunk finished with "insufficient_system_resource" is
// forwarded without that finish reason and the stream then ends with an error,
// added by relay() right after that chunk (transform() cannot emit events).
class DeepSeekStreamDecoder final : public modelgate::sdk::openai::RelayingStreamDecoder {
  protected:
    bool transform(json& chunk) override {
        auto choices = chunk.find("choices");
        if (choices == chunk.end() || !choices->is_array()) return false;
        bool changed = false;
        for (auto& c : *choices) {
            if (!c.is_object()) continue;
            auto fr = c.find("finish_reason");
            if (fr != c.end() && fr->is_string() &&
                fr->get_ref<const std::string&>() == kInterrupted) {
                *fr = nullptr;
                pending_error_ = interrupted_error();
                changed = true;
            }
        }
        return changed;
    }

    void relay(int32_t kind, uint32_t flags, std::string_view data, EventSink& out) override {
        out.forward(kind, flags, data);
        if (kind == MG_EVENT_CHUNK && pending_error_) {
            json error = std::move(*pending_error_);
            pending_error_.reset();
            fail(out, error);
        }
    }

  private:
    std::optional<json> pending_error_;
};

ProviderConfig with_default_base_url(ProviderConfig config) {
    if (config.base_url.empty()) config.base_url = kDefaultBaseUrl;
    return config;
}

class DeepSeekAdapter final : public modelgate::sdk::openai::CompatibleAdapter {
  public:
    explicit DeepSeekAdapter(const ProviderConfig& config)
        : CompatibleAdapter(with_default_base_url(config),
                            {"/chat/completions", /*embeddings*/ "", "/models"}),
          rules_(read_thinking_rules(config)) {}

    std::unique_ptr<modelgate::sdk::StreamDecoder> open_stream(const Call&) override {
        return std::make_unique<DeepSeekStreamDecoder>();
    }

    ErrorInfo classify_error(int status, std::string_view headers, std::string_view body) override {
        ErrorInfo info = modelgate::sdk::default_classify_error(status, headers, body);
        if (status >= 200 && status < 300) {
            json parsed = modelgate::sdk::parse_json(body);
            if (parsed.is_object() && !parsed.contains("error") && answer_interrupted(parsed)) {
                info.error_class = ErrorClass::retryable;
                info.error = interrupted_error();
            }
            return info;
        }
        // DeepSeek's documented statuses. Its own "type"/"code" are often generic
        // ("invalid_request_error" for everything), so the OpenAI type and a precise
        // code come from the status; the message is DeepSeek's.
        struct Meaning {
            ErrorClass error_class;
            const char* type;
            const char* code;
        };
        std::optional<Meaning> m;
        switch (status) {
            case 400:
                m = Meaning{ErrorClass::invalid_request, "invalid_request_error", "invalid_format"};
                break;
            case 401:
                m = Meaning{ErrorClass::auth, "authentication_error", "invalid_api_key"};
                break;
            case 402:
                m = Meaning{ErrorClass::quota, "insufficient_quota", "insufficient_quota"};
                break;
            case 422:
                m = Meaning{ErrorClass::invalid_request, "invalid_request_error",
                            "invalid_parameters"};
                break;
            case 429:
                m = Meaning{ErrorClass::rate_limited, "rate_limit_error", "rate_limit_exceeded"};
                break;
            case 500:
                m = Meaning{ErrorClass::retryable, "server_error", "server_error"};
                break;
            case 503:
                m = Meaning{ErrorClass::retryable, "server_error", "server_overloaded"};
                break;
            default:
                return info;
        }
        info.error_class = m->error_class;
        json error = make_error(info.error.value("message", std::string()), m->type, m->code);
        if (info.error.contains("param")) error["param"] = info.error["param"];
        info.error = std::move(error);
        return info;
    }

  protected:
    // The OpenAI request, patched for thinking mode when the call runs in it.
    // Parsed only when thinking may be active; otherwise forwarded byte for byte.
    std::string request_body(const Call& call) override {
        bool may_think = rules_.force || deepseek::is_thinking_model(rules_, call.model) ||
                         call.body.find("\"thinking\"") != std::string_view::npos;
        if (!may_think) return std::string(call.body);
        json body = call.parsed_body();
        if (!deepseek::thinking_active(rules_, body, call.model)) return std::string(call.body);
        auto messages = body.find("messages");
        if (messages == body.end() || deepseek::patch_assistant_history(*messages) == 0)
            return std::string(call.body);
        return body.dump(-1, ' ', false, json::error_handler_t::replace);
    }

    // OpenAI's shape, DeepSeek's own usage fields included; an answer DeepSeek
    // cut short for lack of capacity is an error.
    ParsedResponse answer(const Call& call, std::string_view body) override {
        ParsedResponse out = CompatibleAdapter::answer(call, body);
        if (body.find(kInterrupted) != std::string_view::npos &&
            answer_interrupted(modelgate::sdk::parse_json(body)))
            throw UpstreamError("DeepSeek interrupted the answer (insufficient_system_resource)");
        out.body.assign(trim_leading_whitespace(body));
        return out;
    }

  private:
    deepseek::ThinkingRules rules_;
};

}  // namespace

MODELGATE_PROVIDER_PLUGIN(DeepSeekAdapter, "deepseek", "1.0.0", "DeepSeek",
                          MG_CAP_CHAT | MG_CAP_CHAT_STREAM | MG_CAP_LIST_MODELS, kConfigSchema);

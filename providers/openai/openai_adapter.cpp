// The generic OpenAI-compatible provider: any upstream that speaks OpenAI's
// /chat/completions, /embeddings and /models (OpenAI itself, vLLM, LM Studio,
// llama.cpp server, Ollama's /v1, most hosted APIs). A pure transformation: the
// core owns sockets, secrets, timeouts and logging.
#include <modelgate/openai.hpp>
#include <modelgate/sdk.hpp>

namespace {

using modelgate::sdk::Call;
using modelgate::sdk::InvalidRequest;
using modelgate::sdk::json;
using modelgate::sdk::Operation;
using modelgate::sdk::ParsedResponse;
using modelgate::sdk::ProviderConfig;
using modelgate::sdk::UpstreamError;
using modelgate::sdk::UpstreamRequest;

constexpr const char* kConfigSchema = R"([
  {"name": "extra_headers", "type": "object", "default": {},
   "help": "Headers added to every upstream request, e.g. {\"OpenAI-Organization\": \"org-1\"}"},
  {"name": "chat_path", "type": "string", "default": "/chat/completions",
   "help": "Path of the chat completions endpoint, appended to the base URL"},
  {"name": "embeddings_path", "type": "string", "default": "/embeddings",
   "help": "Path of the embeddings endpoint, appended to the base URL"},
  {"name": "models_path", "type": "string", "default": "/models",
   "help": "Path of the model list endpoint, appended to the base URL"}
])";

class OpenAiAdapter final : public modelgate::sdk::ProviderAdapter {
  public:
    explicit OpenAiAdapter(const ProviderConfig& config)
        : config_(config),
          chat_path_(config.option<std::string>("chat_path", "/chat/completions")),
          embeddings_path_(config.option<std::string>("embeddings_path", "/embeddings")),
          models_path_(config.option<std::string>("models_path", "/models")) {
        modelgate::sdk::require_http_url(config_.base_url);
        extra_headers_ = modelgate::sdk::extra_headers_option(config);
    }

    UpstreamRequest build_request(const Call& call) override {
        UpstreamRequest r;
        r.headers = extra_headers_;
        switch (call.op) {
            case Operation::chat:
                r.url = config_.base_url + chat_path_;
                r.body.assign(call.body);
                r.stream = call.stream;
                r.headers.emplace_back("Content-Type", "application/json");
                r.headers.emplace_back("Accept",
                                       call.stream ? "text/event-stream" : "application/json");
                break;
            case Operation::embeddings:
                r.url = config_.base_url + embeddings_path_;
                r.body.assign(call.body);
                r.headers.emplace_back("Content-Type", "application/json");
                r.headers.emplace_back("Accept", "application/json");
                break;
            case Operation::list_models:
                r.method = "GET";
                r.url = config_.base_url + models_path_;
                r.headers.emplace_back("Accept", "application/json");
                break;
        }
        return r;
    }

    ParsedResponse parse_response(const Call& call, int /*status*/,
                                  std::string_view body) override {
        ParsedResponse out;
        if (call.op == Operation::list_models) {
            out.body = modelgate::sdk::openai::model_list_body(body, config_.name);
            return out;
        }
        auto answer = modelgate::sdk::openai::summarize_answer(body);
        if (!answer.is_object) {
            throw std::runtime_error("upstream answered with a body that is not a JSON object");
        }
        if (answer.has_error) throw UpstreamError("upstream answered 2xx with an error body");
        out.usage = std::move(answer.usage);
        out.body.assign(body);  // already OpenAI's shape: forwarded byte for byte
        return out;
    }

    std::unique_ptr<modelgate::sdk::StreamDecoder> open_stream(const Call&) override {
        return std::make_unique<modelgate::sdk::openai::StreamDecoder>();
    }

  private:
    ProviderConfig config_;
    std::string chat_path_, embeddings_path_, models_path_;
    std::vector<std::pair<std::string, std::string>> extra_headers_;
};

}  // namespace

MODELGATE_PROVIDER_PLUGIN(OpenAiAdapter, "openai", "1.0.0", "OpenAI-compatible API",
                          MG_CAP_CHAT | MG_CAP_CHAT_STREAM | MG_CAP_EMBEDDINGS | MG_CAP_LIST_MODELS,
                          kConfigSchema);

// The generic OpenAI-compatible provider: any upstream that speaks OpenAI's
// /chat/completions, /embeddings and /models (OpenAI itself, vLLM, LM Studio,
// llama.cpp server, Ollama's /v1, most hosted APIs). A pure transformation: the
// core owns sockets, secrets, timeouts and logging.
#include <modelgate/openai.hpp>
#include <modelgate/sdk.hpp>

namespace {

using modelgate::sdk::ProviderConfig;

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

// Everything is the SDK's OpenAI-compatible skeleton; only the endpoint paths
// are configurable (their defaults are in the schema above).
class OpenAiAdapter final : public modelgate::sdk::openai::CompatibleAdapter {
  public:
    explicit OpenAiAdapter(const ProviderConfig& config)
        : CompatibleAdapter(config, {config.get<std::string>("chat_path"),
                                     config.get<std::string>("embeddings_path"),
                                     config.get<std::string>("models_path")}) {}
};

}  // namespace

MODELGATE_PROVIDER_PLUGIN(OpenAiAdapter, "openai", "1.0.0", "OpenAI-compatible API",
                          MG_CAP_CHAT | MG_CAP_CHAT_STREAM | MG_CAP_EMBEDDINGS | MG_CAP_LIST_MODELS,
                          kConfigSchema);

// The MiniMax provider (https://api.minimax.io/v1, https://api.minimaxi.com/v1):
// OpenAI's /chat/completions with MiniMax's quirks normalized. Reasoning that
// MiniMax-M2 writes into `content` as <think>...</think> (or returns in
// reasoning_details) becomes reasoning_content; tool calls written as
// <minimax:tool_call> markup become OpenAI tool_calls typed by the request's
// tool schemas; `base_resp` errors hidden in HTTP 200 answers and HTTP 529
// "overloaded" are classified. MiniMax has no /models endpoint and no
// OpenAI-shaped embeddings, so the adapter offers chat and streamed chat only.
#include <modelgate/json_limits.hpp>
#include <modelgate/openai.hpp>
#include <modelgate/sdk.hpp>

#include "minimax_answer.hpp"
#include "minimax_errors.hpp"
#include "minimax_stream.hpp"

namespace {

using modelgate::providers::minimax::RequestContext;
using modelgate::sdk::Call;
using modelgate::sdk::ErrorInfo;
using modelgate::sdk::InvalidRequest;
using modelgate::sdk::json;
using modelgate::sdk::Operation;
using modelgate::sdk::ParsedResponse;
using modelgate::sdk::ProviderConfig;
using modelgate::sdk::Unsupported;
using modelgate::sdk::UpstreamError;
using modelgate::sdk::UpstreamRequest;

constexpr const char* kConfigSchema = R"([
  {"name": "reasoning_split", "type": "boolean", "default": false,
   "help": "Ask MiniMax to return reasoning separately (reasoning_details) instead of as <think> text in content; either way clients get reasoning_content. A request's own reasoning_split wins."},
  {"name": "extra_headers", "type": "object", "default": {},
   "help": "Headers added to every upstream request, e.g. {\"X-Trace\": \"gw\"}"}
])";

class MiniMaxAdapter final : public modelgate::sdk::ProviderAdapter {
  public:
    explicit MiniMaxAdapter(const ProviderConfig& config)
        : config_(config), reasoning_split_(config.get<bool>("reasoning_split")) {
        modelgate::sdk::require_http_url(config_.base_url);
        extra_headers_ = modelgate::sdk::extra_headers_option(config);
    }

    UpstreamRequest build_request(const Call& call) override {
        if (call.op != Operation::chat)
            throw Unsupported(call.op == Operation::embeddings
                                  ? "MiniMax offers no OpenAI-compatible embeddings"
                                  : "MiniMax offers no model list (/v1/models)");
        UpstreamRequest r;
        r.url = config_.base_url + "/chat/completions";
        r.stream = call.stream;
        r.headers = extra_headers_;
        r.headers.emplace_back("Content-Type", "application/json");
        r.headers.emplace_back("Accept", call.stream ? "text/event-stream" : "application/json");
        if (reasoning_split_) {
            json body = call.parsed_body();
            if (!body.contains("reasoning_split")) body["reasoning_split"] = true;
            r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
        } else {
            r.body.assign(call.body);  // already OpenAI's shape, model and stream_options set
        }
        return r;
    }

    ParsedResponse parse_response(const Call& call, int /*status*/,
                                  std::string_view body) override {
        if (call.op != Operation::chat) throw Unsupported("MiniMax adapter: chat only");
        json answer = modelgate::sdk::parse_json(body);
        if (!answer.is_object()) {
            throw std::runtime_error("upstream answered with a body that is not a JSON object");
        }
        if (auto err = answer.find("error"); err != answer.end() && !err->is_null())
            throw UpstreamError("upstream answered 2xx with an error body");
        if (auto br = modelgate::providers::minimax::base_resp_error(answer)) {
            throw UpstreamError("upstream answered 2xx with base_resp error " +
                                std::to_string(br->code));
        }
        ParsedResponse out;
        if (auto usage = answer.find("usage"); usage != answer.end() && usage->is_object())
            out.usage = *usage;
        RequestContext request(call.body);
        if (modelgate::providers::minimax::normalize_answer(answer, request)) {
            out.body = answer.dump(-1, ' ', false, json::error_handler_t::replace);
        } else {
            out.body.assign(body);  // nothing to normalize: forwarded byte for byte
        }
        return out;
    }

    std::unique_ptr<modelgate::sdk::StreamDecoder> open_stream(const Call& call) override {
        return std::make_unique<modelgate::providers::minimax::StreamDecoder>(call.body);
    }

    ErrorInfo classify_error(int status, std::string_view headers, std::string_view body) override {
        return modelgate::providers::minimax::classify(status, headers, body);
    }

  private:
    ProviderConfig config_;
    bool reasoning_split_;
    std::vector<std::pair<std::string, std::string>> extra_headers_;
};

}  // namespace

MODELGATE_PROVIDER_PLUGIN(MiniMaxAdapter, "minimax", "1.0.0", "MiniMax (OpenAI-compatible API)",
                          MG_CAP_CHAT | MG_CAP_CHAT_STREAM, kConfigSchema);

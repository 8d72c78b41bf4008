// Zhipu GLM (BigModel, https://open.bigmodel.cn/api/paas/v4; Z.ai's
// https://api.z.ai/api/paas/v4 is the same API): OpenAI's shapes with
//  - request fields it rejects or names differently: "stream_options" (usage is
//    reported in every stream anyway), "n": 1, "max_completion_tokens" (its
//    "max_tokens");
//  - answers without "object" and finish reasons of its own ("sensitive",
//    "network_error"; see zhipu_stream_decoder.hpp for the stream side);
//  - business error codes (zhipu_errors.hpp);
//  - embeddings (embedding-2, embedding-3) returned as float arrays only, so an
//    OpenAI "encoding_format": "base64" request is answered by encoding them here.
// The API key is sent as "Authorization: Bearer <key>" (API v4 accepts the key
// itself; no JWT). Zhipu documents no model-list endpoint for API v4, so the
// adapter offers none (the gateway's /v1/models lists the provider's bindings).
#include <bit>
#include <cstdint>
#include <modelgate/json_limits.hpp>
#include <modelgate/openai.hpp>
#include <modelgate/sdk.hpp>

#include "zhipu_errors.hpp"
#include "zhipu_stream_decoder.hpp"

namespace {

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
namespace zhipu = modelgate::providers::zhipu;

constexpr const char* kDefaultBaseUrl = "https://open.bigmodel.cn/api/paas/v4";

constexpr const char* kConfigSchema = R"schema([
  {"name": "extra_headers", "type": "object", "default": {},
   "help": "Headers added to every upstream request, e.g. {\"X-Trace\": \"1\"}"}
])schema";

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// OpenAI's base64 embedding: the vector as little-endian float32, base64-encoded.
std::string float32_base64(const json& vector) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes;
    bytes.reserve(vector.size() * 4);
    for (const auto& v : vector) {
        if (!v.is_number())
            throw std::runtime_error("upstream embedding holds a value that is not a number");
        auto bits = std::bit_cast<uint32_t>(static_cast<float>(v.get<double>()));
        for (int shift = 0; shift < 32; shift += 8)
            bytes.push_back(static_cast<char>((bits >> shift) & 0xffu));
    }
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 2]);
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
        out.push_back(i + 2 < bytes.size() ? kAlphabet[n & 63] : '=');
    }
    return out;
}

json parse_answer(std::string_view body) {
    json j = modelgate::sdk::parse_json(body);
    if (!j.is_object())
        throw std::runtime_error("upstream answered with a body that is not a JSON object");
    if (zhipu::read_business_error(j)) throw UpstreamError("upstream answered 2xx with an error");
    return j;
}

class ZhipuAdapter final : public modelgate::sdk::ProviderAdapter {
  public:
    explicit ZhipuAdapter(const ProviderConfig& config)
        : config_(config), extra_headers_(modelgate::sdk::extra_headers_option(config)) {
        if (config_.base_url.empty()) config_.base_url = kDefaultBaseUrl;
        modelgate::sdk::require_http_url(config_.base_url);
    }

    UpstreamRequest build_request(const Call& call) override {
        UpstreamRequest r;
        r.headers = extra_headers_;
        r.headers.emplace_back("Content-Type", "application/json");
        switch (call.op) {
            case Operation::chat:
                r.url = config_.base_url + "/chat/completions";
                r.body = chat_body(call);
                r.stream = call.stream;
                r.headers.emplace_back("Accept",
                                       call.stream ? "text/event-stream" : "application/json");
                break;
            case Operation::embeddings: {
                r.url = config_.base_url + "/embeddings";
                json body = call.parsed_body();
                body.erase("encoding_format");  // Zhipu returns floats; base64 is encoded here
                r.body = dump(body);
                r.headers.emplace_back("Accept", "application/json");
                break;
            }
            case Operation::list_models:
                throw Unsupported("Zhipu's API has no model list");
        }
        return r;
    }

    ParsedResponse parse_response(const Call& call, int /*status*/,
                                  std::string_view body) override {
        if (call.op == Operation::embeddings) return embeddings_answer(call, body);
        if (call.op != Operation::chat) throw Unsupported("Zhipu's API has no model list");
        json answer = parse_answer(body);
        bool changed = false;
        if (!answer.contains("object")) {
            answer["object"] = "chat.completion";
            changed = true;
        }
        if (zhipu::ended_in_network_error(answer))
            throw UpstreamError("Zhipu ended the answer with finish_reason network_error");
        if (auto choices = answer.find("choices"); choices != answer.end() && choices->is_array()) {
            for (auto& c : *choices) {
                if (!c.is_object()) continue;
                auto fr = c.find("finish_reason");
                if (fr == c.end() || !fr->is_string()) continue;
                if (fr->get_ref<const std::string&>() == "sensitive") {
                    *fr = "content_filter";
                    changed = true;
                } else if (fr->get_ref<const std::string&>() == "model_context_window_exceeded") {
                    *fr = "length";
                    changed = true;
                }
            }
        }
        ParsedResponse out;
        if (auto usage = answer.find("usage"); usage != answer.end() && usage->is_object())
            out.usage = *usage;
        out.body = changed ? dump(answer) : std::string(body);
        return out;
    }

    std::unique_ptr<modelgate::sdk::StreamDecoder> open_stream(const Call&) override {
        return std::make_unique<zhipu::StreamDecoder>();
    }

    ErrorInfo classify_error(int status, std::string_view headers, std::string_view body) override {
        return zhipu::classify(status, headers, body);
    }

  private:
    static std::string chat_body(const Call& call) {
        json body = call.parsed_body();
        body.erase("stream_options");
        if (auto n = body.find("n"); n != body.end() && n->is_number() && *n == 1) body.erase(n);
        if (auto mct = body.find("max_completion_tokens"); mct != body.end()) {
            json value = std::move(*mct);
            body.erase(mct);
            auto mt = body.find("max_tokens");
            if (!value.is_null() && (mt == body.end() || mt->is_null()))
                body["max_tokens"] = std::move(value);
        }
        return dump(body);
    }

    static ParsedResponse embeddings_answer(const Call& call, std::string_view body) {
        json answer = parse_answer(body);
        json request = modelgate::sdk::parse_json(call.body);
        bool base64 = request.is_object() && request.value("encoding_format", "") == "base64";
        bool changed = false;
        if (!answer.contains("object")) {
            answer["object"] = "list";
            changed = true;
        }
        if (auto data = answer.find("data"); data != answer.end() && data->is_array()) {
            for (auto& item : *data) {
                if (!item.is_object()) continue;
                if (!item.contains("object")) {
                    item["object"] = "embedding";
                    changed = true;
                }
                auto e = item.find("embedding");
                if (base64 && e != item.end() && e->is_array()) {
                    *e = float32_base64(*e);
                    changed = true;
                }
            }
        }
        ParsedResponse out;
        if (auto usage = answer.find("usage"); usage != answer.end() && usage->is_object())
            out.usage = *usage;
        out.body = changed ? dump(answer) : std::string(body);
        return out;
    }

    ProviderConfig config_;
    std::vector<std::pair<std::string, std::string>> extra_headers_;
};

}  // namespace

MODELGATE_PROVIDER_PLUGIN(ZhipuAdapter, "zhipu", "1.0.0", "Zhipu GLM (BigModel)",
                          MG_CAP_CHAT | MG_CAP_CHAT_STREAM | MG_CAP_EMBEDDINGS, kConfigSchema);

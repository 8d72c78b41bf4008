// Building blocks for adapters of OpenAI-compatible upstreams: CompatibleAdapter
// (the whole request/response skeleton, with the points a provider's quirks
// override), a stream decoder for OpenAI's chat.completion.chunk SSE stream and
// helpers for whole answers and model lists.
#pragma once

#include <modelgate/json_limits.hpp>
#include <modelgate/sdk.hpp>
#include <modelgate/sse.hpp>
#include <optional>
#include <vector>

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

namespace modelgate::sdk::openai {

// Turns an upstream "error" member (object or string) into an OpenAI error object.
inline json normalize_error(const json& error) {
    if (error.is_object()) {
        json e = make_error(error.contains("message") && error["message"].is_string()
                                ? error["message"].get<std::string>()
                                : error.dump(),
                            error.contains("type") && error["type"].is_string()
                                ? error["type"].get<std::string>()
                                : std::string("upstream_error"),
                            error.contains("code") ? error["code"] : json(nullptr));
        if (e["code"].is_null()) e["code"] = e["type"];
        return e;
    }
    if (error.is_string()) return make_error(error.get<std::string>(), "upstream_error");
    return make_error(error.dump(), "upstream_error");
}

// Decodes an OpenAI chat completion stream. Chunks are forwarded byte for byte
// when they are one line of JSON, so the decoder adds no re-serialization cost on
// the common path. Subclasses adjust a parsed chunk by overriding transform().
class StreamDecoder : public sdk::StreamDecoder {
  public:
    void feed(std::string_view bytes, EventSink& sink) override {
        if (finished_) return;
        if (!parser_.feed(bytes, [&](const SseEvent& ev) { on_event(ev.data, sink); }) &&
            !finished_) {
            fail(sink, make_error("upstream stream event exceeds the size limit", "upstream_error",
                                  "stream_event_too_large"));
        }
    }

    void finish(EventSink& sink) override {
        if (finished_) return;
        parser_.finish([&](const SseEvent& ev) { on_event(ev.data, sink); });
        if (finished_) return;
        finished_ = true;
        if (saw_finish_reason_) {
            sink.done();  // the answer is complete; only the [DONE] marker was missing
        } else {
            sink.error(make_error("upstream closed the stream before the answer was complete",
                                  "upstream_error", "stream_truncated"));
        }
    }

  protected:
    // Adjusts one parsed chunk before it is forwarded. Return true when the chunk
    // was changed (it is then re-serialized).
    virtual bool transform(json& /*chunk*/) { return false; }

    void fail(EventSink& sink, const json& error) {
        finished_ = true;
        sink.error(error);
    }

  private:
    void on_event(std::string_view data, EventSink& sink) {
        if (finished_) return;
        while (!data.empty() && (data.back() == ' ' || data.back() == '\n'))
            data.remove_suffix(1);
        while (!data.empty() && data.front() == ' ')
            data.remove_prefix(1);
        if (data.empty()) return;
        if (data == "[DONE]") {
            finished_ = true;
            sink.done();
            return;
        }
        json chunk = modelgate::sdk::parse_json(data);
        if (!chunk.is_object()) {
            fail(sink, make_error("upstream sent a stream event that is not a JSON object",
                                  "upstream_error", "invalid_stream_event"));
            return;
        }
        if (auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
            fail(sink, normalize_error(*err));
            return;
        }
        bool changed = transform(chunk);
        bool usage_only = false;
        if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
            sink.usage(*usage);
            auto choices = chunk.find("choices");
            usage_only = choices == chunk.end() || (choices->is_array() && choices->empty());
        }
        if (auto choices = chunk.find("choices"); choices != chunk.end() && choices->is_array()) {
            for (const auto& choice : *choices) {
                if (!choice.is_object()) continue;
                if (auto fr = choice.find("finish_reason"); fr != choice.end() && fr->is_string()) {
                    saw_finish_reason_ = true;
                }
                auto delta = choice.find("delta");
                if (delta == choice.end() || !delta->is_object()) continue;
                for (const char* field : {"content", "reasoning_content", "reasoning"}) {
                    if (auto t = delta->find(field); t != delta->end() && t->is_string())
                        sink.text(t->get_ref<const std::string&>());
                }
                if (auto calls = delta->find("tool_calls");
                    calls != delta->end() && calls->is_array()) {
                    for (const auto& call : *calls) {
                        if (!call.is_object() || !call.contains("function")) continue;
                        const json& fn = call["function"];
                        if (fn.is_object() && fn.contains("arguments") &&
                            fn["arguments"].is_string())
                            sink.text(fn["arguments"].get_ref<const std::string&>());
                    }
                }
            }
        }
        if (changed || data.find('\n') != std::string_view::npos) {
            sink.chunk_json(chunk, usage_only);
        } else {
            sink.chunk(data, usage_only);
        }
    }

    SseParser parser_;
    bool finished_ = false;
    bool saw_finish_reason_ = false;
};

// An OpenAI StreamDecoder that sees each event it emits before the core does.
// transform() can only rewrite a chunk; a subclass that must also add events
// after a chunk (an error, a split-off usage chunk) or rewrite error events
// overrides relay(), which by default passes every event on unchanged.
class RelayingStreamDecoder : public StreamDecoder {
  public:
    void feed(std::string_view bytes, EventSink& sink) override {
        Relay relay{this, &sink};
        EventSink inner(&relay.raw);
        StreamDecoder::feed(bytes, inner);
    }
    void finish(EventSink& sink) override {
        Relay relay{this, &sink};
        EventSink inner(&relay.raw);
        StreamDecoder::finish(inner);
    }

  protected:
    virtual void relay(int32_t kind, uint32_t flags, std::string_view data, EventSink& out) {
        out.forward(kind, flags, data);
    }

  private:
    struct Relay {
        RelayingStreamDecoder* self;
        EventSink* out;
        mg_event_sink raw{sizeof(mg_event_sink), this, &Relay::emit};
        static void emit(void* ctx, int32_t kind, uint32_t flags, const char* data, uint64_t len) {
            auto* r = static_cast<Relay*>(ctx);
            r->self->relay(kind, flags, std::string_view(data, static_cast<std::size_t>(len)),
                           *r->out);
        }
    };
};

// What the core needs from a whole answer without building its whole DOM: is
// it a JSON object, does it carry a top-level "error", and its "usage" object.
// A SAX pass allocates far less than a DOM parse (this runs on every call).
struct AnswerSummary {
    bool is_object = false;
    bool has_error = false;
    std::optional<json> usage;
};

inline AnswerSummary summarize_answer(std::string_view body) {
    struct Sax : nlohmann::json_sax<json> {
        AnswerSummary out;
        int depth = 0;
        std::string top_key;  // current key of the top-level object
        bool capturing = false;
        json usage;
        std::vector<json*> stack;
        std::string pending_key;

        bool begin_value() {
            if (depth == 0) return true;  // top level handled by start_object
            return true;
        }
        void add(json v) {
            json* top = stack.back();
            if (top->is_object())
                (*top)[pending_key] = std::move(v);
            else
                top->push_back(std::move(v));
        }
        bool scalar(json v, bool is_null) {
            if (capturing)
                add(std::move(v));
            else if (depth == 1 && top_key == "error" && !is_null)
                out.has_error = true;
            return true;
        }
        bool null() override { return scalar(nullptr, true); }
        bool boolean(bool v) override { return scalar(v, false); }
        bool number_integer(number_integer_t v) override { return scalar(v, false); }
        bool number_unsigned(number_unsigned_t v) override { return scalar(v, false); }
        bool number_float(number_float_t v, const string_t&) override { return scalar(v, false); }
        bool string(string_t& v) override { return scalar(std::move(v), false); }
        bool binary(binary_t&) override { return true; }
        bool start_object(std::size_t) override {
            if (depth == 0) out.is_object = true;
            if (capturing) {
                add(json::object());
                json* top = stack.back();
                stack.push_back(top->is_object() ? &(*top)[pending_key] : &top->back());
            } else if (depth == 1 && top_key == "usage") {
                capturing = true;
                usage = json::object();
                stack.push_back(&usage);
            } else if (depth == 1 && top_key == "error") {
                out.has_error = true;
            }
            ++depth;
            return true;
        }
        bool end_object() override {
            --depth;
            if (capturing) {
                stack.pop_back();
                if (stack.empty()) {
                    capturing = false;
                    out.usage = std::move(usage);
                }
            }
            return true;
        }
        bool start_array(std::size_t) override {
            if (capturing) {
                add(json::array());
                json* top = stack.back();
                stack.push_back(top->is_object() ? &(*top)[pending_key] : &top->back());
            } else if (depth == 1 && top_key == "error") {
                out.has_error = true;
            }
            ++depth;
            return true;
        }
        bool end_array() override {
            --depth;
            if (capturing) stack.pop_back();
            return true;
        }
        bool key(string_t& k) override {
            if (capturing)
                pending_key = k;
            else if (depth == 1)
                top_key = k;
            return true;
        }
        bool parse_error(std::size_t, const std::string&,
                         const nlohmann::detail::exception&) override {
            out = AnswerSummary{};
            return false;
        }
    } sax;
    bool ok = json::sax_parse(body, &sax, json::input_format_t::json, true);
    if (!ok) return AnswerSummary{};
    return sax.out;
}

// Normalizes a model list ({"data": [...]}, {"models": [...]}, or a bare array of
// strings or objects with "id"/"name") into OpenAI's list shape.
inline json normalize_model_list(const json& body, std::string_view owned_by) {
    const json* items = &body;
    if (body.is_object()) {
        if (body.contains("data"))
            items = &body["data"];
        else if (body.contains("models"))
            items = &body["models"];
    }
    json out = {{"object", "list"}, {"data", json::array()}};
    auto add = [&](const json& item) {
        std::string id;
        if (item.is_string())
            id = item.get<std::string>();
        else if (item.is_object() && item.contains("id") && item["id"].is_string())
            id = item["id"].get<std::string>();
        else if (item.is_object() && item.contains("name") && item["name"].is_string())
            id = item["name"].get<std::string>();
        if (id.empty()) return;
        json m = {{"id", id}, {"object", "model"}, {"owned_by", owned_by}};
        if (item.is_object()) {
            for (const char* k : {"created", "context_length", "max_tokens", "owned_by"}) {
                if (item.contains(k)) m[k] = item[k];
            }
        }
        out["data"].push_back(std::move(m));
    };
    if (items->is_array()) {
        for (const auto& item : *items)
            add(item);
    } else if (items->is_object()) {
        for (const auto& [k, v] : items->items()) {
            if (v.is_object() && !v.contains("id")) {
                json copy = v;
                copy["id"] = k;
                add(copy);
            } else {
                add(v);
            }
        }
    }
    return out;
}

// An upstream's model list answer (a body of any shape normalize_model_list
// reads) as OpenAI's list, serialized. Throws std::runtime_error when the body
// is not JSON and UpstreamError when it is an error object.
inline std::string model_list_body(std::string_view body, std::string_view owned_by) {
    json parsed = modelgate::sdk::parse_json(body);
    if (parsed.is_discarded()) throw std::runtime_error("upstream model list is not JSON");
    if (parsed.is_object() && parsed.contains("error") && !parsed["error"].is_null())
        throw UpstreamError("upstream answered the model list with an error");
    return normalize_model_list(parsed, owned_by).dump();
}

// An adapter for an upstream shaped like OpenAI's API: endpoints under
// base_url, JSON requests, answers and errors, SSE streams. It builds every
// request (URL, the extra_headers option when the schema has one, Content-Type
// and Accept, where the key goes), checks every answer (a JSON object without
// an "error", or UpstreamError so the core classifies it) and normalizes model
// lists. A provider derives from it and overrides only its quirks:
// request_body() for the upstream's request, answer() for its answer,
// open_stream() for its stream, classify_error() for its errors.
class CompatibleAdapter : public ProviderAdapter {
  public:
    struct Endpoints {
        std::string chat = "/chat/completions";
        std::string embeddings = "/embeddings";  // empty: the upstream has no embeddings
        std::string models = "/models";          // empty: no model list
    };

    CompatibleAdapter(ProviderConfig config, Endpoints endpoints)
        : config_(std::move(config)), endpoints_(std::move(endpoints)) {
        require_http_url(config_.base_url);
        if (config_.options.contains("extra_headers"))
            extra_headers_ = extra_headers_option(config_);
    }

    UpstreamRequest build_request(const Call& call) override {
        UpstreamRequest r;
        r.headers = extra_headers_;
        place_secret(r);
        const std::string* path = call.op == Operation::chat         ? &endpoints_.chat
                                  : call.op == Operation::embeddings ? &endpoints_.embeddings
                                                                     : &endpoints_.models;
        if (path->empty())
            throw Unsupported(call.op == Operation::embeddings
                                  ? "the upstream has no embeddings API"
                                  : "the upstream has no model list");
        r.url = config_.base_url + *path;
        if (call.op == Operation::list_models) {
            r.method = "GET";
            r.headers.emplace_back("Accept", "application/json");
            return r;
        }
        r.body = request_body(call);
        r.stream = call.op == Operation::chat && call.stream;
        r.headers.emplace_back("Content-Type", "application/json");
        r.headers.emplace_back("Accept", r.stream ? stream_accept() : "application/json");
        return r;
    }

    ParsedResponse parse_response(const Call& call, int /*status*/,
                                  std::string_view body) override {
        if (call.op == Operation::list_models) {
            ParsedResponse out;
            out.body = models_body(body);
            return out;
        }
        return answer(call, body);
    }

    std::unique_ptr<sdk::StreamDecoder> open_stream(const Call&) override {
        return std::make_unique<StreamDecoder>();
    }

  protected:
    // The upstream body of a chat or embeddings call; the client's (already
    // OpenAI's shape, model name translated) by default.
    virtual std::string request_body(const Call& call) { return std::string(call.body); }
    // Where the key goes; Authorization: Bearer by default.
    virtual void place_secret(UpstreamRequest& r) const { r.secret = SecretPlacement::bearer; }
    // The media type a streamed answer comes in.
    virtual std::string stream_accept() const { return "text/event-stream"; }
    // A 2xx chat or embeddings answer in OpenAI's shape, with its usage. By
    // default the answer is forwarded byte for byte once it is known to be a
    // JSON object without an "error" (UpstreamError otherwise).
    virtual ParsedResponse answer(const Call& /*call*/, std::string_view body) {
        auto summary = summarize_answer(body);
        if (!summary.is_object)
            throw std::runtime_error("upstream answered with a body that is not a JSON object");
        if (summary.has_error) throw UpstreamError("upstream answered 2xx with an error body");
        ParsedResponse out;
        out.usage = std::move(summary.usage);
        out.body.assign(body);
        return out;
    }
    // A model list answer as OpenAI's list.
    virtual std::string models_body(std::string_view body) {
        return model_list_body(body, config_.name);
    }

    const ProviderConfig& config() const { return config_; }

  private:
    ProviderConfig config_;
    Endpoints endpoints_;
    std::vector<std::pair<std::string, std::string>> extra_headers_;
};

}  // namespace modelgate::sdk::openai

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#include "proxy/call_preparation.hpp"

#include "http/responses.hpp"
#include "proxy/messages.hpp"
#include "util/ids.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"

namespace modelgate::core::proxy {

namespace {

Error invalid(const std::string& message, const std::string& code = "invalid_request") {
    return make_error(ErrorCode::invalid_request, message, code);
}

// Checks the request body's shape for the operation.
Status validate_body(int32_t op, const nlohmann::json& j, std::size_t max_messages) {
    if (!j.is_object()) return invalid("The request body must be a JSON object.", "invalid_json");
    auto model = j.find("model");
    if (model == j.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) {
        return invalid("You must provide a model parameter (\"provider/model\").", "missing_model");
    }
    if (model->get_ref<const std::string&>().size() > 256)
        return invalid("The model name is longer than 256 characters.", "invalid_model");
    if (auto s = j.find("stream"); s != j.end() && !s->is_boolean() && !s->is_null()) {
        return invalid("'stream' must be a boolean.", "invalid_type");
    }
    if (op == MG_OP_CHAT) {
        auto messages = j.find("messages");
        if (messages == j.end() || !messages->is_array() || messages->empty()) {
            return invalid("'messages' must be a non-empty array of messages.", "missing_messages");
        }
        if (messages->size() > max_messages) {
            return invalid("'messages' has " + std::to_string(messages->size()) +
                               " entries; the limit is " + std::to_string(max_messages) + ".",
                           "too_many_messages");
        }
        for (const auto& m : *messages) {
            if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
                return invalid("Every message must be an object with a string 'role'.",
                               "invalid_message");
            }
        }
        if (auto so = j.find("stream_options");
            so != j.end() && !so->is_object() && !so->is_null()) {
            return invalid("'stream_options' must be an object.", "invalid_type");
        }
    } else if (op == MG_OP_EMBEDDINGS) {
        auto input = j.find("input");
        if (input == j.end() || !(input->is_string() || input->is_array()) ||
            (input->is_array() && input->empty())) {
            return invalid("'input' must be a string or a non-empty array.", "missing_input");
        }
    }
    return Ok{};
}

}  // namespace

Status prepare_call(int32_t op, std::string_view body, const std::shared_ptr<const Snapshot>& snap,
                    const Caller& caller, bool allow_stream, const PrepareOptions& options,
                    CallInit& init) {
    if (init.request_id.empty()) init.request_id = next_request_id();
    init.op = op;
    auto parsed = parse_json_body(body);
    if (!parsed) return parsed.error();
    nlohmann::json& j = parsed.value();
    if (j.is_object()) {
        if (auto m = j.find("model"); m != j.end() && m->is_string())
            init.requested_model = clip_utf8(m->get_ref<const std::string&>(), 250);
        if (auto s = j.find("stream"); s != j.end() && s->is_boolean())
            init.client_stream = allow_stream && s->get<bool>();
    }
    if (auto v = validate_body(op, j, options.max_messages); !v) return v.error();
    std::string requested = j["model"].get<std::string>();
    auto route = snap->resolve(requested, caller.key);
    if (!route) return route.error();
    const ProviderRuntime& provider = *route->provider;
    const BindingRuntime& binding = *route->binding;
    init.snapshot = snap;
    init.provider = &provider;
    init.binding = &binding;
    if (caller.key != nullptr && !caller.key->may_use(binding.id)) {
        return make_error(ErrorCode::forbidden,
                          "This API key is not allowed to use the model '" + requested + "'.",
                          "model_not_allowed");
    }
    if (!provider.adapter) {
        return make_error(
            ErrorCode::unavailable,
            "The provider '" + provider.name + "' is not usable: " + provider.adapter_problem,
            "provider_unavailable");
    }
    if (auto why = provider.keys->unavailable(unix_ms_now(), binding.upstream_model)) {
        if (why->retry_after_ms <= 0) {
            return make_error(ErrorCode::unavailable,
                              "The provider '" + provider.name + "' has no usable upstream key.",
                              "provider_unavailable");
        }
        return cooling_down_error(provider.name, *why);
    }
    bool stream = allow_stream && j.value("stream", false);
    uint64_t needed =
        op == MG_OP_EMBEDDINGS ? MG_CAP_EMBEDDINGS : (stream ? MG_CAP_CHAT_STREAM : MG_CAP_CHAT);
    if (!provider.adapter->supports(needed)) {
        return invalid("The provider '" + provider.name + "' does not support " +
                           (op == MG_OP_EMBEDDINGS ? "embeddings"
                            : stream               ? "streaming"
                                                   : "chat completions") +
                           ".",
                       "unsupported_operation");
    }
    bool include_usage = false;
    j["model"] = binding.upstream_model;
    if (op == MG_OP_CHAT) {
        preprocess_messages(j["messages"],
                            merge_rules(provider.merge_consecutive_messages, binding.multimodal));
        if (!allow_stream) j["stream"] = false;
        auto so = j.find("stream_options");
        if (so != j.end() && so->is_object())
            include_usage = so->value("include_usage", false) == true;
        if (stream && provider.force_stream_usage) {
            j["stream_options"]["include_usage"] = true;  // usage is always recorded
        } else if (!allow_stream && so != j.end()) {
            j.erase("stream_options");
        }
    }

    init.client_stream = stream;
    init.include_usage = include_usage;
    init.api_key_id = caller.key_id;
    init.api_key_name = caller.key_name;
    init.requested_model = requested;
    init.client_ip = caller.client_ip;
    init.user_agent = caller.user_agent;
    init.call.op = op;
    init.call.stream = stream;
    init.call.model = binding.upstream_model;
    init.call.body = http::dump_json(j);
    auto upstream = provider.adapter->build_request(init.call);
    if (!upstream.ok()) {
        const auto& f = *upstream.failure;
        if (f.status == MG_ERR_INVALID) return invalid(f.message, "invalid_request");
        if (f.status == MG_ERR_UNSUPPORTED) {
            return invalid(
                f.message.empty() ? "The provider does not support this operation." : f.message,
                "unsupported_operation");
        }
        MG_ERROR("proxy", provider.adapter->plugin_id() << ".build_request failed: " << f.message);
        return make_error(ErrorCode::internal,
                          "The provider adapter failed to build the upstream request.",
                          "adapter_error");
    }
    init.upstream = std::move(upstream.value);
    return Ok{};
}

}  // namespace modelgate::core::proxy

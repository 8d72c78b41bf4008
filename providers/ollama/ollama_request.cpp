#include "ollama_request.hpp"

#include <algorithm>
#include <map>
#include <modelgate/json_limits.hpp>

namespace modelgate::ollama {

namespace {

using sdk::InvalidRequest;

// Sampling parameters some OpenAI clients send at the top level (vLLM-style
// extra_body) that are Ollama options under the same name.
constexpr const char* kPassThroughOptions[] = {"top_k",          "min_p",         "typical_p",
                                               "repeat_penalty", "repeat_last_n", "num_ctx"};

const json* find(const json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string where(std::size_t message) {
    return "messages[" + std::to_string(message) + "]";
}

void copy_number(const json& in, const char* from, json& options, const char* to) {
    const json* v = find(in, from);
    if (v == nullptr) return;
    if (!v->is_number()) throw InvalidRequest(std::string("'") + from + "' must be a number");
    options[to] = *v;
}

void copy_integer(const json& in, const char* from, json& options, const char* to) {
    const json* v = find(in, from);
    if (v == nullptr) return;
    if (!v->is_number_integer() && !v->is_number_unsigned())
        throw InvalidRequest(std::string("'") + from + "' must be an integer");
    options[to] = *v;
}

// OpenAI's sampling parameters -> Ollama's "options".
json sampling_options(const json& in) {
    json options = json::object();
    copy_number(in, "temperature", options, "temperature");
    copy_number(in, "top_p", options, "top_p");
    copy_number(in, "frequency_penalty", options, "frequency_penalty");
    copy_number(in, "presence_penalty", options, "presence_penalty");
    copy_integer(in, "seed", options, "seed");
    // max_completion_tokens replaced max_tokens in OpenAI's API; it wins when both are sent.
    copy_integer(in, "max_tokens", options, "num_predict");
    copy_integer(in, "max_completion_tokens", options, "num_predict");
    for (const char* name : kPassThroughOptions)
        copy_number(in, name, options, name);
    if (const json* stop = find(in, "stop")) {
        if (stop->is_string()) {
            options["stop"] = json::array({*stop});
        } else if (stop->is_array() && std::all_of(stop->begin(), stop->end(),
                                                   [](const json& s) { return s.is_string(); })) {
            if (!stop->empty()) options["stop"] = *stop;
        } else {
            throw InvalidRequest("'stop' must be a string or an array of strings");
        }
    }
    return options;
}

// "data:image/png;base64,AAAA" -> "AAAA". Ollama takes images inline only.
std::string inline_image(const std::string& url, const std::string& at) {
    if (url.rfind("data:", 0) != 0) {
        throw InvalidRequest(at +
                             ": Ollama cannot fetch images from URLs; send the image inline as a "
                             "base64 data: URL (data:image/png;base64,...)");
    }
    std::size_t comma = url.find(',');
    std::string_view header = std::string_view(url).substr(0, comma);
    if (comma == std::string::npos || header.find(";base64") == std::string_view::npos) {
        throw InvalidRequest(
            at + ": the image data: URL must be base64-encoded (data:<type>;base64,...)");
    }
    std::string data = url.substr(comma + 1);
    if (data.empty()) throw InvalidRequest(at + ": the image data: URL is empty");
    return data;
}

struct Content {
    std::string text;
    json images = json::array();
};

// OpenAI content (string, null or an array of parts) -> text + images.
Content content_of(const json& message, const std::string& at) {
    Content out;
    const json* content = find(message, "content");
    if (content == nullptr) return out;
    if (content->is_string()) {
        out.text = content->get<std::string>();
        return out;
    }
    if (!content->is_array()) {
        throw InvalidRequest(at + ".content must be a string or an array of content parts");
    }
    for (std::size_t i = 0; i < content->size(); ++i) {
        const json& part = (*content)[i];
        std::string part_at = at + ".content[" + std::to_string(i) + "]";
        const json* type = part.is_object() ? find(part, "type") : nullptr;
        if (type == nullptr || !type->is_string())
            throw InvalidRequest(part_at + " must be an object with a string 'type'");
        const std::string& kind = type->get_ref<const std::string&>();
        if (kind == "text") {
            const json* text = find(part, "text");
            if (text == nullptr || !text->is_string())
                throw InvalidRequest(part_at + ".text must be a string");
            // Parts are separate paragraphs to OpenAI; keep them apart.
            if (!out.text.empty()) out.text += "\n";
            out.text += text->get<std::string>();
        } else if (kind == "image_url") {
            const json* image = find(part, "image_url");
            const json* url = image == nullptr     ? nullptr
                              : image->is_object() ? find(*image, "url")
                              : image->is_string() ? image
                                                   : nullptr;
            if (url == nullptr || !url->is_string())
                throw InvalidRequest(part_at + ".image_url.url must be a string");
            out.images.push_back(inline_image(url->get<std::string>(), part_at));
        } else {
            throw InvalidRequest(part_at + ": content parts of type '" + kind +
                                 "' are not supported by Ollama (only text and image_url)");
        }
    }
    return out;
}

// OpenAI tool calls (arguments as a JSON string) -> Ollama's (arguments as an object).
json tool_calls_of(const json& calls, const std::string& at) {
    if (!calls.is_array()) throw InvalidRequest(at + ".tool_calls must be an array");
    json out = json::array();
    for (std::size_t i = 0; i < calls.size(); ++i) {
        const json& call = calls[i];
        std::string call_at = at + ".tool_calls[" + std::to_string(i) + "]";
        const json* fn = call.is_object() ? find(call, "function") : nullptr;
        const json* name = fn != nullptr && fn->is_object() ? find(*fn, "name") : nullptr;
        if (name == nullptr || !name->is_string())
            throw InvalidRequest(call_at + ".function.name must be a string");
        json arguments = json::object();
        if (const json* args = find(*fn, "arguments")) {
            if (args->is_string()) {
                const auto& text = args->get_ref<const std::string&>();
                if (text.find_first_not_of(" \t\r\n") != std::string::npos) {
                    arguments = modelgate::sdk::parse_json(text);
                    if (arguments.is_discarded())
                        throw InvalidRequest(call_at + ".function.arguments is not valid JSON");
                }
            } else {
                arguments = *args;  // some clients send the object itself
            }
        }
        if (!arguments.is_object())
            throw InvalidRequest(call_at + ".function.arguments must be a JSON object");
        json converted = {{"function", {{"name", *name}, {"arguments", std::move(arguments)}}}};
        if (const json* id = find(call, "id"); id != nullptr && id->is_string())
            converted["id"] = *id;
        out.push_back(std::move(converted));
    }
    return out;
}

json messages_of(const json& in) {
    const json* messages = find(in, "messages");
    if (messages == nullptr || !messages->is_array() || messages->empty())
        throw InvalidRequest("'messages' must be a non-empty array of messages");

    // Ollama names a tool result by the tool's name; OpenAI by the call's id.
    std::map<std::string, std::string> tool_names;
    for (const auto& m : *messages) {
        const json* calls = m.is_object() ? find(m, "tool_calls") : nullptr;
        if (calls == nullptr || !calls->is_array()) continue;
        for (const auto& c : *calls) {
            if (!c.is_object()) continue;
            const json* id = find(c, "id");
            const json* fn = find(c, "function");
            const json* name = fn != nullptr && fn->is_object() ? find(*fn, "name") : nullptr;
            if (id != nullptr && id->is_string() && name != nullptr && name->is_string())
                tool_names[id->get<std::string>()] = name->get<std::string>();
        }
    }

    json out = json::array();
    for (std::size_t i = 0; i < messages->size(); ++i) {
        const json& m = (*messages)[i];
        std::string at = where(i);
        const json* role = m.is_object() ? find(m, "role") : nullptr;
        if (role == nullptr || !role->is_string())
            throw InvalidRequest(at + " must be an object with a string 'role'");
        std::string r = role->get<std::string>();
        if (r == "developer") r = "system";  // Ollama's templates know system, not developer
        if (r == "function") r = "tool";     // OpenAI's legacy tool results

        Content content = content_of(m, at);
        json message = {{"role", r}, {"content", std::move(content.text)}};
        if (!content.images.empty()) message["images"] = std::move(content.images);

        if (r == "assistant") {
            for (const char* field : {"reasoning_content", "reasoning"}) {
                const json* thinking = find(m, field);
                if (thinking != nullptr && thinking->is_string() &&
                    !thinking->get_ref<const std::string&>().empty()) {
                    message["thinking"] = *thinking;
                    break;
                }
            }
            if (const json* calls = find(m, "tool_calls")) {
                json converted = tool_calls_of(*calls, at);
                if (!converted.empty()) message["tool_calls"] = std::move(converted);
            }
        } else if (r == "tool") {
            std::string tool_name;
            if (const json* name = find(m, "name"); name != nullptr && name->is_string())
                tool_name = name->get<std::string>();
            if (const json* id = find(m, "tool_call_id"); id != nullptr && id->is_string()) {
                message["tool_call_id"] = *id;
                if (tool_name.empty()) {
                    auto it = tool_names.find(id->get<std::string>());
                    if (it != tool_names.end()) tool_name = it->second;
                }
            }
            if (!tool_name.empty()) message["tool_name"] = tool_name;
        }
        out.push_back(std::move(message));
    }
    return out;
}

// response_format -> Ollama's "format" ("json" or a JSON schema); null when none.
json format_of(const json& in) {
    const json* rf = find(in, "response_format");
    if (rf == nullptr) return nullptr;
    const json* type = rf->is_object() ? find(*rf, "type") : nullptr;
    if (type == nullptr || !type->is_string())
        throw InvalidRequest("'response_format' must be an object with a string 'type'");
    const std::string& t = type->get_ref<const std::string&>();
    if (t == "text") return nullptr;
    if (t == "json_object") return "json";
    if (t == "json_schema") {
        const json* spec = find(*rf, "json_schema");
        const json* schema = spec != nullptr && spec->is_object() ? find(*spec, "schema") : nullptr;
        if (schema == nullptr || !schema->is_object())
            throw InvalidRequest(
                "'response_format.json_schema.schema' must be a JSON schema object");
        return *schema;
    }
    throw InvalidRequest("'response_format' type '" + t +
                         "' is not supported (text, json_object or json_schema)");
}

// Ollama's "think": true/false, or an effort level ("low", "medium", "high")
// that models such as gpt-oss understand and others read as true. Null when unset.
json think_of(const json& in, const RequestSettings& settings) {
    if (const json* think = find(in, "think")) {  // Ollama's own field, from an aware client
        if (think->is_boolean()) return *think;
        if (think->is_string()) {
            const auto& level = think->get_ref<const std::string&>();
            if (level == "low" || level == "medium" || level == "high") return *think;
        }
        throw InvalidRequest("'think' must be a boolean or one of \"low\", \"medium\", \"high\"");
    }
    const json* effort = find(in, "reasoning_effort");
    if (effort == nullptr) {
        if (const json* reasoning = find(in, "reasoning");
            reasoning != nullptr && reasoning->is_object())
            effort = find(*reasoning, "effort");
    }
    if (effort != nullptr) {
        if (effort->is_string()) {
            const auto& e = effort->get_ref<const std::string&>();
            if (e == "none") return false;
            if (e == "minimal" || e == "low") return "low";
            if (e == "medium") return "medium";
            if (e == "high" || e == "xhigh") return "high";
        }
        throw InvalidRequest(
            "'reasoning_effort' must be one of \"none\", \"minimal\", \"low\", \"medium\", "
            "\"high\"");
    }
    if (settings.think) return *settings.think;
    return nullptr;
}

// keep_alive from the request, else the provider option. Ollama reads a number
// as seconds and a string as a Go duration ("10m", "24h"); "-1" or "0" typed
// into the admin form are meant as numbers (forever, unload now).
json keep_alive_of(const json& in, const RequestSettings& settings) {
    if (const json* k = find(in, "keep_alive")) {
        if (k->is_string() || k->is_number()) return *k;
        throw InvalidRequest("'keep_alive' must be a duration string or a number of seconds");
    }
    const std::string& k = settings.keep_alive;
    if (k.empty()) return nullptr;
    std::string_view digits = k;
    if (digits.front() == '-') digits.remove_prefix(1);
    if (!digits.empty() && digits.size() < 12 &&
        digits.find_first_not_of("0123456789") == std::string_view::npos)
        return std::stoll(k);
    return k;
}

std::string model_of(const json& in, std::string_view model) {
    if (!model.empty()) return std::string(model);
    const json* m = find(in, "model");
    if (m == nullptr || !m->is_string() || m->get_ref<const std::string&>().empty())
        throw InvalidRequest("'model' must be a non-empty string");
    return m->get<std::string>();
}

}  // namespace

json chat_request(const json& in, std::string_view model, bool stream,
                  const RequestSettings& settings) {
    if (!in.is_object()) throw InvalidRequest("the request body must be a JSON object");
    json out = json::object();
    out["model"] = model_of(in, model);
    out["messages"] = messages_of(in);
    out["stream"] = stream;

    if (const json* n = find(in, "n"); n != nullptr && *n != 1)
        throw InvalidRequest("Ollama returns a single choice: 'n' must be 1");

    json options = settings.default_options.is_object() ? settings.default_options : json::object();
    options.update(sampling_options(in));
    // Ollama's own "options", from a client that knows it talks to Ollama, win.
    if (const json* own = find(in, "options")) {
        if (!own->is_object()) throw InvalidRequest("'options' must be an object");
        options.update(*own);
    }
    if (!options.empty()) out["options"] = std::move(options);

    if (const json* tools = find(in, "tools")) {
        if (!tools->is_array()) throw InvalidRequest("'tools' must be an array");
        const json* choice = find(in, "tool_choice");
        bool none = choice != nullptr && choice->is_string() && *choice == "none";
        if (!tools->empty() && !none) out["tools"] = *tools;  // same function schema as OpenAI
    }
    if (json format = format_of(in); !format.is_null()) out["format"] = std::move(format);
    if (json think = think_of(in, settings); !think.is_null()) out["think"] = std::move(think);
    if (json keep = keep_alive_of(in, settings); !keep.is_null())
        out["keep_alive"] = std::move(keep);
    return out;
}

json embed_request(const json& in, std::string_view model, const RequestSettings& settings) {
    if (!in.is_object()) throw InvalidRequest("the request body must be a JSON object");
    const json* input = find(in, "input");
    bool text = input != nullptr &&
                (input->is_string() || (input->is_array() && !input->empty() &&
                                        std::all_of(input->begin(), input->end(),
                                                    [](const json& s) { return s.is_string(); })));
    if (!text) {
        throw InvalidRequest(
            "'input' must be a string or a non-empty array of strings (Ollama embeds text, not "
            "token arrays)");
    }
    embedding_encoding(in);  // refuses an unknown encoding before the upstream is called
    json out = {{"model", model_of(in, model)}, {"input", *input}};
    if (const json* dims = find(in, "dimensions")) {
        if (!dims->is_number_integer() || dims->get<int64_t>() <= 0)
            throw InvalidRequest("'dimensions' must be a positive integer");
        out["dimensions"] = *dims;
    }
    if (const json* truncate = find(in, "truncate"); truncate != nullptr && truncate->is_boolean())
        out["truncate"] = *truncate;
    if (json keep = keep_alive_of(in, settings); !keep.is_null())
        out["keep_alive"] = std::move(keep);
    return out;
}

std::string embedding_encoding(const json& in) {
    const json* f = in.is_object() ? find(in, "encoding_format") : nullptr;
    if (f == nullptr) return "float";
    if (f->is_string() && (*f == "float" || *f == "base64")) return f->get<std::string>();
    throw InvalidRequest("'encoding_format' must be \"float\" or \"base64\"");
}

}  // namespace modelgate::ollama

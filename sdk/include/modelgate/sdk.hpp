// ModelGate plugin SDK: the C++20 side of the C ABI in abi.h.
//
// A plugin author writes an ordinary C++ class and one macro:
//
//   class MyAdapter : public modelgate::sdk::ProviderAdapter { ... };
//   MODELGATE_PROVIDER_PLUGIN(MyAdapter, "myprovider", "1.0.0", "My provider",
//                             MG_CAP_CHAT | MG_CAP_CHAT_STREAM, R"([])");
//
// The macro generates the C entry points, exports the one entry symbol with
// BOOST_DLL_ALIAS, and catches every exception at the boundary: an exception in a
// hook comes back to the host as an error with its message, never as a crash.
// Everything here is compiled into the plugin; nothing of it is shared with the
// host except the C structs.
#pragma once

#include <modelgate/abi.h>

#include <boost/dll/alias.hpp>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <modelgate/header_block.hpp>
#include <modelgate/json_limits.hpp>
#include <modelgate/sink.hpp>
#include <modelgate/sql_rows.hpp>
#include <modelgate/url.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Everything the SDK defines lives inside the plugin, hidden: two plugins built
// against different SDK versions never share or clash on a symbol. (Only the
// entry symbol is exported, by BOOST_DLL_ALIAS.)
#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif

namespace modelgate::sdk {

using json = nlohmann::json;

// ---------------------------------------------------------------------------
// Host access
// ---------------------------------------------------------------------------

namespace detail {
// The host's service table, set once by the entry function. One per plugin
// library (inline variables are per shared object when symbols are hidden).
inline const mg_host_api* g_host = nullptr;
inline mg_plugin_handle* g_self = nullptr;
}  // namespace detail

enum class LogLevel : int32_t {
    debug = MG_LOG_DEBUG,
    info = MG_LOG_INFO,
    warn = MG_LOG_WARN,
    error = MG_LOG_ERROR
};

inline void log(LogLevel level, std::string_view message) {
    if (detail::g_host != nullptr && detail::g_host->log != nullptr)
        detail::g_host->log(detail::g_self, static_cast<int32_t>(level), str(message));
}

// ---------------------------------------------------------------------------
// Errors a hook may throw
// ---------------------------------------------------------------------------

// The request or configuration cannot be translated (becomes MG_ERR_INVALID and,
// for a client request, an HTTP 400 with this message).
struct InvalidRequest : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The adapter does not offer this operation (MG_ERR_UNSUPPORTED).
struct Unsupported : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// parse_response: the upstream answered 2xx with an error body (MG_ERR_UPSTREAM);
// the host then runs classify_error on that body.
struct UpstreamError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------
// Provider adapter types
// ---------------------------------------------------------------------------

enum class Operation : int32_t {
    chat = MG_OP_CHAT,
    embeddings = MG_OP_EMBEDDINGS,
    list_models = MG_OP_LIST_MODELS
};

enum class SecretPlacement : int32_t {
    none = MG_SECRET_NONE,
    bearer = MG_SECRET_BEARER,
    header = MG_SECRET_HEADER
};

enum class ErrorClass : int32_t {
    upstream = MG_ERRCLASS_UPSTREAM,
    invalid_request = MG_ERRCLASS_INVALID_REQUEST,
    auth = MG_ERRCLASS_AUTH,
    permission = MG_ERRCLASS_PERMISSION,
    not_found = MG_ERRCLASS_NOT_FOUND,
    rate_limited = MG_ERRCLASS_RATE_LIMITED,
    quota = MG_ERRCLASS_QUOTA,
    retryable = MG_ERRCLASS_RETRYABLE
};

// One call the core asks the adapter to translate. Views are valid during the hook.
struct Call {
    Operation op = Operation::chat;
    bool stream = false;
    std::string_view model;  // upstream model name, already in body.model
    std::string_view body;   // OpenAI-shaped JSON request

    // Parses body; throws InvalidRequest when it is not a JSON object.
    json parsed_body() const {
        json j = modelgate::sdk::parse_json(body);
        if (!j.is_object()) throw InvalidRequest("request body is not a JSON object");
        return j;
    }
};

// A configured provider, as the admin set it up.
struct ProviderConfig {
    std::string name;      // the provider's routing name, e.g. "deepseek"
    std::string base_url;  // without a trailing slash
    json options = json::object();

    // An option's value. Before the adapter is created the host checks the
    // options against the plugin's schema and fills every default there, so
    // defaults are written once, in the schema. Throws InvalidRequest when the
    // option is missing (not in the schema) or of another type.
    template <class T>
    T get(const char* key) const {
        auto it = options.find(key);
        if (it == options.end())
            throw InvalidRequest(std::string("option '") + key +
                                 "' is missing; declare it in the plugin's config schema");
        try {
            return it->get<T>();
        } catch (const json::exception&) {
            throw InvalidRequest(std::string("option '") + key + "' has the wrong type");
        }
    }
};

// True when s holds a CR or LF (never allowed in a header name or value).
inline bool has_line_break(std::string_view s) {
    return s.find_first_of("\r\n") != std::string_view::npos;
}

// Throws InvalidRequest unless url starts with http:// or https://.
inline void require_http_url(std::string_view url, std::string_view what = "base_url") {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        throw InvalidRequest(std::string(what) + " must start with http:// or https://");
}

// The "extra_headers" option ({"Name": "value", ...}) as header pairs; throws
// InvalidRequest for anything that is not a valid single-line header, and for
// the headers of HTTP framing (Content-Length, Transfer-Encoding, Host, ...).
// An Authorization header here takes the place of the provider's key.
inline std::vector<std::pair<std::string, std::string>> extra_headers_option(
    const ProviderConfig& config) {
    std::vector<std::pair<std::string, std::string>> out;
    json extra = config.get<json>("extra_headers");
    if (!extra.is_object()) throw InvalidRequest("extra_headers must be an object of strings");
    for (const auto& item : extra.items()) {
        const std::string& name = item.key();
        if (!item.value().is_string())
            throw InvalidRequest("extra header '" + name + "' must be a string");
        const auto& v = item.value().get_ref<const std::string&>();
        if (!headers::valid_name(name) || !headers::valid_value(v)) {
            throw InvalidRequest("extra header '" + name + "' is not a valid header");
        }
        // Framing and routing headers belong to the transport, never to configuration.
        std::string lower;
        for (char c : name)
            lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        for (const char* reserved : {"content-length", "transfer-encoding", "host", "connection",
                                     "te", "trailer", "upgrade", "keep-alive"}) {
            if (lower == reserved)
                throw InvalidRequest("extra header '" + name +
                                     "' may not be set; the gateway "
                                     "sets it for each request");
        }
        out.emplace_back(name, v);
    }
    return out;
}

struct UpstreamRequest {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    SecretPlacement secret = SecretPlacement::bearer;
    std::string secret_header;  // when secret == header
    bool stream = false;
};

struct ParsedResponse {
    std::string body;           // the OpenAI-shaped JSON answer
    std::optional<json> usage;  // the upstream's usage object, when reported
};

struct ErrorInfo {
    ErrorClass error_class = ErrorClass::upstream;
    int64_t retry_after_ms = 0;
    int64_t reset_at_unix_ms = 0;
    json error = json::object();  // {"message","type","code"}
};

// Where a stream decoder sends what it decoded.
class EventSink {
  public:
    explicit EventSink(const mg_event_sink* sink) : sink_(sink) {}

    // A chunk for the client, as JSON text (one line, no trailing newline).
    void chunk(std::string_view json_text, bool usage_only = false) {
        emit(MG_EVENT_CHUNK, usage_only ? MG_CHUNK_USAGE_ONLY : 0u, json_text);
    }
    void chunk_json(const json& j, bool usage_only = false) {
        chunk(std::string_view(j.dump()), usage_only);
    }
    void usage(const json& usage) { emit(MG_EVENT_USAGE, 0, usage.dump()); }
    void done() { emit(MG_EVENT_DONE, 0, {}); }
    void error(const json& error) { emit(MG_EVENT_ERROR, 0, error.dump()); }
    void text(std::string_view generated) {
        if (!generated.empty()) emit(MG_EVENT_TEXT, 0, generated);
    }
    // Passes on an event exactly as another sink received it (kind, flags, data).
    void forward(int32_t kind, uint32_t flags, std::string_view data) { emit(kind, flags, data); }

  private:
    void emit(int32_t kind, uint32_t flags, std::string_view data) {
        sink_->emit(sink_->ctx, kind, flags, data.data(), data.size());
    }
    const mg_event_sink* sink_;
};

class StreamDecoder {
  public:
    virtual ~StreamDecoder() = default;
    // Raw upstream bytes, split anywhere.
    virtual void feed(std::string_view bytes, EventSink& sink) = 0;
    // The upstream closed cleanly: emit done() when the answer is complete,
    // error() when it is not.
    virtual void finish(EventSink& sink) = 0;
};

// Builds an OpenAI error object.
inline json make_error(std::string_view message, std::string_view type,
                       const json& code = nullptr) {
    return json{{"message", message}, {"type", type}, {"code", code.is_null() ? json(type) : code}};
}

// Finds a header value in "name: value\n" lines (names compared case-insensitively).
inline std::string_view header_value(std::string_view headers, std::string_view name) {
    return headers::find(headers, name);
}

// Parses a Retry-After value (delta seconds or an HTTP date) into milliseconds
// from now; 0 when absent or unparseable.
inline int64_t parse_retry_after_ms(std::string_view value) {
    if (value.empty()) return 0;
    int64_t seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc() && p == value.data() + value.size())
        return seconds > 0 ? seconds * 1000 : 0;
    std::tm tm{};
    std::string copy(value);
    if (strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return 0;
    int64_t at = static_cast<int64_t>(timegm(&tm));
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    return at > now ? (at - now) * 1000 : 0;
}

// True when an upstream error's text (message, code or type) says the account
// is out of quota or balance rather than momentarily rate limited: the
// markers OpenAI-compatible upstreams use, in English and Chinese.
inline bool looks_like_quota_error(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    static constexpr std::string_view kMarkers[] = {"insufficient_quota",
                                                    "quota",
                                                    "usage limit",
                                                    "billing_not_active",
                                                    "account_deactivated",
                                                    "exceeded your current",
                                                    "余额",
                                                    "额度",
                                                    "用量上限",
                                                    "使用上限",
                                                    "调用次数"};
    for (auto marker : kMarkers) {
        if (lower.find(marker) != std::string::npos) return true;
    }
    return false;
}

// The first "YYYY-MM-DD HH:MM:SS" (or with a 'T') in a message, read in the
// gateway's local time zone, as Unix milliseconds; 0 when there is none.
// Upstreams name the time an exhausted quota resets this way.
inline int64_t find_reset_time_ms(std::string_view message) {
    auto digits = [&](std::size_t at, std::size_t n) {
        for (std::size_t i = at; i < at + n; ++i) {
            if (message[i] < '0' || message[i] > '9') return false;
        }
        return true;
    };
    for (std::size_t i = 0; i + 19 <= message.size(); ++i) {
        if (!digits(i, 4) || message[i + 4] != '-' || !digits(i + 5, 2) || message[i + 7] != '-' ||
            !digits(i + 8, 2) || (message[i + 10] != ' ' && message[i + 10] != 'T') ||
            !digits(i + 11, 2) || message[i + 13] != ':' || !digits(i + 14, 2) ||
            message[i + 16] != ':' || !digits(i + 17, 2))
            continue;
        std::tm tm{};
        std::string copy(message.substr(i, 19));
        copy[10] = ' ';
        if (strptime(copy.c_str(), "%Y-%m-%d %H:%M:%S", &tm) == nullptr) continue;
        tm.tm_isdst = -1;
        std::time_t at = std::mktime(&tm);
        if (at == static_cast<std::time_t>(-1)) continue;
        return static_cast<int64_t>(at) * 1000;
    }
    return 0;
}

// The OpenAI error object for an upstream error of a class, for upstreams
// whose errors carry only a message: OpenAI's type names and string codes.
inline json error_for_class(ErrorClass cls, std::string_view message) {
    switch (cls) {
        case ErrorClass::invalid_request:
            return make_error(message, "invalid_request_error", "invalid_request");
        case ErrorClass::auth:
            return make_error(message, "authentication_error", "invalid_api_key");
        case ErrorClass::permission:
            return make_error(message, "permission_error", "permission_denied");
        case ErrorClass::not_found:
            return make_error(message, "invalid_request_error", "not_found");
        case ErrorClass::rate_limited:
            return make_error(message, "rate_limit_error", "rate_limit_exceeded");
        case ErrorClass::quota:
            return make_error(message, "insufficient_quota", "insufficient_quota");
        case ErrorClass::retryable:
            return make_error(message, "server_error", "upstream_server_error");
        default:
            return make_error(message, "upstream_error", "upstream_error");
    }
}

// The classification most OpenAI-compatible upstreams need: error class by HTTP
// status, Retry-After honoured, the upstream's own error object kept when it has
// one, a readable message made up otherwise.
inline ErrorInfo default_classify_error(int status, std::string_view headers,
                                        std::string_view body) {
    ErrorInfo info;
    switch (status) {
        case 400:
        case 413:
        case 422:
            info.error_class = ErrorClass::invalid_request;
            break;
        case 401:
            info.error_class = ErrorClass::auth;
            break;
        case 403:
            info.error_class = ErrorClass::permission;
            break;
        case 404:
            info.error_class = ErrorClass::not_found;
            break;
        case 429:
            info.error_class = ErrorClass::rate_limited;
            break;
        default:
            info.error_class = status >= 500 ? ErrorClass::retryable : ErrorClass::upstream;
    }
    info.retry_after_ms = parse_retry_after_ms(header_value(headers, "retry-after"));
    // An exhausted quota pauses the key until its reset, not for a few seconds.
    auto check_quota = [&info, status](std::string_view text, std::string_view message) {
        bool may_be_quota =
            status == 402 || status == 403 || status == 429 || (status >= 200 && status < 300);
        if (!may_be_quota || !looks_like_quota_error(text)) return;
        info.error_class = ErrorClass::quota;
        info.reset_at_unix_ms = find_reset_time_ms(message);
    };
    json parsed = modelgate::sdk::parse_json(body);
    if (parsed.is_object()) {
        auto it = parsed.find("error");
        if (it != parsed.end() && it->is_object() && it->contains("message")) {
            json e = *it;
            if (!e.contains("type") || e["type"].is_null()) e["type"] = "upstream_error";
            if (!e.contains("code")) e["code"] = nullptr;
            info.error = json{{"message", e["message"]}, {"type", e["type"]}, {"code", e["code"]}};
            if (e.contains("param")) info.error["param"] = e["param"];
            std::string message = e["message"].is_string() ? e["message"].get<std::string>() : "";
            check_quota(message + " " + e["type"].dump() + " " + e["code"].dump(), message);
            return info;
        }
        if (it != parsed.end() && it->is_string()) {
            const std::string& message = it->get_ref<const std::string&>();
            check_quota(message, message);
            info.error = error_for_class(info.error_class, message);
            return info;
        }
    }
    std::string snippet(body.substr(0, 300));
    std::string msg = "upstream answered HTTP " + std::to_string(status);
    if (!snippet.empty()) msg += ": " + snippet;
    info.error = error_for_class(info.error_class, msg);
    return info;
}

class ProviderAdapter {
  public:
    virtual ~ProviderAdapter() = default;
    virtual UpstreamRequest build_request(const Call& call) = 0;
    virtual ParsedResponse parse_response(const Call& call, int status, std::string_view body) = 0;
    virtual std::unique_ptr<StreamDecoder> open_stream(const Call& call) = 0;
    virtual ErrorInfo classify_error(int status, std::string_view headers, std::string_view body) {
        return default_classify_error(status, headers, body);
    }
};

// ---------------------------------------------------------------------------
// Feature plugin types
// ---------------------------------------------------------------------------

struct HttpRequest {
    std::string_view method, path, query, headers, body, client_ip, admin_user;
    // The caller's gateway API key on routes declared RouteAccess::api_key
    // (checked by the host: active, time rules); 0 and empty elsewhere.
    int64_t api_key_id = 0;
    std::string_view api_key_name;
    // The gateway's base path ("" or e.g. "/modelgate"; hosts of ABI 1.2+).
    std::string_view base_path;
    // The {name} segments of a route registered with Host::route, decoded.
    std::map<std::string, std::string> params;
    // The host's request, for Host::open_stream.
    const mg_http_request* raw = nullptr;
    std::string_view header(std::string_view name) const { return header_value(headers, name); }
    // A query parameter, decoded; nullopt when absent.
    std::optional<std::string> query_param(std::string_view name) const {
        return url::query_param(query, name);
    }
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    static HttpResponse json_body(const json& j, int status = 200) {
        HttpResponse r;
        r.status = status;
        r.body = j.dump();
        return r;
    }
};

enum class RouteAccess : int32_t {
    public_ = MG_ROUTE_PUBLIC,
    admin = MG_ROUTE_ADMIN,
    api_key = MG_ROUTE_API_KEY
};

struct LlmResult {
    int status = 0;     // HTTP status of the answer; < 0 when no call was made
    json response;      // the OpenAI answer (or error object)
    std::string error;  // why no call was made; with options, every failed attempt
    bool ok() const { return status >= 200 && status < 300; }
    // The answer's first message text ("" when there is none).
    std::string content() const {
        if (!response.is_object() || !response.contains("choices") ||
            !response["choices"].is_array() || response["choices"].empty())
            return "";
        const json& message = response["choices"][0].value("message", json::object());
        return message.is_object() && message.contains("content") && message["content"].is_string()
                   ? message["content"].get<std::string>()
                   : "";
    }
};

// Host::llm_call's options (ABI 1.2).
// A streamed response (Host::open_stream, ABI 1.3): written from any thread
// until close() or the destructor. Writes never block: `busy` means the client
// has more than 4 MiB still to read (write later), `gone` that it left.
class Stream {
  public:
    enum class Write { ok, busy, gone };
    explicit Stream(mg_stream* stream) : stream_(stream) {}
    ~Stream() { close(); }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    Write write(std::string_view bytes);
    // One Server-Sent Event: "event:" and "id:" lines when given, the data as
    // "data:" lines (one per line of it), and the blank line that ends it.
    Write event(std::string_view data, std::string_view event = {}, std::string_view id = {});
    // Ends the response; later writes are `gone`.
    void close();

  private:
    std::mutex mu_;
    mg_stream* stream_;
};

// An outbound HTTP(S) request (Host::fetch, ABI 1.3).
struct FetchRequest {
    std::string method = "GET";
    std::string url;  // http:// or https://
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int64_t timeout_ms = 30000;  // the whole exchange, at most 600000
    int64_t connect_timeout_ms = 10000;
    int64_t max_response_bytes = 8 << 20;  // at most 64 MiB
};
struct FetchResult {
    int status = 0;  // 0: no answer; error says why ("timeout", "too large", ...)
    std::string headers, body, error;
    bool ok() const { return status >= 200 && status < 300; }
    std::string_view header(std::string_view name) const { return header_value(headers, name); }
};

struct LlmOptions {
    std::vector<std::string> models;  // tried in order; empty: the request's model
    int64_t timeout_ms = 120000;      // for all attempts together
    int64_t api_key_id = 0;           // log the call as this key's; 0: "internal:<plugin>"
};

// One version of a plugin's tables (Host::migrate).
struct Migration {
    int version;  // 1, 2, 3, ...
    std::string name;
    std::string postgresql, sqlite;  // scripts; statements separated by ';'
};

// One statement of Host::transaction.
struct Statement {
    std::string sql;  // placeholders :1, :2, ...
    json params = json::array();
};

// The host services a feature plugin uses, after init.
class Host {
  public:
    using RouteHandler = std::function<HttpResponse(const HttpRequest&)>;
    using JobHandler = std::function<std::string()>;  // returns a one-line summary

    void register_route(std::string_view method, std::string_view prefix, RouteAccess access,
                        RouteHandler handler) {
        auto* slot = keep(std::make_unique<RouteHandler>(std::move(handler)));
        int32_t rc =
            detail::g_host->register_route(detail::g_self, str(method), str(prefix),
                                           static_cast<int32_t>(access), &route_trampoline, slot);
        if (rc != MG_OK)
            throw std::runtime_error("route " + std::string(prefix) + " could not be registered");
    }

    void register_job(std::string_view name, int64_t interval_seconds, JobHandler handler) {
        auto* slot = keep(std::make_unique<JobHandler>(std::move(handler)));
        int32_t rc = detail::g_host->register_job(detail::g_self, str(name), interval_seconds,
                                                  &job_trampoline, slot);
        if (rc != MG_OK)
            throw std::runtime_error("job " + std::string(name) + " could not be registered");
    }

    // Runs parameterised SQL (:1, :2, ... placeholders); returns the rows.
    json sql(std::string_view statement, const json& params = json::array()) const;
    std::string_view dialect() const { return view(detail::g_host->sql_dialect(detail::g_self)); }
    LlmResult llm_call(const json& request) const;
    std::string i18n(std::string_view locale, std::string_view key) const;

    // ---- ABI 1.2: each throws std::runtime_error on an older gateway ----

    // A route with {name} segments ("/admin/api/things/{id}"), answered by the
    // handler with request.params filled. Patterns sharing their literal
    // prefix share its access; a literal route wins over a pattern, and a path
    // under a registered prefix that no pattern matches gets a JSON 404.
    void route(std::string_view method, std::string_view pattern, RouteAccess access,
               RouteHandler handler);
    // Brings the plugin's tables to the newest version (in init; see abi.h).
    // Throws with the failing version's reason.
    void migrate(const std::vector<Migration>& migrations) const;
    // Statements in one transaction, one result set each; throws (everything
    // rolled back) on a failure.
    std::vector<ResultSet> transaction(const std::vector<Statement>& statements) const;
    // One statement, typed rows.
    ResultSet query(std::string sql, json params = json::array()) const {
        return transaction({Statement{std::move(sql), std::move(params)}}).front();
    }
    // Every day at "HH:MM" in the gateway's time zone, once across instances.
    void register_daily_job(std::string_view name, std::string_view at_hh_mm, JobHandler handler);
    LlmResult llm_call(const json& request, const LlmOptions& options) const;
    // Secrets sealed with the gateway's master key; open_sealed gives nullopt
    // for a text that another key sealed or that was altered.
    std::string seal(std::string_view plain) const;
    std::optional<std::string> open_sealed(std::string_view sealed) const;
    // The plugin's own folder for generated files, created.
    std::string data_dir() const;

    // Background tasks (abi.h says what a task is). A kind is registered in
    // init; its handler runs on the host's task pool with the task's input and
    // returns the result (JSON); an exception fails the task with its message.
    class Task {
      public:
        explicit Task(int64_t id) : id_(id) {}
        int64_t id() const { return id_; }
        // Replaces the task's progress object (e.g. {"step": 2, "of": 5}).
        void progress(const json& p) const;

      private:
        int64_t id_;
    };
    using TaskHandler = std::function<json(const Task&, const json& input)>;
    void register_task(std::string_view kind, TaskHandler handler);
    struct TaskStart {
        bool started = false;  // false: `task` is the one already running
        json task;
    };
    // Throws when the kind is unknown, the input too large or the host busy.
    TaskStart start_task(std::string_view kind, std::string_view dedupe_key,
                         const json& input = json::object()) const;
    std::optional<json> task(int64_t id) const;
    json tasks(std::string_view kind, int limit = 50) const;

    // ---- ABI 1.3: each throws std::runtime_error on an older gateway ----

    // A GET of the gateway's admin JSON API (docs/admin-api.md) as this
    // plugin, in-process: target is a path with its query,
    // "/admin/api/keys/5/recommendations?period=day". Blocks (not in init).
    struct ApiResponse {
        int status = 0;
        json body;
        bool ok() const { return status >= 200 && status < 300; }
    };
    ApiResponse api_get(std::string_view target) const;

    // Answers the route call `request` with a stream: status, content type and
    // headers go out at once; the handler's own response is then ignored. Only
    // inside the route handler, once; throws otherwise. Keep the stream and write
    // to it from anywhere, e.g. a task or a fetch callback.
    std::shared_ptr<Stream> open_stream(
        const HttpRequest& request, int status = 200,
        std::string_view content_type = "text/event-stream",
        const std::vector<std::pair<std::string, std::string>>& headers = {}) const;

    // Outbound HTTP on the gateway's libcurl loop. Asynchronous: returns at once
    // and `done` runs later, exactly once, on a thread the gateway keeps for
    // these callbacks: keep it short (start a task for long work) and never wait
    // in it for another fetch. Throws when the request is refused (bad URL,
    // header, bound).
    using FetchHandler = std::function<void(FetchResult)>;
    void fetch(const FetchRequest& request, FetchHandler done) const;
    // The same, waiting for the answer: for tasks, jobs and routes, never inside
    // a fetch callback.
    FetchResult fetch(const FetchRequest& request) const;

  private:
    static void fetch_trampoline(void* user, int32_t status, mg_str headers, mg_str body,
                                 mg_str error) noexcept;
    static int32_t task_trampoline(void* user, int64_t id, mg_str input, const mg_sink* result,
                                   const mg_sink* err) noexcept;
    struct PatternRoute {
        std::string method;
        url::Pattern pattern;
        RouteAccess access;
        RouteHandler handler;
    };
    struct Dispatch {  // one per (method, prefix) registered with the host
        Host* host;
        std::string method;
    };
    HttpResponse dispatch(const std::string& method, const HttpRequest& request);
    static void require(bool available, const char* service, const char* abi = "1.2") {
        if (!available)
            throw std::runtime_error(std::string(service) + " needs a gateway of plugin ABI " +
                                     abi + " or newer");
    }
    std::vector<std::unique_ptr<PatternRoute>> patterns_;
    std::map<std::pair<std::string, std::string>, RouteAccess> prefixes_;

    template <class T>
    T* keep(std::unique_ptr<T> p) {
        T* raw = p.get();
        std::lock_guard lock(mu_);
        keep_alive_.push_back(std::shared_ptr<void>(std::move(p)));
        return raw;
    }
    static int32_t route_trampoline(void* user, const mg_http_request* req,
                                    mg_http_response* resp) noexcept;
    static int32_t job_trampoline(void* user, const mg_sink* summary) noexcept;

    std::mutex mu_;
    std::vector<std::shared_ptr<void>> keep_alive_;
};

class FeaturePlugin {
  public:
    virtual ~FeaturePlugin() = default;
    // Register routes and jobs. Throwing refuses the plugin with the message.
    virtual void init(Host& host, const json& config) = 0;
    virtual void shutdown() {}
};

// ---------------------------------------------------------------------------
// Implementation details: the generated C entry points
// ---------------------------------------------------------------------------

namespace detail {

// Where the message of an exception goes: the hook's error sink, or, for
// hooks without one (stream decoding, error classification, shutdown), the
// gateway's log, so the reason is never lost.
inline void report(const mg_sink* err, const char* where, std::string_view message) noexcept {
    if (err != nullptr) {
        append(err, message);
        return;
    }
    try {
        log(LogLevel::error, std::string(where) + " failed: " + std::string(message));
    } catch (...) {
    }
}

// Runs f, turning exceptions into an mg_status and a message (see report()).
template <class F>
int32_t guarded(const mg_sink* err, const char* where, F&& f) noexcept {
    try {
        f();
        return MG_OK;
    } catch (const InvalidRequest& e) {
        report(err, where, e.what());
        return MG_ERR_INVALID;
    } catch (const Unsupported& e) {
        report(err, where, e.what());
        return MG_ERR_UNSUPPORTED;
    } catch (const UpstreamError& e) {
        report(err, where, e.what());
        return MG_ERR_UPSTREAM;
    } catch (const std::exception& e) {
        report(err, where, e.what());
        return MG_ERR_INTERNAL;
    } catch (...) {
        report(err, where, "unknown exception");
        return MG_ERR_INTERNAL;
    }
}

inline Call to_call(const mg_call* c) {
    Call call;
    call.op = static_cast<Operation>(c->op);
    call.stream = c->stream != 0;
    call.model = view(c->model);
    call.body = view(c->body);
    return call;
}

inline void write_request(const UpstreamRequest& r, mg_upstream_request* out) {
    append(out->method, r.method);
    append(out->url, r.url);
    append(out->headers, headers::write(r.headers));
    append(out->body, r.body);
    out->secret_placement = static_cast<int32_t>(r.secret);
    append(out->secret_header, r.secret_header);
    out->stream = r.stream ? 1 : 0;
}

template <class Adapter>
struct ProviderEntry {
    static void* create(mg_str config_json, const mg_sink* err) noexcept {
        Adapter* result = nullptr;
        guarded(err, "create", [&] {
            json j = modelgate::sdk::parse_json(view(config_json));
            if (!j.is_object()) throw InvalidRequest("provider configuration is not a JSON object");
            ProviderConfig config;
            config.name = j.value("name", "");
            config.base_url = j.value("base_url", "");
            while (!config.base_url.empty() && config.base_url.back() == '/')
                config.base_url.pop_back();
            if (j.contains("options") && j["options"].is_object()) config.options = j["options"];
            result = new Adapter(config);
        });
        return result;
    }
    static void destroy(void* instance) noexcept { delete static_cast<Adapter*>(instance); }

    static int32_t build_request(void* instance, const mg_call* call, mg_upstream_request* out,
                                 const mg_sink* err) noexcept {
        return guarded(err, "build_request", [&] {
            UpstreamRequest r = static_cast<Adapter*>(instance)->build_request(to_call(call));
            write_request(r, out);
        });
    }
    static int32_t parse_response(void* instance, const mg_call* call, int32_t status, mg_str body,
                                  const mg_sink* out_json, const mg_sink* usage_json,
                                  const mg_sink* err) noexcept {
        return guarded(err, "parse_response", [&] {
            ParsedResponse r =
                static_cast<Adapter*>(instance)->parse_response(to_call(call), status, view(body));
            append(out_json, r.body);
            if (r.usage && r.usage->is_object()) append(usage_json, r.usage->dump());
        });
    }
    static void* stream_open(void* instance, const mg_call* call, const mg_sink* err) noexcept {
        StreamDecoder* decoder = nullptr;
        guarded(err, "stream_open", [&] {
            decoder = static_cast<Adapter*>(instance)->open_stream(to_call(call)).release();
        });
        return decoder;
    }
    static int32_t stream_feed(void* decoder, mg_str bytes, const mg_event_sink* sink) noexcept {
        EventSink s(sink);
        return guarded(nullptr, "stream_feed",
                       [&] { static_cast<StreamDecoder*>(decoder)->feed(view(bytes), s); });
    }
    static int32_t stream_finish(void* decoder, const mg_event_sink* sink) noexcept {
        EventSink s(sink);
        return guarded(nullptr, "stream_finish",
                       [&] { static_cast<StreamDecoder*>(decoder)->finish(s); });
    }
    static void stream_close(void* decoder) noexcept {
        delete static_cast<StreamDecoder*>(decoder);
    }

    static int32_t classify_error(void* instance, int32_t status, mg_str headers, mg_str body,
                                  mg_error_info* out) noexcept {
        return guarded(nullptr, "classify_error", [&] {
            ErrorInfo e =
                static_cast<Adapter*>(instance)->classify_error(status, view(headers), view(body));
            out->error_class = static_cast<int32_t>(e.error_class);
            out->retry_after_ms = e.retry_after_ms;
            out->reset_at_unix_ms = e.reset_at_unix_ms;
            append(out->error_json, e.error.dump());
        });
    }

    static const mg_provider_vtable* vtable() {
        static const mg_provider_vtable table = {sizeof(mg_provider_vtable),
                                                 &create,
                                                 &destroy,
                                                 &build_request,
                                                 &parse_response,
                                                 &stream_open,
                                                 &stream_feed,
                                                 &stream_finish,
                                                 &stream_close,
                                                 &classify_error};
        return &table;
    }
};

template <class Plugin>
struct FeatureEntry {
    // One plugin object and one Host per init. A library stays loaded for the
    // process's life, and a process may start a gateway more than once (tests
    // do): each init gets a fresh Host, so routes are registered with the
    // gateway that asks, and the objects of an earlier init stay alive for the
    // handlers an earlier gateway may still hold.
    struct Generation {
        std::unique_ptr<Host> host = std::make_unique<Host>();
        std::unique_ptr<Plugin> plugin;
    };
    static std::vector<Generation>& generations() {
        static std::vector<Generation> g;
        return g;
    }
    static int32_t init(mg_plugin_handle*, mg_str config_json, const mg_sink* err) noexcept {
        return guarded(err, "init", [&] {
            json config = modelgate::sdk::parse_json(view(config_json));
            if (!config.is_object()) config = json::object();
            auto& g = generations().emplace_back();
            g.plugin = std::make_unique<Plugin>();
            g.plugin->init(*g.host, config);
        });
    }
    static void shutdown(mg_plugin_handle*) noexcept {
        guarded(nullptr, "shutdown", [&] {
            if (!generations().empty() && generations().back().plugin)
                generations().back().plugin->shutdown();
        });
    }
    static const mg_feature_vtable* vtable() {
        static const mg_feature_vtable table = {sizeof(mg_feature_vtable), &init, &shutdown};
        return &table;
    }
};

inline const mg_plugin_descriptor* make_descriptor(const mg_host_api* host, mg_plugin_handle* self,
                                                   int32_t kind, const char* id,
                                                   const char* version, const char* display_name,
                                                   const char* schema, uint64_t caps,
                                                   const mg_provider_vtable* provider,
                                                   const mg_feature_vtable* feature) noexcept {
    if (host == nullptr || !MG_HAS_FIELD(host, mg_host_api, log)) return nullptr;
    g_host = host;
    g_self = self;
    static mg_plugin_descriptor d;
    d.struct_size = sizeof(mg_plugin_descriptor);
    d.abi_major = MG_ABI_MAJOR;
    d.abi_minor = MG_ABI_MINOR;
    d.kind = kind;
    d.id = id;
    d.version = version;
    d.display_name = display_name;
    d.config_schema = schema;
    d.capabilities = caps;
    d.provider = provider;
    d.feature = feature;
    return &d;
}

}  // namespace detail

// Host method bodies (need detail::guarded).
inline int32_t Host::route_trampoline(void* user, const mg_http_request* req,
                                      mg_http_response* resp) noexcept {
    StringSink err;
    int32_t rc = detail::guarded(err.get(), "route", [&] {
        HttpRequest r;
        r.method = view(req->method);
        r.path = view(req->path);
        r.query = view(req->query);
        r.headers = view(req->headers);
        r.body = view(req->body);
        r.client_ip = view(req->client_ip);
        r.admin_user = view(req->admin_user);
        if (MG_HAS_FIELD(req, mg_http_request, api_key_name)) {  // hosts of ABI 1.1+
            r.api_key_id = req->api_key_id;
            r.api_key_name = view(req->api_key_name);
        }
        if (MG_HAS_FIELD(req, mg_http_request, base_path)) r.base_path = view(req->base_path);
        r.raw = req;
        HttpResponse out = (*static_cast<RouteHandler*>(user))(r);
        resp->status = out.status;
        append(resp->content_type, out.content_type);
        append(resp->headers, headers::write(out.headers));
        append(resp->body, out.body);
    });
    if (rc != MG_OK)
        log(LogLevel::error, std::string(view(req->method)) + " " + std::string(view(req->path)) +
                                 " failed: " + err.data);
    return rc;
}

inline int32_t Host::job_trampoline(void* user, const mg_sink* summary) noexcept {
    return detail::guarded(summary, "job",
                           [&] { append(summary, (*static_cast<JobHandler*>(user))()); });
}

}  // namespace modelgate::sdk

inline modelgate::sdk::json modelgate::sdk::Host::sql(std::string_view statement,
                                                      const json& params) const {
    StringSink rows, err;
    int32_t rc = detail::g_host->sql(detail::g_self, str(statement), str(params.dump()), rows.get(),
                                     err.get());
    if (rc != MG_OK) throw std::runtime_error("sql failed: " + err.data);
    json j = modelgate::sdk::parse_json(rows.data);
    return j.is_discarded() ? json::array() : j;
}

inline modelgate::sdk::LlmResult modelgate::sdk::Host::llm_call(const json& request) const {
    StringSink response, err;
    LlmResult r;
    r.status =
        detail::g_host->llm_call(detail::g_self, str(request.dump()), response.get(), err.get());
    r.error = err.data;
    r.response = modelgate::sdk::parse_json(response.data);
    if (r.response.is_discarded()) r.response = nullptr;
    return r;
}

inline std::string modelgate::sdk::Host::i18n(std::string_view locale, std::string_view key) const {
    StringSink out;
    detail::g_host->i18n(detail::g_self, str(locale), str(key), out.get());
    return out.data;
}

namespace modelgate::sdk {

namespace detail {
inline bool host_has_1_2() {
    return g_host != nullptr && MG_HAS_FIELD(g_host, mg_host_api, task_list);
}
inline bool host_has_1_3() {
    return g_host != nullptr && MG_HAS_FIELD(g_host, mg_host_api, api_get);
}
inline json error_json(int status, std::string_view message, std::string_view code) {
    return {{"error",
             {{"message", message},
              {"type", status == 404 ? "invalid_request_error" : "api_error"},
              {"code", code}}}};
}
}  // namespace detail

inline void Host::route(std::string_view method, std::string_view pattern, RouteAccess access,
                        RouteHandler handler) {
    url::Pattern p(pattern);
    std::string m(method), prefix = p.prefix();
    auto key = std::make_pair(m, prefix);
    std::lock_guard lock(mu_);
    auto it = prefixes_.find(key);
    if (it != prefixes_.end() && it->second != access)
        throw std::runtime_error("route " + std::string(pattern) + ": the routes under " + prefix +
                                 " share one access level");
    patterns_.push_back(
        std::make_unique<PatternRoute>(PatternRoute{m, std::move(p), access, std::move(handler)}));
    if (it != prefixes_.end()) return;
    prefixes_.emplace(key, access);
    auto dispatcher = std::make_unique<RouteHandler>(
        [this, m](const HttpRequest& request) { return dispatch(m, request); });
    RouteHandler* slot = dispatcher.get();
    keep_alive_.push_back(std::shared_ptr<void>(std::move(dispatcher)));
    int32_t rc = detail::g_host->register_route(
        detail::g_self, str(m), str(prefix), static_cast<int32_t>(access), &route_trampoline, slot);
    if (rc != MG_OK)
        throw std::runtime_error("route " + std::string(pattern) + " could not be registered");
}

inline HttpResponse Host::dispatch(const std::string& method, const HttpRequest& request) {
    const PatternRoute* best = nullptr;
    std::map<std::string, std::string> best_params;
    {
        std::lock_guard lock(mu_);
        for (const auto& r : patterns_) {
            std::map<std::string, std::string> params;
            if (r->method != method || !r->pattern.match(request.path, params)) continue;
            if (best == nullptr ||
                r->pattern.literal_segments() > best->pattern.literal_segments()) {
                best = r.get();
                best_params = std::move(params);
            }
        }
    }
    if (best == nullptr)
        return HttpResponse::json_body(
            detail::error_json(404, "No such route: " + std::string(request.path), "not_found"),
            404);
    HttpRequest with_params = request;
    with_params.params = std::move(best_params);
    return best->handler(with_params);
}

inline void Host::migrate(const std::vector<Migration>& migrations) const {
    require(detail::host_has_1_2(), "migrate");
    json list = json::array();
    for (const auto& m : migrations)
        list.push_back({{"version", m.version},
                        {"name", m.name},
                        {"postgresql", m.postgresql},
                        {"sqlite", m.sqlite}});
    StringSink err;
    if (detail::g_host->migrate(detail::g_self, str(list.dump()), err.get()) != MG_OK)
        throw std::runtime_error(err.data.empty() ? "migrate failed" : err.data);
}

inline std::vector<ResultSet> Host::transaction(const std::vector<Statement>& statements) const {
    require(detail::host_has_1_2(), "transaction");
    json list = json::array();
    for (const auto& st : statements)
        list.push_back({{"sql", st.sql}, {"params", st.params}});
    StringSink results, err;
    if (detail::g_host->sql_transaction(detail::g_self, str(list.dump()), results.get(),
                                        err.get()) != MG_OK)
        throw std::runtime_error("sql failed: " + err.data);
    json parsed = modelgate::sdk::parse_json(results.data);
    if (!parsed.is_array() || parsed.size() != statements.size())
        throw std::runtime_error("sql: the gateway's answer is not one result per statement");
    std::vector<ResultSet> out;
    for (auto& r : parsed)
        out.emplace_back(std::move(r));
    return out;
}

inline void Host::register_daily_job(std::string_view name, std::string_view at_hh_mm,
                                     JobHandler handler) {
    require(detail::host_has_1_2(), "register_daily_job");
    auto* slot = keep(std::make_unique<JobHandler>(std::move(handler)));
    int32_t rc = detail::g_host->register_daily_job(detail::g_self, str(name), str(at_hh_mm),
                                                    &job_trampoline, slot);
    if (rc != MG_OK)
        throw std::runtime_error("job " + std::string(name) + " at '" + std::string(at_hh_mm) +
                                 "' could not be registered");
}

inline LlmResult Host::llm_call(const json& request, const LlmOptions& options) const {
    require(detail::host_has_1_2(), "llm_call with options");
    json o = {{"timeout_ms", options.timeout_ms}};
    if (!options.models.empty()) o["models"] = options.models;
    if (options.api_key_id != 0) o["api_key_id"] = options.api_key_id;
    StringSink response, err;
    LlmResult r;
    r.status = detail::g_host->llm_call_ex(detail::g_self, str(request.dump()), str(o.dump()),
                                           response.get(), err.get());
    r.error = err.data;
    r.response = modelgate::sdk::parse_json(response.data);
    if (r.response.is_discarded()) r.response = nullptr;
    return r;
}

inline std::string Host::seal(std::string_view plain) const {
    require(detail::host_has_1_2(), "seal");
    StringSink out;
    if (detail::g_host->seal(detail::g_self, str(plain), out.get()) != MG_OK)
        throw std::runtime_error("seal failed");
    return out.data;
}

inline std::optional<std::string> Host::open_sealed(std::string_view sealed) const {
    require(detail::host_has_1_2(), "open_sealed");
    StringSink out;
    if (detail::g_host->open_sealed(detail::g_self, str(sealed), out.get()) != MG_OK)
        return std::nullopt;
    return out.data;
}

inline void Host::Task::progress(const json& p) const {
    if (detail::g_host->task_progress(detail::g_self, id_, str(p.dump())) != MG_OK)
        throw std::runtime_error("task progress was refused (an object of at most 64 KiB)");
}

inline int32_t Host::task_trampoline(void* user, int64_t id, mg_str input, const mg_sink* result,
                                     const mg_sink* err) noexcept {
    return detail::guarded(err, "task", [&] {
        json in = modelgate::sdk::parse_json(view(input));
        json out = (*static_cast<TaskHandler*>(user))(Task(id), in.is_discarded() ? json() : in);
        append(result, out.dump());
    });
}

inline void Host::register_task(std::string_view kind, TaskHandler handler) {
    require(detail::host_has_1_2(), "register_task");
    auto* slot = keep(std::make_unique<TaskHandler>(std::move(handler)));
    if (detail::g_host->register_task_kind(detail::g_self, str(kind), &task_trampoline, slot) !=
        MG_OK)
        throw std::runtime_error("task kind " + std::string(kind) + " could not be registered");
}

inline Host::TaskStart Host::start_task(std::string_view kind, std::string_view dedupe_key,
                                        const json& input) const {
    require(detail::host_has_1_2(), "start_task");
    StringSink task, err;
    int32_t rc = detail::g_host->task_start(detail::g_self, str(kind), str(dedupe_key),
                                            str(input.dump()), task.get(), err.get());
    if (rc != MG_OK && rc != MG_ERR_CONFLICT)
        throw std::runtime_error("the task could not start: " + err.data);
    return {rc == MG_OK, modelgate::sdk::parse_json(task.data)};
}

inline std::optional<json> Host::task(int64_t id) const {
    require(detail::host_has_1_2(), "task");
    StringSink task;
    if (detail::g_host->task_get(detail::g_self, id, task.get()) != MG_OK) return std::nullopt;
    return modelgate::sdk::parse_json(task.data);
}

inline json Host::tasks(std::string_view kind, int limit) const {
    require(detail::host_has_1_2(), "tasks");
    StringSink list;
    if (detail::g_host->task_list(detail::g_self, str(kind), limit, list.get()) != MG_OK)
        throw std::runtime_error("listing tasks failed (limit is 1 to 200)");
    return modelgate::sdk::parse_json(list.data);
}

inline Host::ApiResponse Host::api_get(std::string_view target) const {
    require(detail::host_has_1_3(), "api_get", "1.3");
    StringSink body;
    ApiResponse r;
    r.status = detail::g_host->api_get(detail::g_self, str(target), body.get());
    r.body = modelgate::sdk::parse_json(body.data);
    return r;
}

inline Stream::Write Stream::write(std::string_view bytes) {
    std::lock_guard lock(mu_);
    if (stream_ == nullptr) return Write::gone;
    int32_t rc = detail::g_host->stream_write(detail::g_self, stream_, str(bytes));
    return rc == MG_OK ? Write::ok : rc == MG_ERR_BUSY ? Write::busy : Write::gone;
}

inline Stream::Write Stream::event(std::string_view data, std::string_view event,
                                   std::string_view id) {
    auto one_line = [](std::string_view v) {
        std::string out(v);
        for (char& c : out)
            if (c == '\r' || c == '\n') c = ' ';
        return out;
    };
    std::string frame;
    if (!event.empty()) frame += "event: " + one_line(event) + "\n";
    if (!id.empty()) frame += "id: " + one_line(id) + "\n";
    std::size_t start = 0;
    while (true) {
        std::size_t end = data.find('\n', start);
        std::string_view line =
            data.substr(start, end == std::string_view::npos ? end : end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        frame += "data: ";
        frame += line;
        frame += "\n";
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    frame += "\n";
    return write(frame);
}

inline void Stream::close() {
    std::lock_guard lock(mu_);
    if (stream_ == nullptr) return;
    detail::g_host->stream_close(detail::g_self, stream_);
    stream_ = nullptr;
}

inline std::shared_ptr<Stream> Host::open_stream(
    const HttpRequest& request, int status, std::string_view content_type,
    const std::vector<std::pair<std::string, std::string>>& extra_headers) const {
    require(detail::host_has_1_3(), "open_stream", "1.3");
    mg_stream* s =
        request.raw == nullptr
            ? nullptr
            : detail::g_host->stream_open(detail::g_self, request.raw, status, str(content_type),
                                          str(headers::write(extra_headers)));
    if (s == nullptr)
        throw std::runtime_error("open_stream: only inside the route handler, once per request");
    return std::make_shared<Stream>(s);
}

inline void Host::fetch_trampoline(void* user, int32_t status, mg_str headers, mg_str body,
                                   mg_str error) noexcept {
    std::unique_ptr<FetchHandler> done(static_cast<FetchHandler*>(user));
    try {
        (*done)(FetchResult{status, std::string(view(headers)), std::string(view(body)),
                            std::string(view(error))});
    } catch (const std::exception& e) {
        log(LogLevel::error, std::string("a fetch callback threw: ") + e.what());
    } catch (...) {
        log(LogLevel::error, "a fetch callback threw");
    }
}

inline void Host::fetch(const FetchRequest& request, FetchHandler done) const {
    require(detail::host_has_1_3(), "fetch", "1.3");
    json h = json::object();
    for (const auto& [name, value] : request.headers)
        h[name] = value;
    json r = {{"method", request.method},
              {"url", request.url},
              {"headers", h},
              {"body", request.body},
              {"timeout_ms", request.timeout_ms},
              {"connect_timeout_ms", request.connect_timeout_ms},
              {"max_response_bytes", request.max_response_bytes}};
    auto* slot = new FetchHandler(std::move(done));
    StringSink err;
    int32_t rc = detail::g_host->http_fetch(detail::g_self, str(r.dump()), &fetch_trampoline, slot,
                                            err.get());
    if (rc != MG_OK) {
        delete slot;
        throw std::runtime_error("fetch refused: " + err.data);
    }
}

inline FetchResult Host::fetch(const FetchRequest& request) const {
    auto answer = std::make_shared<std::promise<FetchResult>>();
    auto result = answer->get_future();
    fetch(request, [answer](FetchResult r) { answer->set_value(std::move(r)); });
    return result.get();
}

inline std::string Host::data_dir() const {
    require(detail::host_has_1_2(), "data_dir");
    std::string dir(view(detail::g_host->data_dir(detail::g_self)));
    if (dir.empty()) throw std::runtime_error("the gateway could not create the data folder");
    return dir;
}

}  // namespace modelgate::sdk

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#define MODELGATE_PROVIDER_PLUGIN(AdapterClass, ID, VERSION, DISPLAY_NAME, CAPS, CONFIG_SCHEMA) \
    namespace {                                                                                 \
    const mg_plugin_descriptor* modelgate_provider_entry(const mg_host_api* host,               \
                                                         mg_plugin_handle* self) noexcept {     \
        return ::modelgate::sdk::detail::make_descriptor(                                       \
            host, self, MG_KIND_PROVIDER, ID, VERSION, DISPLAY_NAME, CONFIG_SCHEMA, CAPS,       \
            ::modelgate::sdk::detail::ProviderEntry<AdapterClass>::vtable(), nullptr);          \
    }                                                                                           \
    }                                                                                           \
    BOOST_DLL_ALIAS(modelgate_provider_entry, modelgate_plugin_entry)

#define MODELGATE_FEATURE_PLUGIN(PluginClass, ID, VERSION, DISPLAY_NAME, CONFIG_SCHEMA)        \
    namespace {                                                                                \
    const mg_plugin_descriptor* modelgate_feature_entry(const mg_host_api* host,               \
                                                        mg_plugin_handle* self) noexcept {     \
        return ::modelgate::sdk::detail::make_descriptor(                                      \
            host, self, MG_KIND_FEATURE, ID, VERSION, DISPLAY_NAME, CONFIG_SCHEMA, 0, nullptr, \
            ::modelgate::sdk::detail::FeatureEntry<PluginClass>::vtable());                    \
    }                                                                                          \
    }                                                                                          \
    BOOST_DLL_ALIAS(modelgate_feature_entry, modelgate_plugin_entry)

#include "features/plugin_io.hpp"

#include <algorithm>
#include <memory>
#include <modelgate/header_block.hpp>
#include <mutex>

#include "util/json.hpp"
#include "util/log.hpp"

namespace modelgate::core::features {

namespace {

// What an mg_stream* points to.
struct PluginStream {
    explicit PluginStream(http::ResponderPtr r) : responder(std::move(r)) {}
    http::ResponderPtr responder;
    std::mutex mu;  // one write at a time, in order
    bool gone = false;
    std::shared_ptr<std::atomic<int64_t>> unsent = std::make_shared<std::atomic<int64_t>>(0);
};

bool safe_header_text(const std::string& s) {
    return s.find_first_of("\r\n") == std::string::npos;
}

// A JSON integer field in [min, max], or fallback when absent.
bool bounded(const nlohmann::json& j, const char* name, int64_t fallback, int64_t min, int64_t max,
             int64_t& out, std::string& err) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) {
        out = fallback;
        return true;
    }
    if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > max) {
        err = std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
              std::to_string(max);
        return false;
    }
    out = it->get<int64_t>();
    return true;
}

class PluginFetchJob final : public upstream::Job {
  public:
    PluginFetchJob(ThreadPool& workers, std::size_t max_body, FetchDone done)
        : workers_(workers), max_body_(max_body), done_(std::move(done)) {}

    void on_headers(int status, std::string_view header_lines) override {
        answer_.status = status;
        answer_.headers.assign(header_lines);
    }
    upstream::DataAction on_data(std::string_view bytes) override {
        if (answer_.body.size() + bytes.size() > max_body_) return upstream::DataAction::abort;
        answer_.body.append(bytes);
        return upstream::DataAction::proceed;
    }
    void on_finished(upstream::Outcome outcome, const std::string& detail) override {
        if (outcome != upstream::Outcome::completed) {
            answer_.status = 0;
            answer_.body.clear();
            answer_.error = outcome == upstream::Outcome::aborted ? "too large"
                            : upstream::is_timeout(outcome)
                                ? "timeout"
                                : std::string(upstream::outcome_name(outcome)) +
                                      (detail.empty() ? "" : ": " + detail);
        }
        // The plugin's code never runs on the loop's thread, unless the
        // workers have stopped (the gateway is going down).
        auto run = [done = std::move(done_), answer = std::move(answer_)]() mutable {
            try {
                done(std::move(answer));
            } catch (const std::exception& e) {
                MG_ERROR("plugins", "an http_fetch callback threw: " << e.what());
            }
        };
        auto shared = std::make_shared<decltype(run)>(std::move(run));
        if (!workers_.post([shared] { (*shared)(); })) (*shared)();
    }

  private:
    ThreadPool& workers_;
    std::size_t max_body_;
    FetchDone done_;
    FetchAnswer answer_;
};

}  // namespace

mg_stream* open_stream(RouteCall& call, int status, std::string_view content_type,
                       std::string_view header_lines) {
    if (call.streamed.exchange(true)) return nullptr;
    auto* stream = new PluginStream(call.responder);
    http::HeaderList headers = modelgate::sdk::headers::parse(header_lines);
    if (status < 100 || status > 599) status = 200;
    std::string type(content_type.empty() ? std::string_view("text/event-stream") : content_type);
    if (!safe_header_text(type)) type = "application/octet-stream";
    if (!stream->responder->start_stream(status, type, headers)) stream->gone = true;
    return reinterpret_cast<mg_stream*>(stream);
}

int32_t write_stream(mg_stream* handle, std::string_view bytes) {
    if (handle == nullptr) return MG_ERR_GONE;
    auto* s = reinterpret_cast<PluginStream*>(handle);
    std::lock_guard lock(s->mu);
    if (s->gone) return MG_ERR_GONE;
    if (bytes.empty()) return MG_OK;
    auto n = static_cast<int64_t>(bytes.size());
    if (s->unsent->load() + n > kMaxUnsentStreamBytes && s->unsent->load() > 0) return MG_ERR_BUSY;
    s->unsent->fetch_add(n);
    auto unsent = s->unsent;
    if (!s->responder->stream_write(std::string(bytes),
                                    [unsent, n](bool) { unsent->fetch_sub(n); })) {
        s->unsent->fetch_sub(n);
        s->gone = true;
        return MG_ERR_GONE;
    }
    return MG_OK;
}

void close_stream(mg_stream* handle) {
    if (handle == nullptr) return;
    auto* s = reinterpret_cast<PluginStream*>(handle);
    {
        std::lock_guard lock(s->mu);
        if (!s->gone) s->responder->end_stream();
        s->gone = true;
    }
    delete s;
}

bool start_fetch(upstream::UpstreamLoop& loop, ThreadPool& workers, std::string_view request_json,
                 const std::string& user_agent, FetchDone done, std::string& err) {
    if (request_json.size() > kMaxFetchRequestBytes) {
        err = "the request is larger than 16 MiB";
        return false;
    }
    nlohmann::json r = parse_json(request_json);
    if (!r.is_object()) {
        err = "the request must be a JSON object";
        return false;
    }
    upstream::RequestSpec spec;
    spec.method = r.value("method", "GET");
    if (spec.method.empty() || spec.method.size() > 16 ||
        !std::all_of(spec.method.begin(), spec.method.end(),
                     [](char c) { return c >= 'A' && c <= 'Z'; })) {
        err = "method must be an upper-case HTTP method";
        return false;
    }
    auto url = r.find("url");
    if (url == r.end() || !url->is_string() ||
        (url->get<std::string>().rfind("http://", 0) != 0 &&
         url->get<std::string>().rfind("https://", 0) != 0) ||
        url->get<std::string>().size() > 8192 || !safe_header_text(url->get<std::string>())) {
        err = "url must be an http:// or https:// URL";
        return false;
    }
    spec.url = url->get<std::string>();
    bool has_agent = false;
    if (auto h = r.find("headers"); h != r.end() && !h->is_null()) {
        if (!h->is_object() || h->size() > 100) {
            err = "headers must be an object of at most 100 names and string values";
            return false;
        }
        for (const auto& [name, value] : h->items()) {
            namespace hb = modelgate::sdk::headers;
            if (!hb::valid_name(name) || !value.is_string() ||
                !hb::valid_value(value.get<std::string>())) {
                err = "header '" + name + "' is not a valid name with a one-line string value";
                return false;
            }
            if (hb::equal_names(name, "user-agent")) has_agent = true;
            spec.headers.push_back(name + ": " + value.get<std::string>());
        }
    }
    if (!has_agent && !user_agent.empty()) spec.headers.push_back("User-Agent: " + user_agent);
    if (auto b = r.find("body"); b != r.end() && !b->is_null()) {
        if (!b->is_string()) {
            err = "body must be a string";
            return false;
        }
        spec.body = b->get<std::string>();
    }
    int64_t timeout = 0, connect = 0, max_body = 0;
    if (!bounded(r, "timeout_ms", kDefaultFetchTimeoutMs, 1, kMaxFetchTimeoutMs, timeout, err) ||
        !bounded(r, "connect_timeout_ms", 10000, 1, kMaxFetchTimeoutMs, connect, err) ||
        !bounded(r, "max_response_bytes", kDefaultFetchResponseBytes, 1, kMaxFetchResponseBytes,
                 max_body, err))
        return false;
    spec.connect_timeout = std::chrono::milliseconds(std::min(connect, timeout));
    spec.first_byte_timeout = spec.idle_timeout = spec.total_timeout =
        std::chrono::milliseconds(timeout);
    auto job = std::make_shared<PluginFetchJob>(workers, static_cast<std::size_t>(max_body),
                                                std::move(done));
    job->spec = std::move(spec);
    // A loop that has stopped takes nothing: the fetch ends here, as one it
    // was running would have.
    if (!loop.submit(job)) job->on_finished(upstream::Outcome::cancelled, "");
    return true;
}

}  // namespace modelgate::core::features

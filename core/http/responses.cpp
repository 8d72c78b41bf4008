#include "http/responses.hpp"

#include <pistache/http_headers.h>

namespace modelgate::core::http {

namespace {

// A response header Pistache writes verbatim. (Pistache only serializes typed
// headers; raw ones added to a response are silently dropped.)
class VerbatimHeader final : public Pistache::Http::Header::Header {
  public:
    VerbatimHeader(std::string name, std::string value)
        : name_(std::move(name)), value_(std::move(value)) {}
    const char* name() const override { return name_.c_str(); }
    void parse(const std::string& data) override { value_ = data; }
    void write(std::ostream& os) const override { os << value_; }
    uint64_t hash() const override { return Pistache::Http::Header::detail::hash(name_.c_str()); }

  private:
    std::string name_;
    std::string value_;
};

}  // namespace

void set_header(Pistache::Http::ResponseWriter& w, const std::string& name,
                const std::string& value) {
    auto& headers = w.headers();
    headers.remove(name);
    headers.add(std::make_shared<VerbatimHeader>(name, value));
}

const char* reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 402:
            return "Payment Required";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Entity";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

nlohmann::json error_body(const Error& e) {
    return {{"error",
             {{"message", e.message},
              {"type", error_type(e.code)},
              {"code", e.detail_code.empty() ? default_error_code(e.code) : e.detail_code}}}};
}

void send(Pistache::Http::ResponseWriter& w, int status, const std::string& content_type,
          const std::string& body, const HeaderList& headers) {
    set_header(w, "Content-Type", content_type);
    set_header(w, "X-Content-Type-Options", "nosniff");
    set_header(w, "Cache-Control", "no-store");
    for (const auto& [k, v] : headers)
        set_header(w, k, v);
    w.send(static_cast<Pistache::Http::Code>(status), body);
}

void send_json(Pistache::Http::ResponseWriter& w, int status, const nlohmann::json& body,
               const HeaderList& headers) {
    send(w, status, "application/json",
         body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), headers);
}

void send_error(Pistache::Http::ResponseWriter& w, const Error& e, const HeaderList& headers) {
    if (e.retry_after_s <= 0) {
        send_json(w, http_status(e.code), error_body(e), headers);
        return;
    }
    HeaderList with_retry = headers;
    with_retry.emplace_back("Retry-After", std::to_string(e.retry_after_s));
    send_json(w, http_status(e.code), error_body(e), with_retry);
}

std::string make_cookie(const std::string& name, const std::string& value, int max_age_seconds,
                        bool secure, const std::string& path) {
    std::string c = name + "=" + value + "; Path=" + path + "; HttpOnly; SameSite=Strict";
    if (secure) c += "; Secure";
    c += "; Max-Age=" + std::to_string(max_age_seconds);
    return c;
}

}  // namespace modelgate::core::http

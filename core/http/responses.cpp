#include "http/responses.hpp"

namespace modelgate::core::http {

const char* reason_phrase(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 304:
            return "Not Modified";
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
        case 411:
            return "Length Required";
        case 413:
            return "Payload Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 417:
            return "Expectation Failed";
        case 422:
            return "Unprocessable Entity";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

std::string dump_json(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json error_body(const Error& e) {
    return {{"error",
             {{"message", e.message},
              {"type", error_type(e.code)},
              {"code", e.detail_code.empty() ? default_error_code(e.code) : e.detail_code}}}};
}

Response json_response(int status, const nlohmann::json& body, HeaderList headers) {
    return Response{status, "application/json", dump_json(body), std::move(headers)};
}

Response error_response(const Error& e, HeaderList headers) {
    if (e.retry_after_s > 0) headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
    return json_response(http_status(e.code), error_body(e), std::move(headers));
}

Response text_response(int status, std::string content_type, std::string body, HeaderList headers) {
    return Response{status, std::move(content_type), std::move(body), std::move(headers)};
}

std::string make_cookie(const std::string& name, const std::string& value, int max_age_seconds,
                        bool secure, const std::string& path) {
    std::string c = name + "=" + value + "; Path=" + path + "; HttpOnly; SameSite=Strict";
    if (secure) c += "; Secure";
    c += "; Max-Age=" + std::to_string(max_age_seconds);
    return c;
}

}  // namespace modelgate::core::http

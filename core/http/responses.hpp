// Whole responses as data: JSON bodies, OpenAI-shaped errors, cookies. The
// server serializes them (status line, the security headers every answer
// carries, framing); handlers only say what to answer.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "http/request.hpp"
#include "util/result.hpp"

namespace modelgate::core::http {

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    HeaderList headers;  // besides Content-Type, Content-Length and Connection
};

// "OK", "Not Found", ... for a status code.
const char* reason_phrase(int status);

// JSON text; invalid UTF-8 in strings is replaced rather than thrown on.
std::string dump_json(const nlohmann::json& j);

// {"error":{"message","type","code"}}
nlohmann::json error_body(const Error& e);

Response json_response(int status, const nlohmann::json& body, HeaderList headers = {});
// The error's status and OpenAI-shaped body, with Retry-After when it has one.
Response error_response(const Error& e, HeaderList headers = {});
Response text_response(int status, std::string content_type, std::string body,
                       HeaderList headers = {});

// "name=value; Path=/; HttpOnly; SameSite=Strict[; Secure][; Max-Age=N]"
std::string make_cookie(const std::string& name, const std::string& value, int max_age_seconds,
                        bool secure, const std::string& path = "/");

}  // namespace modelgate::core::http

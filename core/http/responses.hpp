// Writing whole responses: JSON bodies, OpenAI-shaped errors, cookies and the
// security headers every response carries. Safe from any thread.
#pragma once

#include <pistache/http.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace modelgate::core::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// "OK", "Not Found", ... for a status code.
const char* reason_phrase(int status);

// Sets (replaces) a response header.
void set_header(Pistache::Http::ResponseWriter& w, const std::string& name,
                const std::string& value);

// {"error":{"message","type","code"}}
nlohmann::json error_body(const Error& e);

void send(Pistache::Http::ResponseWriter& w, int status, const std::string& content_type,
          const std::string& body, const HeaderList& headers = {});
void send_json(Pistache::Http::ResponseWriter& w, int status, const nlohmann::json& body,
               const HeaderList& headers = {});
void send_error(Pistache::Http::ResponseWriter& w, const Error& e, const HeaderList& headers = {});

// "name=value; Path=/; HttpOnly; SameSite=Strict[; Secure][; Max-Age=N]"
std::string make_cookie(const std::string& name, const std::string& value, int max_age_seconds,
                        bool secure, const std::string& path = "/");

}  // namespace modelgate::core::http

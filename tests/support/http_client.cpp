#include "support/http_client.hpp"

#include <curl/curl.h>

namespace modelgate::test {

namespace {

struct Ctx {
    HttpResponse* resp;
    const std::function<bool(const std::string&)>* on_data;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* ctx = static_cast<Ctx*>(user);
    std::string chunk(data, size * n);
    ctx->resp->body += chunk;
    if (ctx->on_data && *ctx->on_data && !(*ctx->on_data)(chunk)) return 0;  // hang up
    return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* resp = static_cast<HttpResponse*>(user);
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' '))
            value.erase(0, 1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
            value.pop_back();
        resp->headers[name] = value;
        if (name == "set-cookie") resp->set_cookies.push_back(value);
    }
    return size * n;
}

HttpResponse perform(const std::string& method, const std::string& url, const std::string& body,
                     const Headers& headers, long timeout_ms,
                     const std::function<bool(const std::string&)>* on_data) {
    static const bool init = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        return true;
    }();
    (void)init;
    HttpResponse resp;
    Ctx ctx{&resp, on_data};
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    if (method == "GET") {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_slist* list = nullptr;
    for (const auto& [k, v] : headers)
        list = curl_slist_append(list, (k + ": " + v).c_str());
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) resp.error = curl_easy_strerror(rc);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    return resp;
}

}  // namespace

HttpResponse http_request(const std::string& method, const std::string& url,
                          const std::string& body, const Headers& headers, long timeout_ms) {
    return perform(method, url, body, headers, timeout_ms, nullptr);
}

HttpResponse http_stream(const std::string& url, const std::string& body, const Headers& headers,
                         const std::function<bool(const std::string&)>& on_data, long timeout_ms) {
    return perform("POST", url, body, headers, timeout_ms, &on_data);
}

std::vector<std::string> sse_data(const std::string& body) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < body.size()) {
        std::size_t end = body.find("\n\n", pos);
        std::string event =
            body.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        if (event.rfind("data: ", 0) == 0) out.push_back(event.substr(6));
        if (end == std::string::npos) break;
        pos = end + 2;
    }
    return out;
}

}  // namespace modelgate::test

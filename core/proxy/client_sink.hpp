// Where a proxied call's answer goes: an HTTP client (whole response or an SSE
// stream with back-pressure) or, for internal calls made by feature plugins, a
// waiting promise. Every method is safe from any thread.
#pragma once

#include <pistache/http.h>

#include <functional>
#include <future>
#include <memory>
#include <string>

#include "http/connection.hpp"
#include "http/responses.hpp"

namespace modelgate::core::proxy {

class ClientSink {
  public:
    virtual ~ClientSink() = default;
    // A whole response (JSON answer or error).
    virtual void respond(int status, const std::string& body, const http::HeaderList& headers) = 0;
    // Starts a 200 text/event-stream answer. False when the client is gone.
    virtual bool start_stream(const http::HeaderList& headers) = 0;
    // Sends SSE bytes; done(ok) reports when they left (for back-pressure).
    virtual bool stream_write(std::string bytes, std::function<void(bool)> done) = 0;
    virtual void end_stream() = 0;
    // Runs once when the client goes away (never for internal calls).
    virtual void set_close_hook(std::function<void()> hook) = 0;
    virtual void clear_close_hook() = 0;
};

// An HTTP/1.1 client on a Pistache connection.
class HttpClientSink final : public ClientSink {
  public:
    HttpClientSink(std::shared_ptr<http::ClientConnection> connection, bool keep_alive)
        : connection_(std::move(connection)), keep_alive_(keep_alive) {}

    void respond(int status, const std::string& body, const http::HeaderList& headers) override;
    bool start_stream(const http::HeaderList& headers) override;
    bool stream_write(std::string bytes, std::function<void(bool)> done) override;
    void end_stream() override;
    void set_close_hook(std::function<void()> hook) override {
        connection_->set_close_hook(std::move(hook));
    }
    void clear_close_hook() override { connection_->clear_close_hook(); }

  private:
    std::shared_ptr<http::ClientConnection> connection_;
    bool keep_alive_;
};

// Collects the answer of an internal (plugin-initiated) call.
class InternalClientSink final : public ClientSink {
  public:
    struct Answer {
        int status = 0;
        std::string body;
    };
    std::future<Answer> answer() { return promise_.get_future(); }
    ~InternalClientSink() override {
        if (!answered_) promise_.set_value({0, ""});
    }

    void respond(int status, const std::string& body, const http::HeaderList&) override;
    bool start_stream(const http::HeaderList&) override { return false; }
    bool stream_write(std::string, std::function<void(bool)>) override { return false; }
    void end_stream() override {}
    void set_close_hook(std::function<void()>) override {}
    void clear_close_hook() override {}

  private:
    std::promise<Answer> promise_;
    bool answered_ = false;
};

}  // namespace modelgate::core::proxy

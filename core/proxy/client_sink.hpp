// Where a proxied call's answer goes: the HTTP client's responder, or, for
// internal calls made by feature plugins, a waiting promise.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "http/responder.hpp"

namespace modelgate::core::proxy {

using ClientSink = http::Responder;

// Collects the answer of an internal (plugin-initiated) call.
class InternalClientSink final : public http::Responder {
  public:
    struct Answer {
        int status = 0;
        std::string body;
    };
    std::future<Answer> answer() { return promise_.get_future(); }
    ~InternalClientSink() override;

    void send(http::Response response) override;
    bool start_stream(int, const std::string&, const http::HeaderList&) override { return false; }
    bool stream_write(std::string, std::function<void(bool)>) override { return false; }
    void end_stream() override {}
    void set_close_hook(std::function<void()>) override {}
    void clear_close_hook() override {}

  private:
    std::mutex mu_;
    std::promise<Answer> promise_;
    bool answered_ = false;
};

}  // namespace modelgate::core::proxy

#include "proxy/client_sink.hpp"

namespace modelgate::core::proxy {

InternalClientSink::~InternalClientSink() {
    std::lock_guard lock(mu_);
    if (!answered_) promise_.set_value({0, ""});
}

void InternalClientSink::send(http::Response response) {
    std::lock_guard lock(mu_);
    if (answered_) return;
    answered_ = true;
    promise_.set_value({response.status, std::move(response.body)});
}

}  // namespace modelgate::core::proxy

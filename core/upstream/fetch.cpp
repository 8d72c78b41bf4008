#include "upstream/fetch.hpp"

#include <future>

namespace modelgate::core::upstream {

namespace {

class FetchJob final : public Job {
  public:
    explicit FetchJob(std::size_t max_body) : max_body_(max_body) {}

    void on_headers(int status, std::string_view header_lines) override {
        result_.status = status;
        result_.headers.assign(header_lines);
    }
    DataAction on_data(std::string_view bytes) override {
        if (result_.body.size() + bytes.size() > max_body_) return DataAction::abort;
        result_.body.append(bytes);
        return DataAction::proceed;
    }
    void on_finished(Outcome outcome, const std::string& detail) override {
        result_.outcome = outcome;
        result_.detail = outcome == Outcome::aborted ? "the answer is too large" : detail;
        done_.set_value(std::move(result_));
    }
    std::future<FetchResult> future() { return done_.get_future(); }

  private:
    std::size_t max_body_;
    FetchResult result_;
    std::promise<FetchResult> done_;
};

}  // namespace

FetchResult fetch(UpstreamLoop& loop, RequestSpec spec, std::size_t max_body) {
    auto job = std::make_shared<FetchJob>(max_body);
    auto limit = spec.total_timeout + std::chrono::seconds(5);
    job->spec = std::move(spec);
    auto answer = job->future();
    // The loop enforces the spec's timeouts; the margin only covers a loop that
    // stopped just after it took the job.
    if (loop.submit(job) && answer.wait_for(limit) == std::future_status::ready)
        return answer.get();
    loop.cancel(job);
    FetchResult late;
    late.outcome = Outcome::total_timeout;
    late.detail = "the upstream loop did not answer";
    return late;
}

}  // namespace modelgate::core::upstream

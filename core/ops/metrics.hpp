// Prometheus metrics kept in memory and rendered as text exposition format:
// requests by provider, model and status; upstream latency and time-to-first-
// token histograms; queue waits; plus gauges read at scrape time (in-flight,
// queued, log writer state) through a provider callback.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace modelgate::core {

class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds)
        : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
    void observe(double v);
    void render(std::string& out, const std::string& name, const std::string& labels) const;

  private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;
    double sum_ = 0;
    uint64_t count_ = 0;
};

class Metrics {
  public:
    void record_request(const std::string& provider, const std::string& model,
                        const std::string& status);
    void observe_latency(const std::string& provider, double seconds);
    void observe_ttft(const std::string& provider, double seconds);
    void observe_queue_wait(const std::string& provider, double seconds);
    // A call went upstream a second time: "connection" (refused before it was
    // sent) or "another_key" (the first key was rate limited or out of quota).
    void record_retry(const std::string& provider, const std::string& reason);

    // Appends gauges and extra lines at render time.
    using Extra = std::function<void(std::string& out)>;
    std::string render(const Extra& extra) const;

    static std::string escape_label(const std::string& v);

  private:
    mutable std::mutex mu_;
    // Ordered by (provider, model, status), looked up with views of them.
    struct KeyLess {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const {
            return view(a) < view(b);
        }
        template <class T>
        static std::tuple<std::string_view, std::string_view, std::string_view> view(const T& t) {
            return {std::get<0>(t), std::get<1>(t), std::get<2>(t)};
        }
    };
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t, KeyLess> requests_;
    std::map<std::string, Histogram> latency_, ttft_, queue_wait_;
    std::map<std::pair<std::string, std::string>, uint64_t> retries_;
};

}  // namespace modelgate::core

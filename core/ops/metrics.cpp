#include "ops/metrics.hpp"

#include <cstdio>

namespace modelgate::core {

namespace {

const std::vector<double>& latency_buckets() {
    static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                          2.5,   5,    10,    30,   60,  120,  300, 600};
    return b;
}
const std::vector<double>& queue_buckets() {
    static const std::vector<double> b = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60};
    return b;
}

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

Histogram& slot(std::map<std::string, Histogram>& m, const std::string& key,
                const std::vector<double>& bounds) {
    auto it = m.find(key);
    if (it == m.end()) it = m.emplace(key, Histogram(bounds)).first;
    return it->second;
}

}  // namespace

void Histogram::observe(double v) {
    std::size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i])
        ++i;
    ++counts_[i];
    sum_ += v;
    ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
    uint64_t cumulative = 0;
    std::string sep = labels.empty() ? "" : ",";
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts_[i];
        out += name + "_bucket{" + labels + sep + "le=\"" + num(bounds_[i]) + "\"} " +
               std::to_string(cumulative) + "\n";
    }
    cumulative += counts_.back();
    out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    out += name + "_sum{" + labels + "} " + num(sum_) + "\n";
    out += name + "_count{" + labels + "} " + std::to_string(count_) + "\n";
}

std::string Metrics::escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

void Metrics::record_request(const std::string& provider, const std::string& model,
                             const std::string& status) {
    std::lock_guard lock(mu_);
    // Look up without building three strings; insert only the first time.
    auto it = requests_.find(
        std::tuple<std::string_view, std::string_view, std::string_view>(provider, model, status));
    if (it == requests_.end())
        it = requests_.emplace(std::make_tuple(provider, model, status), 0).first;
    ++it->second;
}

void Metrics::observe_latency(const std::string& provider, double seconds) {
    std::lock_guard lock(mu_);
    slot(latency_, provider, latency_buckets()).observe(seconds);
}

void Metrics::observe_ttft(const std::string& provider, double seconds) {
    std::lock_guard lock(mu_);
    slot(ttft_, provider, latency_buckets()).observe(seconds);
}

void Metrics::observe_queue_wait(const std::string& provider, double seconds) {
    std::lock_guard lock(mu_);
    slot(queue_wait_, provider, queue_buckets()).observe(seconds);
}

void Metrics::record_retry(const std::string& provider, const std::string& reason) {
    std::lock_guard lock(mu_);
    ++retries_[{provider, reason}];
}

std::string Metrics::render(const Extra& extra) const {
    std::string out;
    {
        std::lock_guard lock(mu_);
        out +=
            "# HELP modelgate_requests_total Proxied calls by provider, model and final status.\n";
        out += "# TYPE modelgate_requests_total counter\n";
        for (const auto& [k, v] : requests_) {
            out += "modelgate_requests_total{provider=\"" + escape_label(std::get<0>(k)) +
                   "\",model=\"" + escape_label(std::get<1>(k)) + "\",status=\"" +
                   escape_label(std::get<2>(k)) + "\"} " + std::to_string(v) + "\n";
        }
        out +=
            "# HELP modelgate_upstream_retries_total Calls sent upstream a second time, by "
            "provider and reason (connection: refused before it was sent; another_key: the "
            "first key was rate limited or out of quota).\n";
        out += "# TYPE modelgate_upstream_retries_total counter\n";
        for (const auto& [k, v] : retries_) {
            out += "modelgate_upstream_retries_total{provider=\"" + escape_label(k.first) +
                   "\",reason=\"" + escape_label(k.second) + "\"} " + std::to_string(v) + "\n";
        }
        out +=
            "# HELP modelgate_upstream_latency_seconds Time from sending upstream to the end of "
            "the answer.\n";
        out += "# TYPE modelgate_upstream_latency_seconds histogram\n";
        for (const auto& [p, h] : latency_) {
            h.render(out, "modelgate_upstream_latency_seconds",
                     "provider=\"" + escape_label(p) + "\"");
        }
        out +=
            "# HELP modelgate_time_to_first_token_seconds Time from sending upstream to the first "
            "streamed token.\n";
        out += "# TYPE modelgate_time_to_first_token_seconds histogram\n";
        for (const auto& [p, h] : ttft_) {
            h.render(out, "modelgate_time_to_first_token_seconds",
                     "provider=\"" + escape_label(p) + "\"");
        }
        out += "# HELP modelgate_queue_wait_seconds Time calls waited for a concurrency slot.\n";
        out += "# TYPE modelgate_queue_wait_seconds histogram\n";
        for (const auto& [p, h] : queue_wait_) {
            h.render(out, "modelgate_queue_wait_seconds", "provider=\"" + escape_label(p) + "\"");
        }
    }
    if (extra) extra(out);
    return out;
}

}  // namespace modelgate::core

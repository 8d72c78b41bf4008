// An in-process HTTP/1.1 server that plays an LLM provider in tests. Each
// request is handed to a script (a function) that answers in the provider's
// real wire format: JSON bodies with Content-Length, SSE streams with chunked
// transfer encoding, or misbehaviour (hang, reset mid-stream, error codes).
// It records what it received and how many requests were in flight at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace modelgate::test {

struct FakeRequest {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

class FakeExchange {
  public:
    explicit FakeExchange(int fd) : fd_(fd) {}
    // A whole answer with Content-Length.
    void respond(int status, const std::string& body,
                 const std::string& content_type = "application/json",
                 const std::vector<std::pair<std::string, std::string>>& headers = {});
    void respond_json(int status, const nlohmann::json& body,
                      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        respond(status, body.dump(), "application/json", headers);
    }
    // Starts a chunked text/event-stream answer.
    void start_stream(int status = 200, const std::string& content_type = "text/event-stream");
    // One chunk of the stream (raw bytes; use sse() for an event).
    bool chunk(const std::string& bytes);
    bool sse(const nlohmann::json& data) { return chunk("data: " + data.dump() + "\n\n"); }
    bool done() { return chunk("data: [DONE]\n\n"); }
    void end_stream() { send_all("0\r\n\r\n"); }
    // Closes with a TCP reset (RST), as a crashed upstream would.
    void reset();
    // Closes cleanly (FIN) without finishing the HTTP answer.
    void close_now();
    // Blocks until the peer (the gateway) closes the connection or the timeout.
    bool wait_peer_closed(std::chrono::milliseconds timeout);
    bool keep_alive() const { return keep_alive_; }
    void set_keep_alive(bool v) { keep_alive_ = v; }

  private:
    friend class FakeUpstream;
    bool send_all(const std::string& bytes);
    int fd_;
    bool keep_alive_ = true;
    bool closed_ = false;
};

class FakeUpstream {
  public:
    using Script = std::function<void(const FakeRequest&, FakeExchange&)>;

    // port 0: any free port. A given port lets a test start the upstream
    // where a gateway already points (to see a connection retried).
    explicit FakeUpstream(uint16_t port = 0);
    ~FakeUpstream();
    void set_script(Script script);
    uint16_t port() const { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

    std::vector<FakeRequest> requests() const;
    std::size_t request_count() const;
    int max_in_flight() const { return max_in_flight_.load(); }
    int in_flight() const { return in_flight_.load(); }
    void reset_stats();
    // Releases every script blocked in wait_release().
    void release();
    // For scripts: block until release() (or timeout). True when released.
    bool wait_release(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Connections the gateway closed while a script was still writing to them.
    int peer_closed_count() const { return peer_closed_.load(); }
    void note_peer_closed() { peer_closed_.fetch_add(1); }

    // OpenAI wire-format helpers.
    static nlohmann::json chat_completion(const std::string& model, const std::string& content,
                                          int prompt_tokens = 7, int completion_tokens = 3);
    static nlohmann::json chunk(const std::string& model, const std::string& content,
                                const char* finish_reason = nullptr);
    static nlohmann::json usage_chunk(const std::string& model, int prompt_tokens,
                                      int completion_tokens);
    // The default script: OpenAI-compatible answers for chat (whole or streamed,
    // "Hello world" in three chunks), embeddings and models.
    static void openai_script(const FakeRequest& req, FakeExchange& ex);

  private:
    void accept_loop();
    void serve(int fd);

    int listen_fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    mutable std::mutex mu_;
    std::vector<std::thread> workers_;
    std::vector<int> open_fds_;
    Script script_;
    std::vector<FakeRequest> requests_;
    std::atomic<int> in_flight_{0}, max_in_flight_{0}, peer_closed_{0};
    std::mutex release_mu_;
    std::condition_variable release_cv_;
    uint64_t release_generation_ = 0;
};

}  // namespace modelgate::test

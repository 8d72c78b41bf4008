// A working feature plugin that exercises every host service: routes (public,
// admin and API-key), SQL on the gateway's database, an interval job, i18n and an internal
// LLM call through the proxy pipeline.
#include <atomic>
#include <modelgate/sdk.hpp>

using modelgate::sdk::HttpRequest;
using modelgate::sdk::HttpResponse;
using modelgate::sdk::json;
using modelgate::sdk::RouteAccess;

class EchoPlugin : public modelgate::sdk::FeaturePlugin {
  public:
    void init(modelgate::sdk::Host& host, const json& config) override {
        greeting_ = config.value("greeting", "hello");
        host_ = &host;
        host.sql(
            "CREATE TABLE IF NOT EXISTS plugin_echo_notes (id INTEGER PRIMARY KEY, note TEXT NOT "
            "NULL)");
        host.register_route(
            "GET", "/plugins/echo", RouteAccess::public_, [this](const HttpRequest& req) {
                return HttpResponse::json_body({{"greeting", greeting_},
                                                {"path", std::string(req.path)},
                                                {"query", std::string(req.query)},
                                                {"dialect", std::string(host_->dialect())},
                                                {"zh", host_->i18n("zh", "status.success")},
                                                {"fallback", host_->i18n("fr", "status.success")},
                                                {"job_runs", runs_.load()}});
            });
        host.register_route(
            "POST", "/plugins/echo/notes", RouteAccess::admin, [this](const HttpRequest& req) {
                json body = json::parse(req.body, nullptr, false);
                host_->sql("INSERT INTO plugin_echo_notes (id, note) VALUES (:1, :2)",
                           json::array({body["id"], body["note"]}));
                json rows = host_->sql("SELECT id, note FROM plugin_echo_notes WHERE id = :1",
                                       json::array({body["id"]}));
                return HttpResponse::json_body(
                    {{"rows", rows}, {"admin", std::string(req.admin_user)}}, 201);
            });
        host.register_route("POST", "/plugins/echo/ask", RouteAccess::admin,
                            [this](const HttpRequest& req) {
                                auto result = host_->llm_call(json::parse(req.body));
                                return HttpResponse::json_body({{"status", result.status},
                                                                {"answer", result.response},
                                                                {"error", result.error}});
                            });
        // Routes for API-key holders: the host checks the key (like /v1) and
        // says whose it is.
        host.register_route(
            "GET", "/plugins/echo/whoami", RouteAccess::api_key, [](const HttpRequest& req) {
                return HttpResponse::json_body({{"api_key_id", req.api_key_id},
                                                {"api_key_name", std::string(req.api_key_name)}});
            });
        host.register_job("tick", 1, [this] {
            runs_.fetch_add(1);
            return std::string("tick ") + std::to_string(runs_.load());
        });
    }

  private:
    std::string greeting_;
    modelgate::sdk::Host* host_ = nullptr;
    std::atomic<int> runs_{0};
};

MODELGATE_FEATURE_PLUGIN(
    EchoPlugin, "echo", "1.2.3", "Echo test feature",
    R"([{"name": "greeting", "type": "string", "default": "hello", "help": "What to say"}])");

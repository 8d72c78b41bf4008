// /admin/api/system: gateway-wide settings (the outbound User-Agent) and the
// client User-Agents seen today.
#include <algorithm>
#include <cmath>
#include <ctime>

#include "admin/admin_api.hpp"
#include "admin/fields.hpp"
#include "util/time.hpp"

namespace modelgate::core::admin {

namespace {

// Midnight today in the gateway's time zone, as Unix milliseconds.
int64_t local_day_start_ms() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    local.tm_hour = 0;
    local.tm_min = 0;
    local.tm_sec = 0;
    local.tm_isdst = -1;
    return static_cast<int64_t>(std::mktime(&local)) * 1000;
}

}  // namespace

void AdminApi::register_system(http::Router& router) {
    auto config_json = [this]() -> Result<nlohmann::json> {
        auto settings = ctx_.store.settings();
        if (!settings) return settings.error();
        std::string override_ua;
        if (auto it = settings->find(kUserAgentSetting); it != settings->end())
            override_ua = it->second;
        return nlohmann::json{{"ua_override", override_ua},
                              {"default_ua", ctx_.cache.default_user_agent()},
                              {"effective_ua", ctx_.cache.current()->user_agent}};
    };

    route(router, "GET", "/admin/api/system/config", [config_json](AdminRequest&) {
        auto out = config_json();
        if (!out) return AdminResponse::error(out.error());
        return AdminResponse::ok(out.value());
    });

    route(router, "PUT", "/admin/api/system/config", [this, config_json](AdminRequest& req) {
        auto body = parse_body(req);
        if (!body) return AdminResponse::error(body.error());
        Fields f(body.value());
        if (f.has("ua_override")) {
            std::string ua =
                f.is_null("ua_override") ? "" : f.text("ua_override", 512).value_or("");
            if (f.error()) return AdminResponse::error(*f.error());
            if (!valid_header_value(ua)) {
                return AdminResponse::error(
                    make_error(ErrorCode::invalid_request,
                               "'ua_override' must be a single line of at most 512 characters",
                               "invalid_field"));
            }
            if (auto st = ctx_.store.set_setting(kUserAgentSetting, ua); !st)
                return AdminResponse::error(st.error());
            reload();
        }
        auto out = config_json();
        if (!out) return AdminResponse::error(out.error());
        out.value()["ok"] = true;
        return AdminResponse::ok(out.value());
    });

    route(router, "GET", "/admin/api/system/ua-stats", [this](AdminRequest& req) {
        int limit = 10;
        try {
            limit = std::clamp(std::stoi(req.query_value("limit", "10")), 1, 100);
        } catch (const std::exception&) {
            return AdminResponse::error(make_error(ErrorCode::invalid_request,
                                                   "'limit' must be a number", "invalid_field"));
        }
        auto top = ctx_.logs.top_user_agents(local_day_start_ms(), limit);
        if (!top) return AdminResponse::error(top.error());
        const auto& [agents, total] = top.value();
        nlohmann::json items = nlohmann::json::array();
        for (const auto& a : agents) {
            double pct = total > 0 ? static_cast<double>(a.count) * 100.0 / total : 0.0;
            items.push_back(
                {{"ua", a.user_agent}, {"count", a.count}, {"pct", std::round(pct * 10.0) / 10.0}});
        }
        return AdminResponse::ok({{"items", items}, {"total", total}});
    });
}

}  // namespace modelgate::core::admin

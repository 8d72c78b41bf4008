#include "domain/model_sync.hpp"

#include <map>
#include <set>

#include "upstream/fetch.hpp"
#include "upstream/request_spec.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/redact.hpp"
#include "util/time.hpp"

namespace modelgate::core {

namespace {

constexpr auto kListTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxModelName = 100;

Error sync_error(ErrorCode code, const std::string& provider, const std::string& why) {
    return make_error(code, "Could not list the models of provider '" + provider + "': " + why,
                      "model_sync_failed");
}

// The upstream's list, through the adapter: model ids in the upstream's order.
Result<std::vector<std::string>> list_upstream_models(const ProviderRuntime& p,
                                                      upstream::UpstreamLoop& loop) {
    if (!p.adapter) return sync_error(ErrorCode::unavailable, p.name, p.adapter_problem);
    if (!p.adapter->supports(MG_CAP_LIST_MODELS)) {
        return sync_error(ErrorCode::invalid_request, p.name,
                          "its adapter '" + p.adapter_kind + "' cannot list models");
    }
    std::string secret;
    if (!p.keys->keyless()) {
        auto any = p.keys->any_secret(unix_ms_now());
        if (!any) {
            return sync_error(ErrorCode::unavailable, p.name,
                              "no upstream key is usable right now");
        }
        secret = std::move(*any);
    }
    host::Call call;
    call.op = MG_OP_LIST_MODELS;
    auto request = p.adapter->build_request(call);
    if (!request.ok()) return sync_error(ErrorCode::internal, p.name, request.failure->message);

    upstream::RequestSpec spec;
    upstream::fill_request_spec(std::move(request.value), p.user_agent, secret, spec);
    spec.connect_timeout = std::chrono::milliseconds(10000);
    spec.first_byte_timeout = kListTimeout;
    spec.idle_timeout = kListTimeout;
    spec.total_timeout = kListTimeout;

    auto answer = upstream::fetch(loop, std::move(spec));
    if (answer.outcome != upstream::Outcome::completed) {
        return sync_error(upstream::is_timeout(answer.outcome) ? ErrorCode::upstream_timeout
                                                               : ErrorCode::upstream_error,
                          p.name, redact(answer.detail, 300));
    }
    if (answer.status < 200 || answer.status >= 300) {
        auto cls = p.adapter->classify_error(answer.status, answer.headers, answer.body);
        std::string message = cls.error.is_object() && cls.error.contains("message") &&
                                      cls.error["message"].is_string()
                                  ? cls.error["message"].get<std::string>()
                                  : std::string();
        return sync_error(ErrorCode::upstream_error, p.name,
                          "the upstream answered HTTP " + std::to_string(answer.status) +
                              (message.empty() ? "" : ": " + redact(message, 300)));
    }
    auto parsed = p.adapter->parse_response(call, answer.status, answer.body);
    if (!parsed.ok()) return sync_error(ErrorCode::upstream_error, p.name, parsed.failure->message);
    auto list = parse_json(parsed.value.body);
    auto data = list.is_object() ? list.find("data") : list.end();
    if (!list.is_object() || data == list.end() || !data->is_array())
        return sync_error(ErrorCode::upstream_error, p.name, "the adapter returned no model list");
    std::vector<std::string> ids;
    std::set<std::string> seen;
    for (const auto& m : *data) {
        auto id = m.is_object() ? m.find("id") : m.end();
        if (id == m.end() || !id->is_string()) continue;
        const auto& name = id->get_ref<const std::string&>();
        if (name.empty() || name.size() > kMaxModelName) continue;
        if (seen.insert(name).second) ids.push_back(name);
    }
    return ids;
}

}  // namespace

Result<ModelSyncReport> sync_provider_models(const ProviderRuntime& provider,
                                             store::ConfigStore& store,
                                             upstream::UpstreamLoop& loop) {
    auto listed = list_upstream_models(provider, loop);
    if (!listed) return listed.error();
    ModelSyncReport report;
    report.listed = listed.value();

    auto models = store.list_models();
    if (!models) return models.error();
    auto bindings = store.list_bindings(provider.id);
    if (!bindings) return bindings.error();
    std::map<std::string, int64_t> model_ids;
    for (const auto& m : models.value())
        model_ids[m.name] = m.id;
    std::map<int64_t, store::BindingRecord> binding_of_model;
    for (const auto& b : bindings.value())
        binding_of_model[b.model_id] = b;

    std::set<int64_t> listed_model_ids;
    for (const auto& name : report.listed) {
        auto mid = model_ids.find(name);
        if (mid == model_ids.end()) {
            store::ModelRecord m;
            m.name = name;
            auto id = store.create_model(m);
            if (!id) {
                // Created meanwhile by someone else: read it back.
                auto again = store.find_model_by_name(name);
                if (!again || !again.value()) return id.error();
                mid = model_ids.emplace(name, again.value()->id).first;
            } else {
                mid = model_ids.emplace(name, id.value()).first;
                report.created_models.push_back(name);
            }
        }
        listed_model_ids.insert(mid->second);
        auto b = binding_of_model.find(mid->second);
        if (b == binding_of_model.end()) {
            store::BindingRecord nb;
            nb.provider_id = provider.id;
            nb.model_id = mid->second;
            nb.is_active = true;
            nb.source = "sync";
            auto id = store.create_binding(nb);
            if (!id && id.error().code != ErrorCode::conflict) return id.error();
            if (id) report.created_bindings.push_back(name);
        } else if (b->second.source == "sync" && !b->second.is_active) {
            store::BindingRecord up = b->second;
            up.is_active = true;
            if (auto st = store.update_binding(up); !st) return st.error();
            report.reactivated.push_back(name);
        }
    }
    for (const auto& [model_id, b] : binding_of_model) {
        if (b.source != "sync" || !b.is_active || listed_model_ids.count(model_id) != 0) continue;
        store::BindingRecord up = b;
        up.is_active = false;
        if (auto st = store.update_binding(up); !st) return st.error();
        report.deactivated.push_back(b.model_name);
    }
    MG_INFO("sync", "provider '" << provider.name << "': " << report.listed.size()
                                 << " models listed, " << report.created_bindings.size()
                                 << " bindings added, " << report.reactivated.size()
                                 << " switched back on, " << report.deactivated.size()
                                 << " switched off");
    return report;
}

}  // namespace modelgate::core

// /admin/api/scheduler: the scheduled tasks (id = the task's name), their
// enabled switch, runs started by hand, and the run history.
#include <map>
#include <optional>

#include "admin/admin_api.hpp"
#include "http/request_util.hpp"
#include "util/time.hpp"

namespace modelgate::core::admin {

namespace {

// How long POST .../trigger waits for the run to end before answering 202 with
// the running record. Short: the handler holds a worker while it waits.
constexpr std::chrono::seconds kTriggerWait{3};
constexpr int kMaxPageSize = 200;

nlohmann::json opt(const std::optional<std::string>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// Job texts in the reader's language: the catalog's, else what was recorded.
struct JobTexts {
    const Catalogs& catalogs;
    const std::string& lang;

    std::string summary(const store::SchedulerRunRecord& r) const {
        if (r.summary_key.empty() || !catalogs.find(lang, r.summary_key)) return r.summary;
        std::map<std::string, std::string> args;
        auto j = nlohmann::json::parse(r.summary_args, nullptr, false);
        if (j.is_object()) {
            for (const auto& [k, v] : j.items()) {
                if (v.is_string()) args[k] = v.get<std::string>();
            }
        }
        return catalogs.format(lang, r.summary_key, args);
    }
    std::string description(const TaskInfo& t) const {
        auto text = catalogs.find(lang, job_text_key(t.owner, t.name, "description"));
        return text ? *text : t.description;
    }
};

nlohmann::json run_json(const store::SchedulerRunRecord& r, const JobTexts& texts) {
    nlohmann::json duration = nullptr;
    if (r.finished_at) {
        auto from = parse_iso8601(r.started_at), to = parse_iso8601(*r.finished_at);
        if (from && to) duration = *to - *from;
    }
    return {{"id", r.id},
            {"task_id", r.task_name},
            {"slot", r.slot},
            {"instance_id", r.instance_id},
            {"trigger", r.trigger},
            {"started_at", r.started_at},
            {"finished_at", opt(r.finished_at)},
            {"duration_ms", duration},
            {"outcome", r.outcome},
            {"rows_touched", r.rows_touched},
            {"summary", texts.summary(r)},
            {"error", opt(r.error)}};
}

nlohmann::json task_json(const TaskInfo& t, const JobTexts& texts) {
    return {{"name", t.name},
            {"owner", t.owner},
            {"description", texts.description(t)},
            {"schedule", t.schedule},
            {"enabled", t.enabled},
            {"next_run_at",
             t.next_run_ms ? nlohmann::json(iso8601_utc(*t.next_run_ms)) : nlohmann::json(nullptr)},
            {"running", t.running},
            {"last_run", t.last_run ? run_json(*t.last_run, texts) : nlohmann::json(nullptr)}};
}

// One page of run history (task empty: every task), newest first.
AdminResponse run_page(Scheduler& scheduler, const AdminRequest& req, const std::string& task,
                       const JobTexts& texts) {
    auto page = req.int_query("page", 1, 1, 1000000);
    if (!page) return AdminResponse::error(page.error());
    auto size = req.int_query("page_size", 20, 1, kMaxPageSize);
    if (!size) return AdminResponse::error(size.error());
    auto runs = scheduler.runs(task, static_cast<int>(*page), static_cast<int>(*size));
    if (!runs) return AdminResponse::error(runs.error());
    nlohmann::json logs = nlohmann::json::array();
    for (const auto& r : runs->runs)
        logs.push_back(run_json(r, texts));
    return AdminResponse::ok(
        {{"logs", logs}, {"total", runs->total}, {"page", *page}, {"page_size", *size}});
}

std::string task_name(const AdminRequest& req) {
    auto it = req.params.find("name");
    return it == req.params.end() ? "" : http::url_decode(it->second);
}

}  // namespace

void AdminApi::register_scheduler(http::Router& router) {
    route(router, "GET", "/admin/api/scheduler/tasks",
          [this](AdminRequest& req) { return list_scheduler_tasks(req); });
    route(router, "PUT", "/admin/api/scheduler/tasks/{name}",
          [this](AdminRequest& req) { return update_scheduler_task(req); });
    route(router, "POST", "/admin/api/scheduler/tasks/{name}/trigger",
          [this](AdminRequest& req) { return trigger_scheduler_task(req); });
    route(router, "GET", "/admin/api/scheduler/tasks/{name}/logs",
          [this](AdminRequest& req) { return scheduler_task_logs(req); });
    route(router, "GET", "/admin/api/scheduler/logs",
          [this](AdminRequest& req) { return scheduler_logs(req); });
}

AdminResponse AdminApi::list_scheduler_tasks(AdminRequest& req) {
    auto tasks = ctx_.scheduler.tasks();
    if (!tasks) return AdminResponse::error(tasks.error());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : tasks.value())
        out.push_back(task_json(t, {ctx_.catalogs, req.lang}));
    return AdminResponse::ok({{"tasks", out}});
}

AdminResponse AdminApi::update_scheduler_task(AdminRequest& req) {
    auto body = parse_body(req);
    if (!body) return AdminResponse::error(body.error());
    const nlohmann::json& j = body.value();
    auto enabled = j.find("enabled");
    if (j.size() != 1 || enabled == j.end() || !enabled->is_boolean()) {
        return AdminResponse::error(make_error(
            ErrorCode::invalid_request,
            "The body must be {\"enabled\": true|false}; nothing else about a task can be changed",
            "invalid_field"));
    }
    auto task = ctx_.scheduler.set_enabled(task_name(req), enabled->get<bool>());
    if (!task) return AdminResponse::error(task.error());
    return AdminResponse::ok(task_json(task.value(), {ctx_.catalogs, req.lang}));
}

AdminResponse AdminApi::trigger_scheduler_task(AdminRequest& req) {
    auto run = ctx_.scheduler.trigger(task_name(req), kTriggerWait);
    if (!run) return AdminResponse::error(run.error());
    // 202 when the run goes on past the wait: its record says "running".
    return AdminResponse::ok(run_json(run.value(), {ctx_.catalogs, req.lang}),
                             run->outcome == "running" ? 202 : 200);
}

AdminResponse AdminApi::scheduler_task_logs(AdminRequest& req) {
    std::string name = task_name(req);
    if (auto task = ctx_.scheduler.task(name); !task) return AdminResponse::error(task.error());
    return run_page(ctx_.scheduler, req, name, {ctx_.catalogs, req.lang});
}

AdminResponse AdminApi::scheduler_logs(AdminRequest& req) {
    std::string task = req.query_value("task_id");
    if (task.size() > 100)
        return AdminResponse::error(
            invalid_query("task_id is a task name (at most 100 characters)"));
    return run_page(ctx_.scheduler, req, task, {ctx_.catalogs, req.lang});
}

}  // namespace modelgate::core::admin

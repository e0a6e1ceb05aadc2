// The console page's views, each a function of the API's JSON: the inbox,
// one request (with the decision panel, decide.js), the runs list with its
// status filter, a run's timeline, the quarantined runs with release, and
// the long tasks with a task's ledger, evidence and progress log.
// A view returns {data, build}: app.js renders build() only when data
// changed, so a refresh never wipes a half-filled form.
import {el, when, ago, pretty, request_link, run_link, status_badge, show_error, show_notice}
  from "./dom.js";
import {api} from "./api.js";
import {decision_panel} from "./decide.js";

async function inbox_view() {
  const data = await api("GET", "inbox");
  const build = () => {
    const out = [el("h1", {}, "Inbox ", el("small", {}, data.total + " pending for you"))];
    if (!data.requests.length) out.push(el("p", {class: "empty"}, "Nothing waits for you."));
    else out.push(el("table", {class: "inbox"},
      el("thead", {}, el("tr", {}, ["request", "run", "tool", "why", "raised", "due"]
        .map((h) => el("th", {}, h)))),
      el("tbody", {}, data.requests.map((r) => el("tr", {"data-request": r.id},
        el("td", {}, request_link(r.id)), el("td", {}, run_link(r.run)),
        el("td", {}, el("code", {}, r.tool)), el("td", {}, r.why),
        el("td", {title: when(r.created_ms)}, ago(r.created_ms)),
        el("td", {}, r.due_ms ? when(r.due_ms) : "none"))))));
    for (const d of data.damaged)
      out.push(el("p", {class: "warning"}, "Request " + d.id + " cannot be read: " + d.error));
    return out;
  };
  return {data, build};
}

async function request_view(r) {
  const data = await api("GET", "requests/" + encodeURIComponent(r.arg));
  return {data, build: () => request_page(data)};
}

function request_page(q) {
  const step = q.id.slice(q.id.lastIndexOf("/") + 1);
  const facts = [
    ["run", run_link(q.run)], ["step", step], ["kind", q.kind], ["tool", el("code", {}, q.tool)],
    ["status", status_badge(q.status)], ["why", q.why],
    ["may decide", q.eligible.length ? q.eligible.join(", ") : "anyone"],
    ["approved by", q.approved_by.join(", ")], ["raised", when(q.created_ms)],
    ["due", q.due_ms ? when(q.due_ms) : ""],
  ];
  if (typeof q.confidence === "number")
    facts.push(["model's confidence", Math.round(q.confidence * 100) + " %"]);
  const out = [
    el("h1", {}, "Request ", el("code", {}, q.id)),
    el("dl", {class: "facts"}, facts.filter(([, v]) => v !== "" && v !== undefined)
      .map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    el("h2", {}, q.kind === "question" ? "Question" : "Arguments"),
    el("pre", {class: "arguments"}, pretty(q.arguments)),
  ];
  if (q.status === "pending") out.push(decision_panel(q));
  if (q.outcome) {
    const o = q.outcome;
    out.push(el("h2", {}, "Outcome"), el("p", {class: "outcome"},
      status_badge(o.decision), " by " + (o.principals.join(", ") || "nobody") + " via " +
      o.channel + ", " + when(o.at_ms) + (o.text ? ": " + o.text : "")));
  }
  out.push(el("h2", {}, "Audit trail"), el("ol", {class: "audit"}, q.audit.map((a) =>
    el("li", {}, el("span", {class: "time"}, when(a.at_ms)), " ",
       el("b", {}, a.action), " ", a.principal || "system", " (" + a.channel + ")",
       a.outcome ? ": " + a.outcome : ""))));
  return out;
}

const statuses = ["running", "waiting", "completed", "failed", "cancelled", "quarantined"];

function runs_or_run(r) {
  return r.arg ? run_view(r) : runs_view(r);
}

async function runs_view(r) {
  const status = r.params.get("status") || "";
  const after = r.params.get("after") || "";
  const query = new URLSearchParams();
  if (status) query.set("status", status);
  if (after) query.set("after", after);
  const data = await api("GET", "runs?" + query);
  const build = () => {
    const filter = el("select", {id: "status-filter", onchange: (e) => {
      location.hash = "#/runs" + (e.target.value ? "?status=" + e.target.value : "");
    }}, el("option", {value: ""}, "every status"),
      statuses.map((s) => el("option", {value: s, selected: s === status}, s)));
    const out = [el("h1", {}, "Runs"), el("p", {}, el("label", {for: filter.id}, "Show "),
                                          filter)];
    if (!data.runs.length) out.push(el("p", {class: "empty"}, "No runs."));
    else out.push(run_table(data.runs, false));
    if (data.next) {
      const more = new URLSearchParams(query);
      more.set("after", data.next);
      out.push(el("p", {}, el("a", {href: "#/runs?" + more}, "Next page →")));
    }
    return out;
  };
  return {data, build};
}

function run_table(runs, with_release) {
  return el("table", {class: "runs"},
    el("thead", {}, el("tr", {}, ["run", "workflow", "status", "updated", "detail"]
      .concat(with_release ? [""] : []).map((h) => el("th", {}, h)))),
    el("tbody", {}, runs.map((m) => el("tr", {"data-run": m.id},
      el("td", {}, run_link(m.id)), el("td", {}, m.workflow), el("td", {}, status_badge(m.status)),
      el("td", {title: when(m.updated_ms)}, ago(m.updated_ms)),
      el("td", {class: "detail"}, m.detail),
      with_release ? el("td", {}, release_form(m.id)) : null))));
}

/// Release (admin): the reason goes to the run's journal.
function release_form(run) {
  const reason = el("input", {type: "text", placeholder: "reason (optional)",
                              "aria-label": "reason for releasing " + run});
  const button = el("button", {type: "submit", class: "primary"}, "Release");
  return el("form", {class: "release", onsubmit: async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      const body = reason.value ? {reason: reason.value} : {};
      const res = await api("POST", "runs/" + encodeURIComponent(run) + "/release", body);
      show_error("");
      show_notice("Released " + run + ": it is " + res.status + " now.");
      window.dispatchEvent(new Event("endure:changed"));
    } catch (err) {
      show_error(err.message);
      button.disabled = false;
    }
  }}, reason, button);
}

async function quarantined_view() {
  const data = await api("GET", "runs?status=quarantined");
  const build = () => [
    el("h1", {}, "Quarantined runs"),
    el("p", {class: "hint"}, "A run is quarantined when it keeps crashing or breaks its " +
       "determinism; release it once the cause is fixed and it resumes from its journal."),
    data.runs.length ? run_table(data.runs, true) : el("p", {class: "empty"},
                                                        "No run is quarantined."),
  ];
  return {data, build};
}

async function run_view(r) {
  const data = await api("GET", "runs/" + encodeURIComponent(r.arg));
  return {data, build: () => timeline_page(data)};
}

function timeline_page(t) {
  const facts = [["workflow", t.workflow], ["status", status_badge(t.status)],
                 ["detail", t.detail], ["started", when(t.created_at_ms)],
                 ["updated", when(t.updated_at_ms)], ["input", el("code", {}, t.input)]];
  if (t.usage && t.usage.cost_usd)
    facts.push(["model usage", t.usage.prompt_tokens + " + " + t.usage.completion_tokens +
                " tokens, $" + t.usage.cost_usd.toFixed(4)]);
  const out = [el("h1", {}, "Run ", el("code", {}, t.run)),
               el("dl", {class: "facts"}, facts.filter(([, v]) => v !== "" && v !== undefined)
                 .map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))];
  if (t.status === "quarantined") out.push(el("p", {}, release_form(t.run)));
  out.push(el("h2", {}, "Timeline"), el("ol", {class: "timeline"}, t.steps.map(step_item)));
  if (t.requests && t.requests.length)
    out.push(el("h2", {}, "People asked"), el("ul", {class: "asked"}, t.requests.map((q) =>
      el("li", {}, q.id ? request_link(q.id) : "", " ",
         q.error ? el("span", {class: "warning"}, q.error) :
           [el("code", {}, q.tool), " ", status_badge(q.status),
            q.outcome ? " " + q.outcome.decision + " by " + q.outcome.principals.join(", ") +
                        (q.outcome.text ? ": " + q.outcome.text : "") : ""]))));
  if (t.signals.length)
    out.push(el("h2", {}, "Signals"), el("ul", {}, t.signals.map((s) => el("li", {}, s))));
  if (t.releases.length)
    out.push(el("h2", {}, "Releases"), el("ul", {}, t.releases.map((s) => el("li", {}, s))));
  if (t.finished)
    out.push(el("h2", {}, "Ended"), el("p", {class: "finished"}, status_badge(t.finished.status),
      " ", t.finished.error || el("code", {}, t.finished.result)));
  return out;
}

function step_item(s) {
  const last = s.attempts[s.attempts.length - 1];
  const outcome = last ? last.outcome : "pending";
  const tries = s.attempts.length > 1 ? " (" + s.attempts.length + " attempts)" : "";
  const ms = last && last.duration_us ? " " + (last.duration_us / 1000).toFixed(1) + " ms" : "";
  return el("li", {class: "step " + outcome},
    el("span", {class: "name"}, s.name), " ", status_badge(outcome), tries, ms,
    s.usage ? el("small", {}, " " + s.usage.model + ", " + s.usage.prompt_tokens + "+" +
                              s.usage.completion_tokens + " tokens") : null,
    s.attempts.filter((a) => a.message).map((a) =>
      el("div", {class: "error"}, "attempt " + a.attempt + ": " + a.error_class + ": " +
                                  a.message)),
    s.result !== null ? el("div", {class: "result"}, pretty(s.result)) : null);
}

// -- long tasks (GET /api/v1/tasks, /api/v1/tasks/ID) ----------------------------

/// "complete" (every item passes), else "open": a task is not a run, and
/// one whose run stopped is still open.
const task_badge = (complete) =>
  el("span", {class: "status " + (complete ? "completed" : "waiting")}, complete ? "complete" : "open");

function tasks_or_task(r) {
  return r.arg ? task_view(r) : tasks_view();
}

async function tasks_view() {
  const data = await api("GET", "tasks");
  const build = () => {
    const out = [el("h1", {}, "Tasks")];
    if (!data.tasks.length) out.push(el("p", {class: "empty"}, "No long tasks."));
    else out.push(el("table", {class: "tasks"},
      el("thead", {}, el("tr", {}, ["task", "goal", "passing", "state"]
        .map((h) => el("th", {}, h)))),
      el("tbody", {}, data.tasks.map((t) => el("tr", {"data-task": t.task},
        el("td", {}, el("a", {href: "#/tasks/" + encodeURIComponent(t.task)}, t.task)),
        el("td", {}, t.error ? "cannot be read: " + t.error : t.goal),
        el("td", {}, t.error ? "" : t.passing + " of " + t.items),
        el("td", {}, t.error ? "" : task_badge(t.complete)))))));
    return out;
  };
  return {data, build};
}

/// An item's last verification, in words: what ran and how it ended.
function evidence_of(item) {
  if (item.overridden_by) return "passing on " + item.overridden_by + "'s override";
  const e = item.last;
  if (!e) return "never verified";
  return (e.passed ? "passed" : "failed: " + e.reason) + " (" + e.ran + ", session " +
         e.session + ", " + when(e.at_ms) + ")";
}

async function task_view(r) {
  const data = await api("GET", "tasks/" + encodeURIComponent(r.arg));
  const build = () => {
    const l = data.ledger;
    const out = [
      el("h1", {}, "Task ", el("code", {}, l.task), " ", task_badge(l.complete)),
      el("p", {}, l.goal),
      el("p", {class: "tally"}, l.passing + " passing, " + l.failing + " failing"),
      el("h2", {}, "Ledger"),
      el("table", {class: "ledger"},
        el("thead", {}, el("tr", {}, ["item", "status", "verifications", "last evidence"]
          .map((h) => el("th", {}, h)))),
        el("tbody", {}, l.items.map((it) => el("tr", {"data-item": it.id},
          el("td", {title: it.description, class: "id"}, it.id),
          el("td", {}, el("span", {class: "status " + (it.status === "passing" ? "completed"
                                                                                : "failed")},
                          it.status)),
          el("td", {}, String(it.verifications)), el("td", {class: "evidence"},
                                                     evidence_of(it)))))),
    ];
    if (l.audit.length)
      out.push(el("h2", {}, "Audit"), el("ul", {}, l.audit.map((a) => el("li", {}, a))));
    out.push(el("h2", {}, "Progress log"), el("ol", {class: "progress"},
      data.progress.map((e) => el("li", {"data-session": e.session},
        el("b", {}, "session " + e.session), " [" + e.model + "] ",
        (e.items.join(", ") || "-") + ": " + e.ended + ". Next: " + e.next))));
    if (data.commits.length)
      out.push(el("h2", {}, "Workspace commits"), el("ol", {class: "commits"},
        data.commits.slice(0, 20).map((c) => el("li", {},
          el("code", {}, c.id.slice(0, 12)), " " + c.message))));
    return out;
  };
  return {data, build};
}

/// The views by the first part of the location's hash.
export const views = {inbox: inbox_view, requests: request_view, runs: runs_or_run,
                      quarantined: quarantined_view, tasks: tasks_or_task};

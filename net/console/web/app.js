// endure's console page: plain JavaScript, no framework, nothing fetched
// from anywhere but this server. The views are functions of the API's JSON,
// rebuilt with DOM calls (never innerHTML: what the API returns is data,
// written by agents and people, and is never parsed as markup).
//
// The token lives in sessionStorage (this tab only) and goes out only as
// `Authorization: Bearer`; there are no cookies, so no cross-site request
// can act as the user. Live updates come from GET /api/v1/events read with
// fetch (EventSource cannot send the header); while the stream is down the
// current view is refetched every few seconds instead.
"use strict";

const token_key = "endure.token";
const poll_ms = 3000;          // refetch period while the stream is down
const max_backoff_ms = 8000;   // reconnect attempts never wait longer

const $ = (id) => document.getElementById(id);
const token = () => sessionStorage.getItem(token_key);

// -- DOM helpers ---------------------------------------------------------------

/// el("a", {href: "#/x", class: "c"}, "text", child, ...): a new element.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

function when(ms) {
  if (!ms) return "";
  return new Date(ms).toLocaleString();
}

function ago(ms) {
  if (!ms) return "";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  if (s < 86400) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
}

const pretty = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));
const request_link = (id) => el("a", {href: "#/requests/" + encodeURIComponent(id)}, id);
const run_link = (id) => el("a", {href: "#/runs/" + encodeURIComponent(id)}, id);
const status_badge = (s) => el("span", {class: "status " + s}, s);

function show_error(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
  if (message) show_notice("");
}

/// What an action did ("Sent: approve"), above the view: the view itself
/// is rebuilt from the API's answer right after.
function show_notice(message) {
  const box = $("notice");
  box.textContent = message || "";
  box.hidden = !message;
}

// -- the API -------------------------------------------------------------------

class api_error extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/// The JSON answer of METHOD path; throws api_error with the API's message.
async function api(method, path, body) {
  const headers = {Authorization: "Bearer " + token()};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch("/api/v1/" + path, {
      method, headers, cache: "no-store", credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new api_error(0, "the server cannot be reached (" + e.message + ")");
  }
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON: say so below */ }
  if (res.ok && data) return data;
  if (res.status === 401) logout("Your token was refused: " + (data ? data.message : ""));
  throw new api_error(res.status, data && data.message
    ? data.message : "HTTP " + res.status + " from " + method + " /api/v1/" + path);
}

// -- routing -------------------------------------------------------------------

/// The view named by the location's hash: {name, arg, query}.
function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const parts = path.split("/");
  const params = new URLSearchParams(query || "");
  const arg = parts.length > 1 ? decodeURIComponent(parts.slice(1).join("/")) : "";
  return {name: parts[0] || "inbox", arg, params};
}

const views = {inbox: inbox_view, requests: request_view, runs: runs_or_run,
               quarantined: quarantined_view};

/// What the current view showed last (its data as JSON): a refresh with the
/// same data leaves the page alone, so a half-filled form is never lost.
let shown = {key: "", data: ""};

/// Renders the current view; `quiet` refreshes (events, polling) do not
/// replace the view with an error, they only mark the connection.
async function render(quiet) {
  if (!token()) return;
  const r = route();
  const key = location.hash;
  for (const a of document.querySelectorAll("#nav a"))
    a.classList.toggle("current", a.dataset.view === (r.name === "requests" ? "inbox" : r.name));
  const view = views[r.name] || inbox_view;
  try {
    const {data, build} = await view(r);
    const text = JSON.stringify(data);
    if (key !== location.hash) return;  // the user moved on meanwhile
    if (quiet && shown.key === key && shown.data === text) return;
    shown = {key, data: text};
    $("view").replaceChildren(...[build()].flat());
    if (!quiet) show_error("");
    if (!stream_up && $("live").textContent === "reconnecting")
      mark_live("polling");  // the server answers again; the stream follows if it has one
  } catch (e) {
    if (e.status === 0 && quiet) { mark_live(stream_up ? "live" : "reconnecting"); return; }
    if (quiet && shown.key === key) return;
    shown = {key: "", data: ""};
    $("view").replaceChildren(el("p", {class: "empty"}, "Could not load this view."));
    show_error(e.message);
  }
}

// -- views ---------------------------------------------------------------------

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

/// Approve, edit (a form from the tool's schema), reject with a reason,
/// respond with text: each posts the decision and shows the API's answer.
function decision_panel(q) {
  const panel = el("section", {class: "decide"}, el("h2", {}, "Decide"));
  const forms = el("div", {class: "forms"});
  const post = async (body, button) => {
    button.disabled = true;
    try {
      const res = await api("POST", "requests/" + encodeURIComponent(q.id) + "/decision", body);
      show_error("");
      show_notice("Sent " + body.decision + " for " + q.id + ": " + res.result + ".");
      forms.replaceChildren();
      render(true);
    } catch (e) {
      show_error(e.message);
    } finally {
      button.disabled = false;
    }
  };
  const open = (form) => { forms.replaceChildren(form); };
  const approve = el("button", {type: "button", id: "approve", class: "primary",
                                onclick: (e) => post({decision: "approve"}, e.target)}, "Approve");
  const edit = el("button", {type: "button", id: "edit",
                             onclick: () => open(edit_form(q, post))}, "Edit…");
  const reject = el("button", {type: "button", id: "reject",
                               onclick: () => open(text_form("reject", "reason", "Why not",
                                                             post))}, "Reject…");
  const respond = el("button", {type: "button", id: "respond",
                                onclick: () => open(text_form("respond", "text", "Your answer",
                                                              post))}, "Respond…");
  panel.append(el("div", {class: "buttons"}, approve, edit, reject, respond), forms);
  return panel;
}

function text_form(decision, field, label, post) {
  const input = el("textarea", {id: decision + "-" + field, rows: 3, required: true});
  const send = el("button", {type: "submit", class: "primary"}, decision);
  return el("form", {onsubmit: (e) => {
    e.preventDefault();
    post({decision, [field]: input.value}, send);
  }}, el("label", {for: input.id}, label), input, send);
}

/// One input per argument, by the schema's type: string (a textarea for
/// long or multi-line text), enum (a select), number, integer, boolean (a
/// checkbox); anything else, and every argument when there is no schema,
/// as JSON in a textarea.
function edit_form(q, post) {
  const schema = q.schema && q.schema.properties ? q.schema : null;
  const required = new Set((schema && schema.required) || []);
  const args = q.arguments && typeof q.arguments === "object" ? q.arguments : {};
  const fields = [];
  const form = el("form", {class: "edit"});
  if (!schema) {
    const area = el("textarea", {id: "edit-json", rows: 10}, pretty(args));
    fields.push({whole: true, read: () => {
      const v = JSON.parse(area.value);
      if (!v || typeof v !== "object" || Array.isArray(v))
        throw new Error("the arguments must be a JSON object");
      return v;
    }});
    form.append(el("label", {for: area.id}, "Arguments (JSON; the tool's schema is unknown)"),
                area);
  } else {
    const names = [...Object.keys(schema.properties),
                   ...Object.keys(args).filter((k) => !(k in schema.properties))];
    for (const name of names) {
      const field = argument_field(name, schema.properties[name] || {}, args[name],
                                   required.has(name));
      fields.push(field);
      form.append(field.node);
    }
  }
  const send = el("button", {type: "submit", class: "primary"}, "Send edited arguments");
  form.append(send);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const edited = {};
    try {
      for (const f of fields) {
        const v = f.read();
        if (f.whole) Object.assign(edited, v);
        else if (v !== undefined) edited[f.name] = v;
      }
    } catch (err) {
      show_error(err.message);
      return;
    }
    post({decision: "edit", arguments: edited}, send);
  });
  return form;
}

function argument_field(name, spec, value, required) {
  const id = "arg-" + name;
  const label = el("label", {for: id}, name + (required ? " *" : ""),
                   spec.description ? el("small", {}, " " + spec.description) : null);
  const absent = value === undefined;
  let input, read;
  if (Array.isArray(spec.enum)) {
    input = el("select", {id}, (required ? [] : [el("option", {value: ""}, "(none)")])
      .concat(spec.enum.map((v, i) => el("option", {value: i, selected: v === value},
                                         String(v)))));
    read = () => (input.value === "" ? undefined : spec.enum[Number(input.value)]);
  } else if (spec.type === "string") {
    const text = absent ? "" : String(value);
    const long = text.length > 80 || text.includes("\n") || (spec.maxLength || 0) > 200;
    input = long ? el("textarea", {id, rows: 8}, text)
                 : el("input", {id, type: "text", value: text});
    if (spec.maxLength) input.setAttribute("maxlength", spec.maxLength);
    read = () => (input.value === "" && absent && !required ? undefined : input.value);
  } else if (spec.type === "number" || spec.type === "integer") {
    input = el("input", {id, type: "number", step: spec.type === "integer" ? 1 : "any",
                         value: absent ? "" : value});
    read = () => {
      if (input.value === "" && !required) return undefined;
      const n = Number(input.value);
      if (input.value === "" || !Number.isFinite(n) ||
          (spec.type === "integer" && !Number.isInteger(n)))
        throw new Error(name + " must be " + (spec.type === "integer" ? "a whole number" :
                                                "a number"));
      return n;
    };
  } else if (spec.type === "boolean") {
    input = el("input", {id, type: "checkbox", checked: value === true});
    read = () => input.checked;
  } else {
    input = el("textarea", {id, rows: 4}, absent ? "" : JSON.stringify(value, null, 2));
    read = () => {
      if (input.value.trim() === "" && !required) return undefined;
      try { return JSON.parse(input.value); }
      catch (e) { throw new Error(name + " is not valid JSON: " + e.message); }
    };
  }
  return {name, read, node: el("div", {class: "field"}, label, input)};
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
      render(true);
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

// -- live updates --------------------------------------------------------------

let stream_up = false;
let stream_abort = null;
let poll_timer = null;
let refresh_timer = null;

/// The indicator: "live" (the event stream is open), "polling" (the server
/// answers but has no stream), "reconnecting" (the server is unreachable).
function mark_live(state) {
  const live = $("live");
  live.textContent = state;
  live.className = "indicator " + (state === "live" ? "up" : "down");
}

/// An event is a hint to refetch (the REST routes are the truth): bursts
/// of events become one refresh.
function refresh_soon() {
  clearTimeout(refresh_timer);
  refresh_timer = setTimeout(() => render(true), 200);
}

function start_polling() {
  if (poll_timer) return;
  poll_timer = setInterval(() => render(true), poll_ms);
}

function stop_polling() {
  clearInterval(poll_timer);
  poll_timer = null;
}

/// Reads GET /api/v1/events until it ends, then tries again with backoff.
async function follow_events() {
  let backoff = 500;
  while (token()) {
    stream_abort = new AbortController();
    let state = "reconnecting";
    try {
      const res = await fetch("/api/v1/events", {
        headers: {Authorization: "Bearer " + token(), Accept: "text/event-stream"},
        cache: "no-store", credentials: "omit", signal: stream_abort.signal});
      if (res.status === 401) { logout("Your token was refused."); return; }
      if (!res.ok || !res.body) {
        state = "polling";  // the server answers, without a stream
        throw new Error("no event stream (HTTP " + res.status + ")");
      }
      stream_up = true;
      backoff = 500;
      mark_live("live");
      stop_polling();
      render(true);  // whatever happened while the stream was down
      await read_events(res.body.getReader());
    } catch (e) {
      if (e.name === "AbortError") return;
    }
    stream_up = false;
    mark_live(state);
    start_polling();
    render(true);
    await new Promise((done) => setTimeout(done, backoff));
    backoff = Math.min(backoff * 2, max_backoff_ms);
  }
}

/// Server-sent events: blank-line separated blocks of "field: value" lines.
async function read_events(reader) {
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, {stream: true}).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.split("\n").some((line) => line.startsWith("data:"))) refresh_soon();
    }
  }
}

// -- log in and out ------------------------------------------------------------

function logout(message) {
  sessionStorage.removeItem(token_key);
  if (stream_abort) stream_abort.abort();
  stop_polling();
  stream_up = false;
  mark_live("offline");
  shown = {key: "", data: ""};
  $("view").replaceChildren();
  $("nav").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  show_error(message || "");
  $("token").focus();
}

function logged_in() {
  $("login").hidden = true;
  $("nav").hidden = false;
  $("logout").hidden = false;
  mark_live("reconnecting");
  render(false);
  follow_events();
}

async function login(e) {
  e.preventDefault();
  const value = $("token").value.trim();
  if (!value) { show_error("Paste a token first."); return; }
  sessionStorage.setItem(token_key, value);
  try {
    await api("GET", "inbox?limit=1");  // proves the token before showing anything
    $("token").value = "";
    show_error("");
    logged_in();
  } catch (err) {
    sessionStorage.removeItem(token_key);
    show_error(err.status === 401 ? "Your token was refused: " + err.message : err.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout(""));
  window.addEventListener("hashchange", () => { show_notice(""); render(false); });
  if (token()) logged_in();
  else logout("");
});

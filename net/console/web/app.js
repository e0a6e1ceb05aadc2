// endure's console page (index.html loads this module; the others are
// dom.js, api.js, views.js, decide.js): plain JavaScript, no framework,
// nothing fetched from anywhere but this server. This file routes the
// location's hash to a view, logs in and out, and keeps the view current:
// live updates come from GET /api/v1/events read with fetch (EventSource
// cannot send the Authorization header); while the stream is down the
// current view is refetched every few seconds instead, and the stream is
// retried with backoff.
import {$, el, show_error, show_notice} from "./dom.js";
import {api, token, token_key} from "./api.js";
import {views} from "./views.js";

const poll_ms = 3000;          // refetch period while the stream is down
const max_backoff_ms = 8000;   // reconnect attempts never wait longer

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
  const view = Object.hasOwn(views, r.name) ? views[r.name] : views.inbox;
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

// -- live updates --------------------------------------------------------------

let stream_up = false;
let stream_abort = null;
let poll_timer = null;
let refresh_timer = null;
/// Counts the loops of follow_events(): one that finds it changed after an
/// await belongs to an earlier login or view and ends (one stream per tab).
let generation = 0;
/// The events URL the current loop reads.
let stream_url = "";

/// The events this view needs: a run's timeline asks for that run's step
/// events too; every other view only for run and request events (the
/// server sends step events only to streams that ask: they are most of a
/// busy runtime's events).
function events_url() {
  const r = route();
  return r.name === "runs" && r.arg ? "/api/v1/events?run=" + encodeURIComponent(r.arg)
                                    : "/api/v1/events";
}

/// Starts a new loop of follow_events(), ending the one before.
function restart_events() {
  if (stream_abort) stream_abort.abort();
  follow_events(++generation);
}

/// After a change of view: a new stream if the view needs other events.
function follow_view() {
  if (token() && stream_url && events_url() !== stream_url) restart_events();
}

/// The indicator: "live" (the event stream is open), "polling" (the server
/// answers but has no stream), "reconnecting" (the server is unreachable).
function mark_live(state) {
  const live = $("live");
  live.textContent = state;
  live.className = "indicator " + (state === "live" ? "up" : "down");
}

/// An event is a hint to refetch (the REST routes are the truth): bursts
/// of events become one refresh, at most 200 ms after the burst's first
/// event. A throttle, not a debounce: the server sends a batch every 50 ms
/// while runs step, so a timer restarted on each would never fire.
function refresh_soon() {
  if (refresh_timer) return;
  refresh_timer = setTimeout(() => { refresh_timer = null; render(true); }, 200);
}

function start_polling() {
  if (poll_timer) return;
  poll_timer = setInterval(() => render(true), poll_ms);
}

function stop_polling() {
  clearInterval(poll_timer);
  poll_timer = null;
}

function stop_refresh() {
  clearTimeout(refresh_timer);
  refresh_timer = null;
}

/// Reads GET /api/v1/events until it ends, then tries again with backoff;
/// ends when the login it was started for (`mine`) is over.
async function follow_events(mine) {
  let backoff = 500;
  const current = () => mine === generation && token();
  while (current()) {
    stream_abort = new AbortController();
    stream_url = events_url();
    let state = "reconnecting";
    try {
      const res = await fetch(stream_url, {
        headers: {Authorization: "Bearer " + token(), Accept: "text/event-stream"},
        cache: "no-store", credentials: "omit", signal: stream_abort.signal});
      if (!current()) return;
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
    if (!current()) return;
    stream_up = false;
    mark_live(state);
    start_polling();
    render(true);
    await new Promise((done) => setTimeout(done, backoff));  // `while` checks current()
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
  generation++;
  sessionStorage.removeItem(token_key);
  if (stream_abort) stream_abort.abort();
  stream_url = "";
  stop_polling();
  stop_refresh();
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
  restart_events();
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
  window.addEventListener("hashchange", () => { show_notice(""); render(false); follow_view(); });
  window.addEventListener("endure:changed", () => render(true));
  window.addEventListener("endure:unauthorized", (e) => logout(e.detail));
  if (token()) logged_in();
  else logout("");
});

// DOM helpers of the console page: elements built with DOM calls (never
// innerHTML: what the API returns is data, written by agents and people,
// and is never parsed as markup), dates, links, the error and notice bars.
export const $ = (id) => document.getElementById(id);


/// el("a", {href: "#/x", class: "c"}, "text", child, ...): a new element.
export function el(tag, attrs, ...children) {
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

export function when(ms) {
  if (!ms) return "";
  return new Date(ms).toLocaleString();
}

export function ago(ms) {
  if (!ms) return "";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  if (s < 86400) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
}

export const pretty = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));
export const request_link = (id) => el("a", {href: "#/requests/" + encodeURIComponent(id)}, id);
export const run_link = (id) => el("a", {href: "#/runs/" + encodeURIComponent(id)}, id);
export const status_badge = (s) => el("span", {class: "status " + s}, s);

export function show_error(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
  if (message) show_notice("");
}

/// What an action did ("Sent: approve"), above the view: the view itself
/// is rebuilt from the API's answer right after.
export function show_notice(message) {
  const box = $("notice");
  box.textContent = message || "";
  box.hidden = !message;
}

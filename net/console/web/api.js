// The console's API as the page calls it: the token from this tab's
// sessionStorage, sent only as `Authorization: Bearer` (no cookies, so no
// cross-site request can act as the user); an answer that is not a success
// throws api_error with the API's own message. A refused token is announced
// as the window event "endure:unauthorized" (app.js logs out).
export const token_key = "endure.token";
export const token = () => sessionStorage.getItem(token_key);

export class api_error extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/// The JSON answer of METHOD path; throws api_error with the API's message.
export async function api(method, path, body) {
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
  if (res.status === 401)
    window.dispatchEvent(new CustomEvent("endure:unauthorized", {
      detail: "Your token was refused: " + (data ? data.message : "")}));
  throw new api_error(res.status, data && data.message
    ? data.message : "HTTP " + res.status + " from " + method + " /api/v1/" + path);
}
